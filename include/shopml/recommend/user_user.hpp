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
// save/load/to_bytes/load_bytes write one safetensors file (saved_similarity.hpp) holding
// both matrices, "similarity.*" (users × users) and "user_items.*" (users × items), and the
// options; loading checks they agree (square over the same users, rows within K, finite
// non-negative interaction values) and throws parse_error naming the file otherwise.

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/safetensors_metadata.hpp"
#include "shopml/recommend/interactions.hpp"
#include "shopml/recommend/item_item.hpp"
#include "shopml/recommend/saved_similarity.hpp"
#include "shopml/recommend/similarity.hpp"

namespace shopml::recommend {

class user_user_recommender {
 public:
  explicit user_user_recommender(similarity_options options = {}, int threads = 0) : options_(options), threads_(threads) {
    options_.validate();
  }

  // `fit`: as item_item_recommender::fit (road, progress; threads 0 = the object's setting).
  user_user_recommender& fit(const csr_matrix& user_items, knn_options fit = {}) {
    if (fit.threads <= 0) fit.threads = threads_;
    user_items_ = user_items;
    user_items_.makeCompressed();
    const csr_matrix items_users = user_items_.transpose();
    similarity_ = item_similarity(items_users, options_, fit);
    return *this;
  }
  // Another matrix type: converted when it is a sparse matrix of doubles, refused at
  // compile time with a message saying what to pass otherwise.
  template <class M>
  requires(!std::same_as<M, csr_matrix>) user_user_recommender& fit(const M& user_items) {
    return fit(detail::as_user_items(user_items));
  }

  const similarity_options& options() const { return options_; }
  std::int32_t n_users() const { return static_cast<std::int32_t>(user_items_.rows()); }
  std::int32_t n_items() const { return static_cast<std::int32_t>(user_items_.cols()); }
  // users × items, the training interactions recommendations are scored from.
  const csr_matrix& user_items() const { return user_items_; }
  // users × users, row u = u's kept neighbours (u itself included when kept).
  const csr_matrix& similarity() const { return similarity_; }

  // u's kept neighbours other than u, best first (descending score, ties by descending index).
  std::vector<scored> similar_users(std::int32_t user, std::int32_t N = 10) const {
    detail::check_row(user, n_users(), "similar_users: user");
    if (N < 1) throw value_error("similar_users: N must be >= 1, got " + std::to_string(N));
    std::vector<scored> out;
    for (const scored& s : neighbours_of(user)) out.push_back(s);
    std::sort(out.begin(), out.end(),
              [](const scored& a, const scored& b) { return a.score != b.score ? a.score > b.score : a.index > b.index; });
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

  void save(const std::filesystem::path& path) const {
    save_similarity(path, kind, {{"similarity", similarity_}, {"user_items", user_items_}}, options_metadata(options_));
  }
  static user_user_recommender load(const std::filesystem::path& path) {
    return from_saved(read_similarity(io::safetensors_file::open(path), kind, {"similarity", "user_items"}));
  }
  static user_user_recommender load_bytes(std::span<const std::byte> bytes) {
    return from_saved(read_similarity(io::safetensors_file::from_bytes(bytes, "<user_user_recommender bytes>"), kind,
                                      {"similarity", "user_items"}));
  }
  std::vector<std::byte> to_bytes() const {
    return similarity_bytes(kind, {{"similarity", similarity_}, {"user_items", user_items_}}, options_metadata(options_));
  }

  static constexpr const char* kind = "shopml.user_user_recommender";

 private:
  static user_user_recommender from_saved(saved_similarity saved) {
    user_user_recommender model(saved.options());
    csr_matrix& similarity = saved.matrices[0];
    csr_matrix& user_items = saved.matrices[1];
    saved.check_similarity(similarity, user_items.rows(), model.options_.K, "user similarity");
    for (std::int32_t u = 0; u < user_items.rows(); ++u)
      for (csr_matrix::InnerIterator it(user_items, u); it; ++it)
        if (it.value() < 0.0)  // finite already checked
          saved.fail("'user_items' row " + std::to_string(u) + ", item " + std::to_string(it.index()) + ": value " +
                     io::number_text(it.value()) + " is negative");
    model.similarity_.swap(similarity);  // Eigen 3.4 sparse matrices have no move: std::move would copy
    model.user_items_.swap(user_items);
    return model;
  }

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
