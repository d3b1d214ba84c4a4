#pragma once
// k-fold cross-validation splits with scikit-learn's semantics (sklearn.model_selection
// KFold and StratifiedKFold), returning row indices like train_test_split.
//
//   model_selection::stratified_kfold cv({.n_splits = 5, .shuffle = true, .seed = 42});
//   for (const auto& [train, test] : cv.split(labels)) {   // any contiguous range of labels
//     auto X_train = model_selection::take_rows(X, train);
//     ...
//   }
//
// kfold: fold i's test part is a block of consecutive rows (of a shuffled order when
// shuffle is on); the first n % n_splits folds hold n / n_splits + 1 rows, the others
// n / n_splits. stratified_kfold: classes are numbered in order of first appearance;
// each class's rows are dealt to the folds as sklearn deals them (a round robin over
// the labels sorted by that number decides how many of each class every fold gets),
// in blocks of consecutive rows, or in a shuffled order when shuffle is on. Within
// every split both parts list their indices in increasing order, as sklearn's do.
//
// Without shuffling the splits are sklearn's, index for index. With shuffling, fold
// sizes and each class's count per fold are still sklearn's (they do not depend on
// the order), but which rows go where does: the random stream is std::mt19937_64(seed)
// with a portable Fisher-Yates shuffle (the same split on every platform and standard
// library), not numpy's. sklearn warns when a class has fewer members than n_splits;
// here such a class is simply absent from some test folds.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/detail/label_range.hpp"
#include "shopml/error.hpp"
#include "shopml/model_selection/train_test_split.hpp"

namespace shopml::model_selection {

struct kfold_options {
  std::size_t n_splits = 5;  // >= 2
  bool shuffle = false;      // shuffle before cutting into folds (sklearn's shuffle=True)
  std::uint64_t seed = 0;    // random_state; used only when shuffle is on
};

namespace detail {

// A uniform integer in [0, bound) from 64-bit draws, by rejection (no modulo bias), so
// the same on every standard library (std::uniform_int_distribution is not).
inline std::uint64_t below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
  for (;;) {
    const std::uint64_t draw = rng();
    if (draw < limit) return draw % bound;
  }
}

// Fisher-Yates, from the back, with `below`.
template <class T>
void portable_shuffle(std::vector<T>& values, std::mt19937_64& rng) {
  for (std::size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[below(rng, i)]);
}

inline void check_n_splits(const char* who, std::size_t n_splits, std::size_t n_samples) {
  if (n_splits < 2) throw value_error(std::string(who) + ": n_splits must be at least 2, got " + std::to_string(n_splits));
  if (n_splits > n_samples)
    throw value_error(std::string(who) + ": n_splits=" + std::to_string(n_splits) + " is greater than the number of samples, " +
                      std::to_string(n_samples));
}

// The splits from each row's test fold: test = rows of fold i, train = the others, both increasing.
inline std::vector<split_indices> splits_from_folds(const std::vector<std::size_t>& fold_of, std::size_t n_splits) {
  std::vector<split_indices> out(n_splits);
  std::vector<std::size_t> sizes(n_splits, 0);
  for (std::size_t f : fold_of) ++sizes[f];
  for (std::size_t i = 0; i < n_splits; ++i) {
    out[i].test.reserve(sizes[i]);
    out[i].train.reserve(fold_of.size() - sizes[i]);
  }
  for (std::size_t row = 0; row < fold_of.size(); ++row)
    for (std::size_t i = 0; i < n_splits; ++i) (fold_of[row] == i ? out[i].test : out[i].train).push_back(row);
  return out;
}

}  // namespace detail

// sklearn.model_selection.KFold.
class kfold {
 public:
  explicit kfold(kfold_options options = {}) : options_(options) {
    if (options_.n_splits < 2) throw value_error("kfold: n_splits must be at least 2, got " + std::to_string(options_.n_splits));
  }

  std::size_t get_n_splits() const { return options_.n_splits; }
  const kfold_options& options() const { return options_; }

