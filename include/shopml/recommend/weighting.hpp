#pragma once
// Re-weighting of a users × items matrix before item-item similarity, exactly as
// implicit 0.7.3 does it (implicit.nearest_neighbours): its functions act on the
// items × users transpose, so "rows" are items and "columns" users:
//
//   normalize_items:  every item vector divided by its L2 norm (CosineRecommender);
//   tfidf_weight:     x -> sqrt(x) * idf(user), idf = log(n_items) - log1p(items of the user),
//                     then normalize_items (TFIDFRecommender);
//   bm25_weight:      x -> x (K1 + 1) / (K1 * length_norm(item) + x) * idf(user),
//                     length_norm = (1 - B) + B * item_sum / mean(item_sum) (BM25Recommender).
//
// Sums run in the order numpy/scipy run them (per item over users ascending; the mean with
// numpy's pairwise summation), so cosine weights are bit-identical to implicit's; TF-IDF and
// BM25 call std::log, which may differ from numpy's log in the last bit (scores then agree to
// ~1e-15 relative, and exact ties, made of identical terms, stay exact).
// Deviation: an item with zero norm stays zero where implicit divides 0 by 0 (NaN); with
// interactions<> no stored item is all zero, so this only concerns hand-made matrices.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/recommend/interactions.hpp"

