#pragma once
// Item-item similarity measures over a users × items matrix, each kept to its K best
// neighbours per item:
//
//   dot              sum_u x_ui x_uj on the matrix as given (implicit's ItemItemRecommender)
//   cosine           dot of L2-normalised item vectors (implicit's CosineRecommender)
//   tfidf            cosine after TF-IDF weighting (implicit's TFIDFRecommender)
//   bm25             dot after BM25 weighting, parameters K1 and B (implicit's BM25Recommender)
//   adjusted_cosine  cosine after subtracting each user's mean from their values
//   pearson          cosine after subtracting each item's mean from its values (over the
//                    item's stored entries; the norms run over all of each item's users)
//   jaccard          |U_i ∩ U_j| / |U_i ∪ U_j| on the user sets (values ignored)
//
// `shrinkage` λ > 0 multiplies a score by c / (c + λ), c the number of users the two items
// share, damping similarities resting on few co-ratings. The first four with shrinkage 0
// reproduce implicit 0.7.3 bit for bit (see neighbours.hpp). `max_history` caps the length
// of a user's history before weighting (off by default).

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "shopml/error.hpp"
#include "shopml/recommend/interactions.hpp"
#include "shopml/recommend/neighbours.hpp"
#include "shopml/recommend/weighting.hpp"

namespace shopml::recommend {

enum class similarity_measure { dot, cosine, tfidf, bm25, adjusted_cosine, pearson, jaccard };

inline std::string_view to_string(similarity_measure m) {
  constexpr std::string_view names[] = {"dot", "cosine", "tfidf", "bm25", "adjusted_cosine", "pearson", "jaccard"};
  return names[static_cast<int>(m)];
}

inline similarity_measure similarity_measure_from_string(std::string_view name) {
  for (int m = 0; m <= static_cast<int>(similarity_measure::jaccard); ++m)
    if (to_string(static_cast<similarity_measure>(m)) == name) return static_cast<similarity_measure>(m);
  throw value_error("unknown similarity measure '" + std::string(name) + "'");
}

struct similarity_options {
  similarity_measure measure = similarity_measure::cosine;
  std::int32_t K = 20;     // neighbours kept per item (implicit's default)
  double K1 = 1.2;         // BM25 term-frequency saturation (BM25Recommender's default)
  double B = 0.75;         // BM25 length normalisation (BM25Recommender's default)
  double shrinkage = 0.0;  // λ of c / (c + λ); 0 = none
  // Users with more interactions keep this many of them (limit_history; for user-user
  // models, the rows capped are the items'), so that a few very
  // long histories, whose cost grows with their length squared, do not dominate a large
  // fit; 0 = keep all (the default, and what implicit does).
  std::int32_t max_history = 0;

  void validate() const {
    if (K < 1) throw value_error("similarity_options: K must be >= 1, got " + std::to_string(K));
    if (!(shrinkage >= 0.0) || !std::isfinite(shrinkage))
      throw value_error("similarity_options: shrinkage must be finite and >= 0, got " + std::to_string(shrinkage));
    if (max_history < 0)
      throw value_error("similarity_options: max_history must be >= 0 (0 = no cap), got " + std::to_string(max_history));
    if (!std::isfinite(K1) || !std::isfinite(B) || K1 < 0.0 || B < 0.0 || B > 1.0)
      throw value_error("similarity_options: BM25 needs K1 >= 0 and 0 <= B <= 1, got K1=" + std::to_string(K1) +
                        " B=" + std::to_string(B));
  }
};

// The matrix whose item-item dot products the measure ranks.
inline csr_matrix weighted_for(const csr_matrix& user_items, const similarity_options& options) {
  switch (options.measure) {
    case similarity_measure::dot:
      return user_items;
    case similarity_measure::cosine:
      return normalize_items(user_items);
    case similarity_measure::tfidf:
      return normalize_items(tfidf_weight(user_items));
    case similarity_measure::bm25:
      return bm25_weight(user_items, options.K1, options.B);
    case similarity_measure::adjusted_cosine:
      return normalize_items(center_users(user_items));
    case similarity_measure::pearson:
      return normalize_items(center_items(user_items));
    case similarity_measure::jaccard:
      return binarize(user_items);
  }
  throw value_error("unknown similarity measure");
}

// items × items: row i holds i's K most similar items (itself included when among them).
// `fit` sets the threads, forces the dense or sparse road of all_pairs_knn, and reports progress.
// A non-finite interaction value throws value_error naming the user and item.
inline csr_matrix item_similarity(const csr_matrix& user_items, const similarity_options& options, const knn_options& fit) {
  options.validate();
  for (std::int32_t u = 0; u < user_items.outerSize(); ++u)
    for (csr_matrix::InnerIterator it(user_items, u); it; ++it)
      if (!std::isfinite(it.value()))
        throw value_error("item_similarity: value " + std::to_string(it.value()) + " of user " + std::to_string(u) + ", item " +
                          std::to_string(it.index()) + " is not finite");
  const csr_matrix weighted = options.max_history > 0 ? weighted_for(limit_history(user_items, options.max_history), options)
                                                      : weighted_for(user_items, options);
  const double lambda = options.shrinkage;
  if (options.measure == similarity_measure::jaccard) {
    std::vector<std::int32_t> users_of(static_cast<std::size_t>(weighted.cols()), 0);
    for (std::int32_t p = 0; p < weighted.nonZeros(); ++p) ++users_of[static_cast<std::size_t>(weighted.innerIndexPtr()[p])];
    return all_pairs_knn<true>(weighted, options.K, fit, [&](std::int32_t i, std::int32_t j, double, std::int32_t c) {
      const double jac =
          c / static_cast<double>(users_of[static_cast<std::size_t>(i)] + users_of[static_cast<std::size_t>(j)] - c);
      return lambda > 0.0 ? jac * c / (c + lambda) : jac;
    });
  }
  if (lambda > 0.0)
    return all_pairs_knn<true>(weighted, options.K, fit,
                               [&](std::int32_t, std::int32_t, double s, std::int32_t c) { return s * c / (c + lambda); });
  return all_pairs_knn(weighted, options.K, fit);
}

inline csr_matrix item_similarity(const csr_matrix& user_items, const similarity_options& options, int threads = 0) {
  return item_similarity(user_items, options, knn_options{.threads = threads});
}

}  // namespace shopml::recommend
