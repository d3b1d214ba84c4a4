#pragma once
// sklearn.metrics.log_loss (1.9): mean (or sample-weighted mean) of -log p[true class],
// probabilities clipped to [eps, 1 - eps] with eps the machine epsilon of their scalar
// type (not renormalised); a single probability column is read as P(labels[1]).

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "shopml/metrics/labels.hpp"

namespace shopml::metrics {

// y_proba: n × n_labels (columns in the order of `labels`, by default the sorted labels of
// y_true) or n × 1 for two labels.
template <label Label, class Derived>
double log_loss(std::span<const Label> y_true, const Eigen::MatrixBase<Derived>& y_proba, std::span<const Label> labels = {},
                std::span<const double> sample_weight = {}) {
  using Scalar = typename Derived::Scalar;
  detail::check_lengths("log_loss", y_true.size(), static_cast<std::size_t>(y_proba.rows()), "y_proba");
  detail::check_sample_weight("log_loss", y_true.size(), sample_weight);
  if (y_true.empty()) throw value_error("log_loss: no samples");
  const std::vector<Label> classes = labels.empty() ? unique_labels(y_true) : unique_labels(labels);
  if (classes.size() < 2)
    throw value_error(labels.empty() ? "log_loss: y_true contains only one label; pass all expected labels through `labels`"
                                     : "log_loss: `labels` needs at least two labels");
  const bool single_column = y_proba.cols() == 1 && classes.size() == 2;
  if (!single_column && static_cast<std::size_t>(y_proba.cols()) != classes.size())
    throw shape_error("log_loss: " + std::to_string(classes.size()) + " labels but y_proba has " +
                      std::to_string(y_proba.cols()) + " columns");
  if (y_proba.size() > 0 && (!(y_proba.maxCoeff() <= Scalar(1)) || !(y_proba.minCoeff() >= Scalar(0))))
    throw value_error("log_loss: y_proba values must lie in [0, 1]");

  const double eps = std::numeric_limits<Scalar>::epsilon();
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const auto c = detail::find_label(classes, y_true[i]);
    if (!c) throw value_error("log_loss: y_true[" + std::to_string(i) + "] is not one of the labels");
    const auto row = static_cast<Eigen::Index>(i);
    double p =
        single_column ? static_cast<double>(y_proba(row, 0)) : static_cast<double>(y_proba(row, static_cast<Eigen::Index>(*c)));
    if (single_column && *c == 0) p = 1.0 - p;
    p = std::clamp(p, eps, 1.0 - eps);
    const double w = detail::weight_at(sample_weight, i);
    num += -std::log(p) * w;
    den += w;
  }
  return num / den;
}

}  // namespace shopml::metrics