namespace shopml::recommend {

namespace detail {

// numpy's pairwise summation (np.add.reduce on a contiguous float64 array), operation for
// operation, so np.mean(x) is reproduced to the last bit.
inline double numpy_pairwise_sum(const double* x, std::size_t n) {
  constexpr std::size_t block = 128;
  if (n < 8) {
    double s = -0.0;
    for (std::size_t i = 0; i < n; ++i) s += x[i];
    return s;
  }
  if (n <= block) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = x[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += x[i + j];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) s += x[i];
    return s;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return numpy_pairwise_sum(x, half) + numpy_pairwise_sum(x + half, n - half);
}

// Applies fn(value, user, item) -> new value to every stored entry of a users × items matrix.
template <class Fn>
csr_matrix map_entries(const csr_matrix& user_items, Fn&& fn) {
  csr_matrix out = user_items;
  out.makeCompressed();
  const auto* outer = out.outerIndexPtr();
  const auto* inner = out.innerIndexPtr();
  double* values = out.valuePtr();
  for (std::int32_t u = 0; u < out.rows(); ++u)
    for (std::int32_t p = outer[u]; p < outer[u + 1]; ++p) values[p] = fn(values[p], u, inner[p]);
  return out;
}

// Per item: sum over its users, ascending, of f(value) — the order of np.bincount / coo sum
// over implicit's items × users matrix.
template <class Fn>
std::vector<double> item_sums(const csr_matrix& user_items, Fn&& f) {
  std::vector<double> sums(static_cast<std::size_t>(user_items.cols()), 0.0);
  const auto* outer = user_items.outerIndexPtr();
  const auto* inner = user_items.innerIndexPtr();
  const double* values = user_items.valuePtr();
  for (std::int32_t u = 0; u < user_items.rows(); ++u)
    for (std::int32_t p = outer[u]; p < outer[u + 1]; ++p) sums[static_cast<std::size_t>(inner[p])] += f(values[p]);
  return sums;
}

// idf per user: log(n_items) - log1p(number of stored entries of the user).
inline std::vector<double> user_idf(const csr_matrix& user_items) {
  std::vector<double> idf(static_cast<std::size_t>(user_items.rows()));
  const double log_n = std::log(static_cast<double>(user_items.cols()));
  for (std::int32_t u = 0; u < user_items.rows(); ++u)
    idf[static_cast<std::size_t>(u)] =
        log_n - std::log1p(static_cast<double>(user_items.outerIndexPtr()[u + 1] - user_items.outerIndexPtr()[u]));
  return idf;
}

}  // namespace detail

// implicit.nearest_neighbours.normalize(X.T).T: each item column scaled to unit L2 norm.
inline csr_matrix normalize_items(const csr_matrix& user_items) {
  std::vector<double> norms = detail::item_sums(user_items, [](double x) { return x * x; });
  for (double& n : norms) n = std::sqrt(n);
  return detail::map_entries(user_items, [&](double x, std::int32_t, std::int32_t item) {
    const double n = norms[static_cast<std::size_t>(item)];
    return n == 0.0 ? 0.0 : x / n;
  });
}

// implicit.nearest_neighbours.tfidf_weight(X.T).T (without the normalisation TFIDFRecommender adds).
inline csr_matrix tfidf_weight(const csr_matrix& user_items) {
  const std::vector<double> idf = detail::user_idf(user_items);
  return detail::map_entries(
      user_items, [&](double x, std::int32_t user, std::int32_t) { return std::sqrt(x) * idf[static_cast<std::size_t>(user)]; });
}

// implicit.nearest_neighbours.bm25_weight(X.T, K1, B).T.
inline csr_matrix bm25_weight(const csr_matrix& user_items, double K1 = 100.0, double B = 0.8) {
  const std::vector<double> idf = detail::user_idf(user_items);
  const std::vector<double> row_sums = detail::item_sums(user_items, [](double x) { return x; });
  const double average_length =
      row_sums.empty() ? 0.0
                       : detail::numpy_pairwise_sum(row_sums.data(), row_sums.size()) / static_cast<double>(row_sums.size());
  std::vector<double> length_norm(row_sums.size());
  for (std::size_t i = 0; i < row_sums.size(); ++i) length_norm[i] = (1.0 - B) + B * row_sums[i] / average_length;
  return detail::map_entries(user_items, [&](double x, std::int32_t user, std::int32_t item) {
    return x * (K1 + 1.0) / (K1 * length_norm[static_cast<std::size_t>(item)] + x) * idf[static_cast<std::size_t>(user)];
  });
}

// Entries minus the mean of their user's stored values (adjusted cosine's centring).
inline csr_matrix center_users(const csr_matrix& user_items) {
  std::vector<double> mean(static_cast<std::size_t>(user_items.rows()), 0.0);
  for (std::int32_t u = 0; u < user_items.rows(); ++u) {
    const std::int32_t begin = user_items.outerIndexPtr()[u], end = user_items.outerIndexPtr()[u + 1];
    double s = 0.0;
    for (std::int32_t p = begin; p < end; ++p) s += user_items.valuePtr()[p];
    mean[static_cast<std::size_t>(u)] = end > begin ? s / (end - begin) : 0.0;
  }
  return detail::map_entries(user_items,
                             [&](double x, std::int32_t user, std::int32_t) { return x - mean[static_cast<std::size_t>(user)]; });
}

// Entries minus the mean of their item's stored values (Pearson's centring).
inline csr_matrix center_items(const csr_matrix& user_items) {
  std::vector<double> mean = detail::item_sums(user_items, [](double x) { return x; });
  const std::vector<double> count = detail::item_sums(user_items, [](double) { return 1.0; });
  for (std::size_t i = 0; i < mean.size(); ++i) mean[i] = count[i] > 0 ? mean[i] / count[i] : 0.0;
  return detail::map_entries(user_items,
                             [&](double x, std::int32_t, std::int32_t item) { return x - mean[static_cast<std::size_t>(item)]; });
}

// Every stored value set to 1 (implicit feedback from ratings).
inline csr_matrix binarize(const csr_matrix& user_items) {
  return detail::map_entries(user_items, [](double, std::int32_t, std::int32_t) { return 1.0; });
}

// Each user with more than `max_history` interactions keeps `max_history` of them: those
// with the smallest hash of (user, item), a fixed pseudo-random choice that is unbiased
// across items and the same on every run and thread count. Shorter histories are untouched.
inline csr_matrix limit_history(const csr_matrix& user_items, std::int32_t max_history) {
  if (max_history < 1) throw value_error("limit_history: max_history must be >= 1, got " + std::to_string(max_history));
  if (!user_items.isCompressed()) {
    csr_matrix compressed = user_items;
    compressed.makeCompressed();
    return limit_history(compressed, max_history);
  }
  const auto hash = [](std::uint64_t user, std::uint64_t item) {
    std::uint64_t z = (user << 32 | item) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  std::int64_t total = 0;
  for (std::int32_t u = 0; u < user_items.outerSize(); ++u)
    total += std::min<std::int64_t>(max_history, user_items.outerIndexPtr()[u + 1] - user_items.outerIndexPtr()[u]);
  csr_matrix out(user_items.rows(), user_items.cols());
  out.resizeNonZeros(static_cast<Eigen::Index>(total));
  std::vector<std::pair<std::uint64_t, std::int32_t>> ranked;  // (hash, position in the row)
  std::int32_t at = 0;
  out.outerIndexPtr()[0] = 0;
  for (std::int32_t u = 0; u < user_items.outerSize(); ++u) {
    const std::int32_t begin = user_items.outerIndexPtr()[u], end = user_items.outerIndexPtr()[u + 1];
    ranked.clear();
    for (std::int32_t p = begin; p < end; ++p)
      ranked.emplace_back(hash(static_cast<std::uint64_t>(u), static_cast<std::uint64_t>(user_items.innerIndexPtr()[p])), p);
    if (ranked.size() > static_cast<std::size_t>(max_history)) {
      std::nth_element(ranked.begin(), ranked.begin() + max_history, ranked.end());
      ranked.resize(static_cast<std::size_t>(max_history));
      std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    }
    for (const auto& [h, p] : ranked) {
      out.innerIndexPtr()[at] = user_items.innerIndexPtr()[p];
      out.valuePtr()[at++] = user_items.valuePtr()[p];
    }
    out.outerIndexPtr()[u + 1] = at;
  }
  return out;
}

}  // namespace shopml::recommend
