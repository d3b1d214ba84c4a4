#pragma once
// sklearn.metrics.confusion_matrix: C(i, j) counts (or sums the weights of) the samples
// whose true label is labels[i] and predicted label is labels[j]. Samples whose true or
// predicted label is not in `labels` are ignored, as in sklearn.

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "shopml/metrics/labels.hpp"

namespace shopml::metrics {

// `labels` defaults to unique_labels(y_true, y_pred). Count is std::int64_t for plain
// counts, double for sample-weighted sums.
template <class Count = std::int64_t, label Label>
Eigen::Matrix<Count, Eigen::Dynamic, Eigen::Dynamic> confusion_matrix(std::span<const Label> y_true,
                                                                      std::span<const Label> y_pred,
                                                                      std::span<const Label> labels = {},
                                                                      std::span<const double> sample_weight = {}) {
  detail::check_lengths("confusion_matrix", y_true.size(), y_pred.size(), "y_pred");
  detail::check_sample_weight("confusion_matrix", y_true.size(), sample_weight);
  const std::vector<Label> set = detail::resolve_labels(labels, y_true, y_pred);
  const auto k = static_cast<Eigen::Index>(set.size());
  Eigen::Matrix<Count, Eigen::Dynamic, Eigen::Dynamic> C = Eigen::Matrix<Count, Eigen::Dynamic, Eigen::Dynamic>::Zero(k, k);
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const auto t = detail::find_label(set, y_true[i]);
    const auto p = detail::find_label(set, y_pred[i]);
    if (!t || !p) continue;
    C(static_cast<Eigen::Index>(*t), static_cast<Eigen::Index>(*p)) += static_cast<Count>(detail::weight_at(sample_weight, i));
  }
  return C;
}

}  // namespace shopml::metrics
