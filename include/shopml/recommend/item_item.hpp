#pragma once
// Item-item nearest-neighbour recommenders in the manner of implicit 0.7.3
// (CosineRecommender, TFIDFRecommender, BM25Recommender, ItemItemRecommender):
//
//   auto model = recommend::bm25_recommender(/*K=*/50);   // or cosine_recommender(K), ...
//   model.fit(user_items);                                // users × items csr_matrix
//   model.fit(user_items, {.progress = on_progress});      // any catalogue size: see neighbours.hpp
//   auto similar = model.similar_items(item, 10);
//   auto recs = model.recommend(user, user_items, {.N = 10});
//   auto batch = model.recommend(users, user_items, {.N = 10});   // parallel, padded like implicit
//   model.save("model.safetensors");  auto again = item_item_recommender::load("model.safetensors");
//
// recommend(): score(j) = sum over the user's items i of value(u, i) * similarity(i, j), over
// the neighbours each item kept; the N best are returned, descending by (score, index) as
// implicit does. Like implicit, items already liked get score 0 rather than being removed
// when filter_already_liked_items is set, and only items reached through a neighbour are
// candidates (a user whose items have no neighbours gets an empty list).
// Documented behaviour on bad input: an item index outside the catalogue, a negative or
// non-finite interaction value, N < 1 and a user_items matrix whose width is not the
// catalogue's throw value_error / shape_error naming the offender; N larger than the number
// of candidates returns fewer (the batch form pads with index -1 and score -FLT_MAX, as
// implicit's _batch_call does); a user with no interactions gets an empty list.
// recommend and similar_items are const and thread-safe (scratch space is per call).

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/parallel.hpp"
#include "shopml/recommend/interactions.hpp"
#include "shopml/recommend/neighbours.hpp"
#include "shopml/recommend/recommendation_batch.hpp"
#include "shopml/recommend/saved_similarity.hpp"
#include "shopml/recommend/similarity.hpp"

