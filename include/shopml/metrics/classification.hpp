#pragma once
// Label-based classification metrics as sklearn.metrics computes them: accuracy_score,
// precision_recall_fscore_support and precision/recall/f1_score with average=None,
// "binary", "micro", "macro" or "weighted".
//
// zero_division: the value of a ratio whose denominator is 0 (sklearn's default "warn"
// gives 0.0 and warns; pass NaN to leave such classes out of the averages).

#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shopml/metrics/confusion_matrix.hpp"
#include "shopml/metrics/labels.hpp"

namespace shopml::metrics {

// Fraction (or sample-weighted fraction) of exact matches.
template <label Label>
double accuracy_score(std::span<const Label> y_true, std::span<const Label> y_pred, std::span<const double> sample_weight = {}) {
  detail::check_lengths("accuracy_score", y_true.size(), y_pred.size(), "y_pred");
  detail::check_sample_weight("accuracy_score", y_true.size(), sample_weight);
  if (y_true.empty()) throw value_error("accuracy_score: no samples");
  double hits = 0.0, total = 0.0;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const double w = detail::weight_at(sample_weight, i);
    hits += y_true[i] == y_pred[i] ? w : 0.0;
    total += w;
  }
  return hits / total;
}

// Per-label scores, in the order of `labels` (sorted labels of y_true ∪ y_pred by default).
struct per_label_scores {
  std::vector<double> precision, recall, f1, support;
};

enum class average { binary, micro, macro, weighted };

struct averaged_scores {
  double precision = 0.0, recall = 0.0, f1 = 0.0;
};

namespace detail {

inline double divide(double num, double den, double zero_division) { return den == 0.0 ? zero_division : num / den; }

// tp, predicted and true totals per label (sklearn's multilabel_confusion_matrix sums).
struct label_sums {
  std::vector<double> tp, pred, truth;
};

// Counted over every label seen, so that scoring a subset (a binary pos_label) still
// sees the false positives and negatives involving the others.
template <label Label>
label_sums sums(const char* metric, std::span<const Label> y_true, std::span<const Label> y_pred,
                const std::vector<Label>& labels, std::span<const double> sample_weight) {
  detail::check_lengths(metric, y_true.size(), y_pred.size(), "y_pred");
  detail::check_sample_weight(metric, y_true.size(), sample_weight);
  std::vector<Label> all = unique_labels(y_true, y_pred);
  all = unique_labels(std::span<const Label>(all), std::span<const Label>(labels));
  const auto C = confusion_matrix<double, Label>(y_true, y_pred, std::span<const Label>(all), sample_weight);
  label_sums s;
  for (const auto& l : labels) {
    const auto i = static_cast<Eigen::Index>(*find_label(all, l));
    s.tp.push_back(C(i, i));
    s.pred.push_back(C.col(i).sum());
    s.truth.push_back(C.row(i).sum());
  }
  return s;
}

// numpy average that skips NaN entries (sklearn's _nanaverage); weights all zero -> plain mean.
inline double nan_average(const std::vector<double>& values, const std::vector<double>* weights) {
  double num = 0.0, den = 0.0, plain = 0.0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) continue;
    const double w = weights ? (*weights)[i] : 1.0;
    num += w * values[i];
    den += w;
    plain += values[i];
    ++kept;
  }
  if (kept == 0) return std::nan("");
  return den > 0.0 ? num / den : plain / static_cast<double>(kept);
}

}  // namespace detail