  // The n_splits (train, test) splits of rows 0 .. n_samples-1.
  std::vector<split_indices> split(std::size_t n_samples) const {
    const std::size_t k = options_.n_splits;
    detail::check_n_splits("kfold", k, n_samples);
    std::vector<std::size_t> order(n_samples);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options_.shuffle) {
      std::mt19937_64 rng(options_.seed);
      detail::portable_shuffle(order, rng);
    }
    std::vector<std::size_t> fold_of(n_samples);
    std::size_t at = 0;
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t size = n_samples / k + (i < n_samples % k ? 1 : 0);
      for (std::size_t j = 0; j < size; ++j) fold_of[order[at++]] = i;
    }
    return detail::splits_from_folds(fold_of, k);
  }

  // The same for the rows of a range (labels, texts): only its size is used.
  template <::shopml::detail::contiguous_sized_range R>
  std::vector<split_indices> split(const R& rows) const {
    return split(static_cast<std::size_t>(std::ranges::size(rows)));
  }

 private:
  kfold_options options_;
};

// sklearn.model_selection.StratifiedKFold: every fold keeps each class's share.
class stratified_kfold {
 public:
  explicit stratified_kfold(kfold_options options = {}) : options_(options) {
    if (options_.n_splits < 2)
      throw value_error("stratified_kfold: n_splits must be at least 2, got " + std::to_string(options_.n_splits));
  }

  std::size_t get_n_splits() const { return options_.n_splits; }
  const kfold_options& options() const { return options_; }

  // The n_splits (train, test) splits stratified by `labels` (one per row).
  template <class Label>
  std::vector<split_indices> split(std::span<const Label> labels) const {
    const std::size_t n = labels.size(), k = options_.n_splits;
    detail::check_n_splits("stratified_kfold", k, n);
    // Class numbers in order of first appearance.
    std::map<Label, std::size_t> number;
    std::vector<std::size_t> class_of(n);
    for (std::size_t i = 0; i < n; ++i) class_of[i] = number.try_emplace(labels[i], number.size()).first->second;
    const std::size_t n_classes = number.size();
    std::vector<std::size_t> counts(n_classes, 0);
    for (std::size_t c : class_of) ++counts[c];
    if (*std::max_element(counts.begin(), counts.end()) < k)
      throw value_error("stratified_kfold: n_splits=" + std::to_string(k) +
                        " is greater than the number of members of every class");

    // allocation[f][c]: rows of class c in test fold f. sklearn deals the class numbers,
    // sorted, round robin to the folds: element j of the sorted list goes to fold j % k.
    std::vector<std::vector<std::size_t>> allocation(k, std::vector<std::size_t>(n_classes, 0));
    std::size_t j = 0;
    for (std::size_t c = 0; c < n_classes; ++c)
      for (std::size_t m = 0; m < counts[c]; ++m, ++j) ++allocation[j % k][c];

    std::mt19937_64 rng(options_.seed);
    std::vector<std::vector<std::size_t>> folds_for_class(n_classes);
    for (std::size_t c = 0; c < n_classes; ++c) {
      auto& folds = folds_for_class[c];
      folds.reserve(counts[c]);
      for (std::size_t f = 0; f < k; ++f) folds.insert(folds.end(), allocation[f][c], f);
      if (options_.shuffle) detail::portable_shuffle(folds, rng);
    }
    std::vector<std::size_t> fold_of(n), next(n_classes, 0);
    for (std::size_t i = 0; i < n; ++i) fold_of[i] = folds_for_class[class_of[i]][next[class_of[i]]++];
    return detail::splits_from_folds(fold_of, k);
  }

  // The same for any contiguous range of labels: std::vector, std::array, std::span, of
  // integers, std::string, std::string_view or C strings.
  template <::shopml::detail::contiguous_sized_range R>
  requires(!::shopml::detail::is_span<R>) std::vector<split_indices> split(const R& labels)
  const {
    const auto values = ::shopml::detail::label_storage(labels);
    return split(std::span<const ::shopml::detail::label_of<R>>(values));
  }

 private:
  kfold_options options_;
};

}  // namespace shopml::model_selection
