#pragma once
// The user-based variant: users are similar when they interacted with the same items (the
// measures of similarity.hpp applied to the items × users transpose: "cosine" normalises
// each user's vector, TF-IDF/BM25 weight by item popularity), and a user is recommended what
// their K nearest users interacted with:
//
//   score(u, j) = sum over u's kept neighbours v != u of similarity(u, v) * value(v, j)
//
// filtering, ordering, padding and bad-input behaviour as item_item_recommender. The model
// keeps the training interactions it scores from, so it recommends to the users it was
// fitted on (rows of that matrix); recommend and similar_users are const and thread-safe.

#include <cstdint>
#include <span>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/recommend/interactions.hpp"
#include "shopml/recommend/item_item.hpp"
#include "shopml/recommend/similarity.hpp"

namespace shopml::recommend {

class user_user_recommender {
 public:
  explicit user_user_recommender(similarity_options options = {}, int threads = 0) : options_(options), threads_(threads) {
    options_.validate();
  }

  user_user_recommender& fit(const csr_matrix& user_items) {
    user_items_ = user_items;
    user_items_.makeCompressed();
    const csr_matrix items_users = user_items_.transpose();
    similarity_ = item_similarity(items_users, options_, threads_);
    return *this;
  }

  std::int32_t n_users() const { return static_cast<std::int32_t>(user_items_.rows()); }
  std::int32_t n_items() const { return static_cast<std::int32_t>(user_items_.cols()); }
  // users × users, row u = u's kept neighbours (u itself included when kept).
  const csr_matrix& similarity() const { return similarity_; }

  // u's kept neighbours other than u, best first (descending score, ties by descending index).
  std::vector<scored> similar_users(std::int32_t user, std::int32_t N = 10) const {
    detail::check_row(user, n_users(), "similar_users: user");
    if (N < 1) throw value_error("similar_users: N must be >= 1, got " + std::to_string(N));
    std::vector<scored> out;
    for (const scored& s : neighbours_of(user)) out.push_back(s);
    std::sort(out.begin(), out.end(), [](const scored& a, const scored& b) {
      return a.score != b.score ? a.score > b.score : a.index > b.index;
    });
    if (out.size() > static_cast<std::size_t>(N)) out.resize(static_cast<std::size_t>(N));
    return out;
  }

  std::vector<scored> recommend(std::int32_t user, const recommend_options& options = {}) const {
    detail::check_row(user, n_users(), "recommend: user");
    detail::sparse_accumulator<> acc(n_items());
    return score(user, options, acc);
  }

  recommendation_batch recommend(std::span<const std::int32_t> users, const recommend_options& options = {},
                                 int threads = 0) const {
    for (std::int32_t u : users) detail::check_row(u, n_users(), "recommend: user");
    return detail::batch_of(users.size(), options.N, n_items(), threads > 0 ? threads : threads_,
                            [&](std::size_t r, detail::sparse_accumulator<>& acc) { return score(users[r], options, acc); });
  }

 private:
  std::vector<scored> neighbours_of(std::int32_t user) const {
    std::vector<scored> out;
    for (csr_matrix::InnerIterator it(similarity_, user); it; ++it)
      if (it.index() != user) out.push_back({static_cast<std::int32_t>(it.index()), it.value()});
    return out;
  }

  std::vector<scored> score(std::int32_t user, const recommend_options& options, detail::sparse_accumulator<>& acc) const {
    std::vector<std::int32_t> sources;
    std::vector<double> weights;
    for (const scored& s : neighbours_of(user)) {
      sources.push_back(s.index);
      weights.push_back(s.score);
    }
    const auto own = detail::row_of(user_items_, user).first;
    return detail::score_neighbours(user_items_, sources, weights, own, options, acc);
  }

  similarity_options options_;
  int threads_ = 0;
  csr_matrix user_items_;
  csr_matrix similarity_;
};

}  // namespace shopml::recommend
