#pragma once
// sklearn.metrics.roc_auc_score: binary, and one-vs-rest multiclass averaged over
// classes ("macro") or by class prevalence ("weighted").
//
// The area is computed as sklearn does: samples sorted by decreasing score (stable),
// one ROC point per distinct score (so tied scores form one diagonal segment, i.e. count
// one half), collinear points dropped, then the trapezoidal rule.

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "shopml/metrics/labels.hpp"

namespace shopml::metrics {

enum class roc_average { macro, weighted };

namespace detail {

// Area under the ROC curve of 0/1 targets `positive` against `score`.
inline double binary_roc_auc(const std::vector<char>& positive, std::span<const double> score,
                             std::span<const double> sample_weight, const char* metric) {
  const std::size_t n = score.size();
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(score[i])) throw value_error(std::string(metric) + ": y_score[" + std::to_string(i) + "] is not finite");
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });

  // Cumulative true and false positives at the last sample of each distinct score.
  std::vector<double> tps{0.0}, fps{0.0};
  double tp = 0.0, fp = 0.0;
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t i = order[r];
    const double w = weight_at(sample_weight, i);
    (positive[i] ? tp : fp) += w;
    if (r + 1 == n || score[order[r + 1]] != score[i]) {
      tps.push_back(tp);
      fps.push_back(fp);
    }
  }
  if (tp <= 0.0 || fp <= 0.0)
    throw value_error(std::string(metric) + ": only one class present in y_true; ROC AUC is not defined in that case");

  // Drop points on a straight line with both neighbours (roc_curve(drop_intermediate=True)).
  std::vector<double> x{0.0}, y{0.0};
  for (std::size_t k = 1; k < tps.size(); ++k) {
    // Entry k is threshold k-1; the first and last thresholds are always kept.
    if (k >= 2 && k + 1 < tps.size()) {
      const double d2f = fps[k + 1] - 2 * fps[k] + fps[k - 1], d2t = tps[k + 1] - 2 * tps[k] + tps[k - 1];
      if (d2f == 0.0 && d2t == 0.0) continue;
    }
    x.push_back(fps[k] / fp);
    y.push_back(tps[k] / tp);
  }
  double area = 0.0;
  for (std::size_t k = 1; k < x.size(); ++k) area += (x[k] - x[k - 1]) * (y[k] + y[k - 1]) / 2.0;
  return area;
}

}  // namespace detail

// Binary ROC AUC; the positive class is the greater of the two labels in y_true.
template <label Label>
double roc_auc_score(std::span<const Label> y_true, std::span<const double> y_score, std::span<const double> sample_weight = {}) {
  detail::check_lengths("roc_auc_score", y_true.size(), y_score.size(), "y_score");
  detail::check_sample_weight("roc_auc_score", y_true.size(), sample_weight);
  const std::vector<Label> classes = unique_labels(y_true);
  if (classes.size() > 2)
    throw value_error("roc_auc_score: y_true has " + std::to_string(classes.size()) +
                      " classes; pass class probabilities for one-vs-rest");
  std::vector<char> positive(y_true.size());
  for (std::size_t i = 0; i < y_true.size(); ++i) positive[i] = classes.size() == 2 && y_true[i] == classes[1];
  return detail::binary_roc_auc(positive, y_score, sample_weight, "roc_auc_score");
}

// One-vs-rest ROC AUC from class probabilities (n × n_classes, rows summing to 1, columns
// in the order of `labels`, by default the sorted labels of y_true).
template <label Label, class Derived>
double roc_auc_score_ovr(std::span<const Label> y_true, const Eigen::MatrixBase<Derived>& y_proba,
                         roc_average avg = roc_average::macro, std::span<const Label> labels = {},
                         std::span<const double> sample_weight = {}) {
  detail::check_lengths("roc_auc_score", y_true.size(), static_cast<std::size_t>(y_proba.rows()), "y_proba");
  detail::check_sample_weight("roc_auc_score", y_true.size(), sample_weight);
  const std::vector<Label> classes = labels.empty() ? unique_labels(y_true) : unique_labels(labels);
  if (static_cast<Eigen::Index>(classes.size()) != y_proba.cols())
    throw shape_error("roc_auc_score: " + std::to_string(classes.size()) + " classes but y_proba has " +
                      std::to_string(y_proba.cols()) + " columns");
  for (Eigen::Index i = 0; i < y_proba.rows(); ++i) {
    const double s = static_cast<double>(y_proba.row(i).sum());
    if (!(std::abs(1.0 - s) <= 1e-8 + 1e-5 * std::abs(s)))  // numpy.allclose(1, s)
      throw value_error("roc_auc_score: target scores need to be probabilities for multiclass roc_auc, i.e. row " +
                        std::to_string(i) + " should sum up to 1.0 over classes");
  }
  std::vector<double> scores, prevalence;
  std::vector<double> column(static_cast<std::size_t>(y_proba.rows()));
  for (std::size_t c = 0; c < classes.size(); ++c) {
    std::vector<char> positive(y_true.size());
    double mass = 0.0;
    for (std::size_t i = 0; i < y_true.size(); ++i) {
      positive[i] = y_true[i] == classes[c];
      if (positive[i]) mass += detail::weight_at(sample_weight, i);
      column[i] = static_cast<double>(y_proba(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)));
    }
    scores.push_back(detail::binary_roc_auc(positive, column, sample_weight, "roc_auc_score"));
    prevalence.push_back(mass);
  }
  double num = 0.0, den = 0.0;
  for (std::size_t c = 0; c < scores.size(); ++c) {
    const double w = avg == roc_average::weighted ? prevalence[c] : 1.0;
    num += w * scores[c];
    den += w;
  }
  return num / den;
}

}  // namespace shopml::metrics