namespace shopml::recommend {

struct recommend_options {
  std::int32_t N = 10;
  bool filter_already_liked_items = true;
  std::span<const std::int32_t> filter_items{};  // never recommended
  // When non-empty: the only candidates (not with filter_items); those no neighbour reaches
  // come last with missing_score, as implicit appends them. At most N are returned.
  std::span<const std::int32_t> items{};
};

struct similar_items_options {
  std::int32_t N = 10;
  bool include_self = true;  // implicit's behaviour: the item is its own best neighbour
};

namespace detail {

inline void check_row(std::int32_t row, std::int32_t rows, const char* what) {
  if (row < 0 || row >= rows)
    throw value_error(std::string(what) + " " + std::to_string(row) + " is outside 0.." + std::to_string(rows - 1));
}

// A user's interactions as (item indices, values): checked against the catalogue size.
inline void check_liked(std::span<const std::int32_t> liked, std::span<const double> values, std::int32_t n_items) {
  if (liked.size() != values.size())
    throw shape_error("recommend: " + std::to_string(liked.size()) + " items but " + std::to_string(values.size()) + " values");
  for (std::size_t p = 0; p < liked.size(); ++p) {
    check_row(liked[p], n_items, "recommend: liked index");
    if (!std::isfinite(values[p]) || values[p] < 0.0)
      throw value_error("recommend: value " + std::to_string(values[p]) + " for index " + std::to_string(liked[p]) +
                        " is not a finite number >= 0");
  }
}

// implicit's NearestNeighboursScorer.recommend, then the filters: score(j) = sum over p of
// weights[p] * rows(sources[p], j); the `own` items get score 0 when filtering liked items.
// (Item-item: sources = the user's items, weights = their values, own = the same items.
// User-user: sources = similar users, weights = similarities, rows = their interactions.)
inline std::vector<scored> score_neighbours(const csr_matrix& rows, std::span<const std::int32_t> sources,
                                            std::span<const double> weights, std::span<const std::int32_t> own,
                                            const recommend_options& options, sparse_accumulator<>& acc) {
  const std::int32_t n = static_cast<std::int32_t>(rows.cols());
  if (options.N < 1) throw value_error("recommend: N must be >= 1, got " + std::to_string(options.N));
  if (!options.filter_items.empty() && !options.items.empty())
    throw value_error("recommend: give filter_items or items, not both");
  for (std::int32_t i : options.filter_items) check_row(i, n, "recommend: filter_items entry");
  for (std::int32_t i : options.items) check_row(i, n, "recommend: items entry");

  std::size_t k = static_cast<std::size_t>(options.N);
  if (!options.items.empty())
    k = static_cast<std::size_t>(n);
  else
    k += options.filter_items.size();

  const auto* ptr = rows.outerIndexPtr();
  const auto* idx = rows.innerIndexPtr();
  const double* val = rows.valuePtr();
  for (std::size_t p = 0; p < sources.size(); ++p)
    for (std::int32_t q = ptr[sources[p]]; q < ptr[sources[p] + 1]; ++q) acc.add(idx[q], val[q] * weights[p]);
  if (options.filter_already_liked_items)
    for (std::int32_t i : own) acc.zero(i);
  topk_heap top(k);
  acc.drain([&](std::int32_t j, double s, std::int32_t) { top.push(j, s); });
  std::vector<scored> out;
  top.take_sorted(out);

  const auto contains = [](std::span<const std::int32_t> set, std::int32_t i) {
    return std::find(set.begin(), set.end(), i) != set.end();
  };
  if (!options.filter_items.empty()) {
    std::erase_if(out, [&](const scored& s) { return contains(options.filter_items, s.index); });
  } else if (!options.items.empty()) {
    std::erase_if(out, [&](const scored& s) { return !contains(options.items, s.index); });
    for (std::int32_t i : options.items)  // candidates no neighbour reached, ranked last
      if (std::none_of(out.begin(), out.end(), [&](const scored& s) { return s.index == i; })) out.push_back({i, missing_score});
  }
  if (out.size() > static_cast<std::size_t>(options.N)) out.resize(static_cast<std::size_t>(options.N));
  return out;
}

inline void check_user_items(const csr_matrix& user_items, std::int32_t n_items, const char* who) {
  if (user_items.cols() != n_items)
    throw shape_error(std::string(who) + ": user_items has " + std::to_string(user_items.cols()) + " columns, the model knows " +
                      std::to_string(n_items) + " items");
}

// One user's row of a compressed CSR matrix as (indices, values).
inline std::pair<std::span<const std::int32_t>, std::span<const double>> row_of(const csr_matrix& m, std::int32_t row) {
  const auto begin = static_cast<std::size_t>(m.outerIndexPtr()[row]);
  const auto end = static_cast<std::size_t>(m.outerIndexPtr()[row + 1]);
  return {std::span<const std::int32_t>(m.innerIndexPtr() + begin, end - begin),
          std::span<const double>(m.valuePtr() + begin, end - begin)};
}

// Runs one_user(row, accumulator) for every requested row in parallel and packs the results.
template <class OneUser>
recommendation_batch batch_of(std::size_t rows, std::int32_t N, std::int32_t accumulator_size, int threads, OneUser&& one_user) {
  if (N < 1) throw value_error("recommend: N must be >= 1, got " + std::to_string(N));
  recommendation_batch batch;
  batch.N = N;
  batch.ids.assign(rows * static_cast<std::size_t>(N), -1);
  batch.scores.assign(rows * static_cast<std::size_t>(N), missing_score);
  const int n_threads = std::min<int>(num_threads(threads), static_cast<int>(std::max<std::size_t>(rows, 1)));
  std::vector<std::string> failure(static_cast<std::size_t>(n_threads));
  auto work = [&](int t) {
    sparse_accumulator<> acc(accumulator_size);
    for (std::size_t r = static_cast<std::size_t>(t); r < rows; r += static_cast<std::size_t>(n_threads)) {
      try {
        const std::vector<scored> recs = one_user(r, acc);
        for (std::size_t c = 0; c < recs.size(); ++c) {
          batch.ids[r * N + c] = recs[c].index;
          batch.scores[r * N + c] = recs[c].score;
        }
      } catch (const std::exception& e) {
        if (failure[static_cast<std::size_t>(t)].empty()) failure[static_cast<std::size_t>(t)] = e.what();
        return;
      }
    }
  };
  parallel_for(0, n_threads, n_threads, [&](std::ptrdiff_t t) { work(static_cast<int>(t)); });
  for (const auto& f : failure)
    if (!f.empty()) throw value_error("batch recommend: " + f);
  return batch;
}

}  // namespace detail

class item_item_recommender {
 public:
  explicit item_item_recommender(similarity_options options = {}, int threads = 0) : options_(options), threads_(threads) {
    options_.validate();
  }

  // Computes the item-item similarity from a users × items matrix. `fit` may force the
  // dense or sparse road and take a progress callback (neighbours.hpp); its threads = 0
  // means the object's setting.
  item_item_recommender& fit(const csr_matrix& user_items, knn_options fit = {}) {
    if (fit.threads <= 0) fit.threads = threads_;
    similarity_ = item_similarity(user_items, options_, fit);
    return *this;
  }
  // Another matrix type: converted when it is a sparse matrix of doubles, refused at
  // compile time with a message saying what to pass otherwise.
  template <class M>
  requires(!std::same_as<M, csr_matrix>) item_item_recommender& fit(const M& user_items) {
    return fit(detail::as_user_items(user_items));
  }

  const similarity_options& options() const { return options_; }
  // items × items, row i = i's kept neighbours (implicit's model.similarity).
  const csr_matrix& similarity() const { return similarity_; }
  std::int32_t n_items() const { return static_cast<std::int32_t>(similarity_.rows()); }
  int threads() const { return threads_; }
  void set_threads(int threads) { threads_ = threads; }

