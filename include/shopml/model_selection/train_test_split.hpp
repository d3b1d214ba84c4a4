#pragma once
// sklearn.model_selection.train_test_split, returning row indices (take_rows / take
// gather the parts). Stratified like sklearn's StratifiedShuffleSplit: per-class train
// and test counts are the "approximate mode" of the multivariate hypergeometric
// distribution (class share × size, floored, the remainder handed to the classes with
// the largest fractional parts, ties broken at random), then each class is shuffled and
// cut. The random stream is std::mt19937_64(seed), not numpy's: the same seed gives the
// same split on every platform, but not sklearn's split.
//
//   auto split = model_selection::train_test_split(labels, 0.25, 42);   // any contiguous range of labels
//   auto X_train = model_selection::take_rows(X, split.train);
//   auto y_train = model_selection::take(labels, split.train);

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <ranges>
#include <span>
#include <string>
#include <vector>

#include "shopml/detail/label_range.hpp"
#include "shopml/detail/label_set.hpp"
#include "shopml/error.hpp"

namespace shopml::model_selection {

struct split_indices {
  std::vector<std::size_t> train, test;
};

namespace detail {

// sklearn: n_test = ceil(test_size * n), n_train = n - n_test; both must be >= 1.
inline std::size_t test_count(std::size_t n, double test_size) {
  if (!(test_size > 0.0 && test_size < 1.0))
    throw value_error("train_test_split: test_size must be in (0, 1), got " + std::to_string(test_size));
  const auto n_test = static_cast<std::size_t>(std::ceil(test_size * static_cast<double>(n)));
  if (n_test == 0 || n_test >= n)
    throw value_error("train_test_split: with " + std::to_string(n) + " samples and test_size=" + std::to_string(test_size) +
                      " the train or test part would be empty");
  return n_test;
}

// sklearn.utils._approximate_mode: `draws` spread over classes in proportion to `counts`.
inline std::vector<std::size_t> approximate_mode(const std::vector<std::size_t>& counts, std::size_t draws,
                                                 std::mt19937_64& rng) {
  const double total = static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::size_t{0}));
  std::vector<double> remainder(counts.size());
  std::vector<std::size_t> out(counts.size());
  std::size_t given = 0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const double share = static_cast<double>(counts[c]) / total * static_cast<double>(draws);
    out[c] = static_cast<std::size_t>(std::floor(share));
    remainder[c] = share - std::floor(share);
    given += out[c];
  }
  std::vector<double> values = remainder;
  std::sort(values.begin(), values.end(), std::greater<>());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  for (double value : values) {
    if (given >= draws) break;
    std::vector<std::size_t> tied;
    for (std::size_t c = 0; c < counts.size(); ++c)
      if (remainder[c] == value) tied.push_back(c);
    std::shuffle(tied.begin(), tied.end(), rng);
    for (std::size_t j = 0; j < tied.size() && given < draws; ++j, ++given) ++out[tied[j]];
  }
  return out;
}

}  // namespace detail

// Plain shuffled split of n rows.
inline split_indices train_test_split(std::size_t n, double test_size = 0.25, std::uint64_t seed = 0) {
  const std::size_t n_test = detail::test_count(n, test_size);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  return {std::vector<std::size_t>(order.begin() + static_cast<std::ptrdiff_t>(n_test), order.end()),
          std::vector<std::size_t>(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_test))};
}

// Split stratified by `labels` (one per row): each class keeps its share in both parts.
template <class Label>
split_indices train_test_split(std::span<const Label> labels, double test_size = 0.25, std::uint64_t seed = 0) {
  const std::size_t n = labels.size();
  const std::size_t n_test = detail::test_count(n, test_size), n_train = n - n_test;
  const std::vector<Label> classes = ::shopml::detail::unique_labels(labels);
  std::vector<std::vector<std::size_t>> members(classes.size());
  for (std::size_t i = 0; i < n; ++i) members[::shopml::detail::label_index(classes, labels[i])].push_back(i);
  std::vector<std::size_t> counts;
  for (const auto& m : members) counts.push_back(m.size());
  if (*std::min_element(counts.begin(), counts.end()) < 2)
    throw value_error("train_test_split: the least populated class has only 1 member, which is too few to stratify");
  if (n_train < classes.size() || n_test < classes.size())
    throw value_error("train_test_split: train (" + std::to_string(n_train) + ") and test (" + std::to_string(n_test) +
                      ") sizes must be at least the number of classes (" + std::to_string(classes.size()) + ")");

  std::mt19937_64 rng(seed);
  const std::vector<std::size_t> train_counts = detail::approximate_mode(counts, n_train, rng);
  std::vector<std::size_t> left(counts.size());
  for (std::size_t c = 0; c < counts.size(); ++c) left[c] = counts[c] - train_counts[c];
  const std::vector<std::size_t> test_counts = detail::approximate_mode(left, n_test, rng);

  split_indices out;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    auto& m = members[c];
    std::shuffle(m.begin(), m.end(), rng);
    out.train.insert(out.train.end(), m.begin(), m.begin() + static_cast<std::ptrdiff_t>(train_counts[c]));
    out.test.insert(out.test.end(), m.begin() + static_cast<std::ptrdiff_t>(train_counts[c]),
                    m.begin() + static_cast<std::ptrdiff_t>(train_counts[c] + test_counts[c]));
  }
  std::shuffle(out.train.begin(), out.train.end(), rng);
  std::shuffle(out.test.begin(), out.test.end(), rng);
  return out;
}

// The same for any contiguous range of labels: std::vector, std::array, std::span, of
// integers, std::string, std::string_view or C strings.
template <::shopml::detail::contiguous_sized_range R>
requires(!::shopml::detail::is_span<R>) split_indices
    train_test_split(const R& labels, double test_size = 0.25, std::uint64_t seed = 0) {
  const auto values = ::shopml::detail::label_storage(labels);
  return train_test_split(std::span<const ::shopml::detail::label_of<R>>(values), test_size, seed);
}

// The rows `index` of X, in that order, as a row-major matrix.
template <class Derived>
Eigen::Matrix<typename Derived::Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> take_rows(
    const Eigen::MatrixBase<Derived>& X, std::span<const std::size_t> index) {
  Eigen::Matrix<typename Derived::Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> out(
      static_cast<Eigen::Index>(index.size()), X.cols());
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (index[i] >= static_cast<std::size_t>(X.rows()))
      throw shape_error("take_rows: index " + std::to_string(index[i]) + " is past the " + std::to_string(X.rows()) + " rows");
    out.row(static_cast<Eigen::Index>(i)) = X.row(static_cast<Eigen::Index>(index[i]));
  }
  return out;
}

// values[index[0]], values[index[1]], ... for any contiguous range of values.
template <::shopml::detail::contiguous_sized_range R>
std::vector<std::ranges::range_value_t<R>> take(const R& values, std::span<const std::size_t> index) {
  std::vector<std::ranges::range_value_t<R>> out;
  out.reserve(index.size());
  for (std::size_t i : index) {
    if (i >= std::ranges::size(values))
      throw shape_error("take: index " + std::to_string(i) + " is past the " + std::to_string(std::ranges::size(values)) +
                        " values");
    out.push_back(std::ranges::data(values)[i]);
  }
  return out;
}

}  // namespace shopml::model_selection
