#pragma once
// Label bookkeeping shared by the classification metrics: the sorted label set
// (sklearn.utils.multiclass.unique_labels) and label lookup (both from detail/label_set.hpp,
// which model selection and the heads use too), and input length checks.
// Labels are any totally ordered copyable type: integers, std::string, ...

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shopml/detail/label_set.hpp"
#include "shopml/error.hpp"

namespace shopml::metrics {

// The label set itself is written once, in detail/label_set.hpp.
using ::shopml::detail::label;
using ::shopml::detail::unique_labels;

namespace detail {

using ::shopml::detail::find_label;

// The given labels, sorted and unique, or those found in the data.
template <label Label>
std::vector<Label> resolve_labels(std::span<const Label> given, std::span<const Label> a, std::span<const Label> b) {
  if (given.empty()) return unique_labels(a, b);
  return unique_labels(given);
}

inline void check_lengths(const char* metric, std::size_t n_true, std::size_t n_other, const char* other) {
  if (n_true != n_other)
    throw shape_error(std::string(metric) + ": y_true has " + std::to_string(n_true) + " samples but " + other + " has " +
                      std::to_string(n_other));
}

inline void check_sample_weight(const char* metric, std::size_t n, std::span<const double> sample_weight) {
  if (sample_weight.empty()) return;
  check_lengths(metric, n, sample_weight.size(), "sample_weight");
  for (std::size_t i = 0; i < sample_weight.size(); ++i)
    if (!(sample_weight[i] >= 0.0) || sample_weight[i] == std::numeric_limits<double>::infinity())
      throw value_error(std::string(metric) + ": sample_weight[" + std::to_string(i) + "] must be finite and >= 0");
}

inline double weight_at(std::span<const double> sample_weight, std::size_t i) {
  return sample_weight.empty() ? 1.0 : sample_weight[i];
}

}  // namespace detail
}  // namespace shopml::metrics
