#pragma once
// The sorted set of labels (sklearn.utils.multiclass.unique_labels, numpy.unique) and the
// position of a label in it, written once for the metrics (metrics/labels.hpp re-exports
// them), model selection (train_test_split) and the heads (logistic_regression::fit).
// Labels are any totally ordered copyable type: integers, std::string, std::string_view, ...

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace shopml::detail {

template <class T>
concept label = std::totally_ordered<T> && std::copyable<T>;

// Sorted union of the labels found in a and b.
template <label Label>
std::vector<Label> unique_labels(std::span<const Label> a, std::span<const Label> b = {}) {
  std::vector<Label> out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Whether `labels` is such a set: sorted, no label twice.
template <label Label>
bool is_label_set(const std::vector<Label>& labels) {
  return std::adjacent_find(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return !(a < b); }) ==
         labels.end();
}

// Position of `value` in the sorted `labels`, or nullopt.
template <label Label>
std::optional<std::size_t> find_label(const std::vector<Label>& labels, const Label& value) {
  const auto it = std::lower_bound(labels.begin(), labels.end(), value);
  if (it == labels.end() || *it != value) return std::nullopt;
  return static_cast<std::size_t>(it - labels.begin());
}

// Position of `value`, known to be one of the sorted `labels`.
template <label Label>
std::size_t label_index(const std::vector<Label>& labels, const Label& value) {
  return static_cast<std::size_t>(std::lower_bound(labels.begin(), labels.end(), value) - labels.begin());
}

}  // namespace shopml::detail