  // The item's kept neighbours (itself included when kept), best first: descending score,
  // ties by descending index. Fewer than N when fewer were kept.
  std::vector<scored> similar_items(std::int32_t item, std::int32_t N = 10) const {
    return similar_items(item, similar_items_options{.N = N});
  }
  // The same by named options: similar_items(item, {.N = 10, .include_self = false}) leaves
  // the item itself out and returns up to N others.
  std::vector<scored> similar_items(std::int32_t item, const similar_items_options& options) const {
    detail::check_row(item, n_items(), "similar_items: item");
    if (options.N < 1) throw value_error("similar_items: N must be >= 1, got " + std::to_string(options.N));
    std::vector<scored> out;
    for (csr_matrix::InnerIterator it(similarity_, item); it; ++it)
      if (options.include_self || it.index() != item) out.push_back({static_cast<std::int32_t>(it.index()), it.value()});
    std::sort(out.begin(), out.end(),
              [](const scored& a, const scored& b) { return a.score != b.score ? a.score > b.score : a.index > b.index; });
    if (out.size() > static_cast<std::size_t>(options.N)) out.resize(static_cast<std::size_t>(options.N));
    return out;
  }

  // Recommendations for a user given by the items they interacted with (known or new user).
  std::vector<scored> recommend(std::span<const std::int32_t> liked, std::span<const double> values,
                                const recommend_options& options = {}) const {
    detail::check_liked(liked, values, n_items());
    detail::sparse_accumulator<> acc(n_items());
    return detail::score_neighbours(similarity_, liked, values, liked, options, acc);
  }

  // Recommendations for row `user` of a users × items matrix.
  std::vector<scored> recommend(std::int32_t user, const csr_matrix& user_items, const recommend_options& options = {}) const {
    detail::check_user_items(user_items, n_items(), "recommend");
    detail::check_row(user, static_cast<std::int32_t>(user_items.rows()), "recommend: user");
    const auto [liked, values] = detail::row_of(user_items, user);
    return recommend(liked, values, options);
  }

  template <class M>
  requires(!std::same_as<M, csr_matrix>) std::vector<scored> recommend(std::int32_t user, const M& user_items,
                                                                       const recommend_options& options = {})
  const { return recommend(user, detail::as_user_items(user_items), options); }

  // Recommendations for many rows of user_items, in parallel (threads: 0 = the object's setting).
  recommendation_batch recommend(std::span<const std::int32_t> users, const csr_matrix& user_items,
                                 const recommend_options& options = {}, int threads = 0) const {
    detail::check_user_items(user_items, n_items(), "recommend");
    for (std::int32_t u : users) detail::check_row(u, static_cast<std::int32_t>(user_items.rows()), "recommend: user");
    return detail::batch_of(users.size(), options.N, n_items(), threads > 0 ? threads : threads_,
                            [&](std::size_t r, detail::sparse_accumulator<>& acc) {
                              const auto [liked, values] = detail::row_of(user_items, users[r]);
                              detail::check_liked(liked, values, n_items());
                              return detail::score_neighbours(similarity_, liked, values, liked, options, acc);
                            });
  }

  void save(const std::filesystem::path& path) const {
    save_similarity(path, kind, {{"", similarity_}}, options_metadata(options_));
  }

  static item_item_recommender load(const std::filesystem::path& path) {
    return from_saved(read_similarity(io::safetensors_file::open(path), kind));
  }
  static item_item_recommender load_bytes(std::span<const std::byte> bytes) {
    return from_saved(read_similarity(io::safetensors_file::from_bytes(bytes, "<item_item_recommender bytes>"), kind));
  }
  std::vector<std::byte> to_bytes() const { return similarity_bytes(kind, similarity_, options_metadata(options_)); }

  static constexpr const char* kind = "shopml.item_item_recommender";

 private:
  static item_item_recommender from_saved(saved_similarity saved) {
    item_item_recommender model(saved.options());
    csr_matrix& similarity = saved.matrices.front();
    saved.check_similarity(similarity, similarity.rows(), model.options_.K, "item similarity");
    model.similarity_.swap(similarity);  // Eigen 3.4 sparse matrices have no move: std::move would copy
    return model;
  }

  similarity_options options_;
  int threads_ = 0;
  csr_matrix similarity_;
};

// implicit.nearest_neighbours.CosineRecommender(K).
inline item_item_recommender cosine_recommender(std::int32_t K = 20, int threads = 0) {
  return item_item_recommender({.measure = similarity_measure::cosine, .K = K}, threads);
}
// implicit.nearest_neighbours.TFIDFRecommender(K).
inline item_item_recommender tfidf_recommender(std::int32_t K = 20, int threads = 0) {
  return item_item_recommender({.measure = similarity_measure::tfidf, .K = K}, threads);
}
// implicit.nearest_neighbours.BM25Recommender(K, K1, B).
inline item_item_recommender bm25_recommender(std::int32_t K = 20, double K1 = 1.2, double B = 0.75, int threads = 0) {
  return item_item_recommender({.measure = similarity_measure::bm25, .K = K, .K1 = K1, .B = B}, threads);
}

}  // namespace shopml::recommend