template <label Label>
per_label_scores precision_recall_fscore_support(std::span<const Label> y_true, std::span<const Label> y_pred,
                                                 std::span<const Label> labels = {}, double zero_division = 0.0,
                                                 std::span<const double> sample_weight = {}, double beta = 1.0) {
  const std::vector<Label> set = detail::resolve_labels(labels, y_true, y_pred);
  const auto s = detail::sums("precision_recall_fscore_support", y_true, y_pred, set, sample_weight);
  const double beta2 = beta * beta;
  per_label_scores out;
  for (std::size_t c = 0; c < set.size(); ++c) {
    out.precision.push_back(detail::divide(s.tp[c], s.pred[c], zero_division));
    out.recall.push_back(detail::divide(s.tp[c], s.truth[c], zero_division));
    // (1 + b^2) tp / (b^2 (tp + fn) + (tp + fp)), sklearn's form, so 0/0 -> zero_division.
    out.f1.push_back(detail::divide((1.0 + beta2) * s.tp[c], beta2 * s.truth[c] + s.pred[c], zero_division));
    out.support.push_back(s.truth[c]);
  }
  return out;
}

// Averaged precision, recall and F-beta. average::binary scores `pos_label` only (default
// 1 for integer labels; string labels must name it) and needs at most two labels.
template <label Label>
averaged_scores precision_recall_fscore(std::span<const Label> y_true, std::span<const Label> y_pred,
                                        average avg = average::binary, std::optional<Label> pos_label = std::nullopt,
                                        double zero_division = 0.0, std::span<const double> sample_weight = {},
                                        double beta = 1.0) {
  std::vector<Label> set = unique_labels(y_true, y_pred);
  if (avg == average::binary) {
    if (set.size() > 2)
      throw value_error("precision_recall_fscore: average=binary but the target is multiclass (" + std::to_string(set.size()) +
                        " labels); choose micro, macro or weighted");
    if (!pos_label) {
      if constexpr (std::integral<Label>)
        pos_label = Label{1};
      else
        throw value_error("precision_recall_fscore: average=binary needs pos_label for non-integer labels");
    }
    if (set.size() == 2 && !detail::find_label(set, *pos_label))
      throw value_error("precision_recall_fscore: pos_label is not a valid label");
    const std::vector<Label> one{*pos_label};
    const auto s =
        precision_recall_fscore_support(y_true, y_pred, std::span<const Label>(one), zero_division, sample_weight, beta);
    return {s.precision[0], s.recall[0], s.f1[0]};
  }
  if (avg == average::micro) {
    const auto s = detail::sums("precision_recall_fscore", y_true, y_pred, set, sample_weight);
    double tp = 0.0, pred = 0.0, truth = 0.0;
    for (std::size_t c = 0; c < set.size(); ++c) {
      tp += s.tp[c];
      pred += s.pred[c];
      truth += s.truth[c];
    }
    const double beta2 = beta * beta;
    return {detail::divide(tp, pred, zero_division), detail::divide(tp, truth, zero_division),
            detail::divide((1.0 + beta2) * tp, beta2 * truth + pred, zero_division)};
  }
  const auto s = precision_recall_fscore_support(y_true, y_pred, std::span<const Label>(set), zero_division, sample_weight, beta);
  const std::vector<double>* w = avg == average::weighted ? &s.support : nullptr;
  return {detail::nan_average(s.precision, w), detail::nan_average(s.recall, w), detail::nan_average(s.f1, w)};
}

template <label Label>
double precision_score(std::span<const Label> y_true, std::span<const Label> y_pred, average avg = average::binary,
                       std::optional<Label> pos_label = std::nullopt, double zero_division = 0.0) {
  return precision_recall_fscore(y_true, y_pred, avg, pos_label, zero_division).precision;
}

template <label Label>
double recall_score(std::span<const Label> y_true, std::span<const Label> y_pred, average avg = average::binary,
                    std::optional<Label> pos_label = std::nullopt, double zero_division = 0.0) {
  return precision_recall_fscore(y_true, y_pred, avg, pos_label, zero_division).recall;
}

template <label Label>
double f1_score(std::span<const Label> y_true, std::span<const Label> y_pred, average avg = average::binary,
                std::optional<Label> pos_label = std::nullopt, double zero_division = 0.0) {
  return precision_recall_fscore(y_true, y_pred, avg, pos_label, zero_division).f1;
}

}  // namespace shopml::metrics
