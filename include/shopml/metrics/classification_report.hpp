#pragma once
// sklearn.metrics.classification_report, character for character: per-label precision,
// recall, F1 and support, then the accuracy, macro avg and weighted avg rows, right-
// aligned in columns as Python's str.format pads them (by code points, so UTF-8 labels
// line up as in Python).

#include <algorithm>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shopml/detail/label_range.hpp"
#include "shopml/metrics/classification.hpp"
#include "shopml/texts.hpp"

namespace shopml::metrics {

namespace detail {

inline std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// "{:>{width}}" for a string.
inline std::string pad_left(std::string_view s, std::size_t width) {
  const std::size_t n = code_points(s);
  return std::string(n < width ? width - n : 0, ' ') + std::string(s);
}

// "{:>9.{digits}f}"
inline std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return pad_left(buf, 9);
}

// "{:>9}" of a support count (an integer without sample weights).
inline std::string count(double v) { return pad_left(std::to_string(static_cast<long long>(v)), 9); }

template <label Label>
std::string label_name(const Label& l) {
  if constexpr (std::is_constructible_v<std::string, const Label&>)
    return std::string(l);
  else
    return std::to_string(l);
}

}  // namespace detail

// Labels are the sorted labels of y_true ∪ y_pred; target_names (same count) replace them.
template <label Label>
std::string classification_report(std::span<const Label> y_true, std::span<const Label> y_pred, texts_view target_names = {},
                                  int digits = 2, double zero_division = 0.0) {
  if (y_true.empty()) throw value_error("classification_report: no samples");
  if (digits < 0 || digits > 17) throw value_error("classification_report: digits must be in [0, 17]");
  const std::vector<Label> labels = unique_labels(y_true, y_pred);
  std::vector<std::string> names;
  if (target_names.empty()) {
    for (const auto& l : labels) names.push_back(detail::label_name(l));
  } else {
    if (target_names.size() != labels.size())
      throw value_error("classification_report: number of classes, " + std::to_string(labels.size()) +
                        ", does not match size of target_names, " + std::to_string(target_names.size()));
    for (std::string_view n : target_names) names.emplace_back(n);
  }
  const auto per = precision_recall_fscore_support(y_true, y_pred, std::span<const Label>(labels), zero_division);

  std::size_t width = std::max<std::size_t>(std::string_view("weighted avg").size(), static_cast<std::size_t>(digits));
  for (const auto& n : names) width = std::max(width, detail::code_points(n));

  std::string out = detail::pad_left("", width) + " ";
  for (const char* h : {"precision", "recall", "f1-score", "support"}) out += " " + detail::pad_left(h, 9);
  out += "\n\n";
  double total = 0.0;
  for (std::size_t c = 0; c < labels.size(); ++c) {
    out += detail::pad_left(names[c], width) + " " + " " + detail::fixed(per.precision[c], digits) + " " +
           detail::fixed(per.recall[c], digits) + " " + detail::fixed(per.f1[c], digits) + " " + detail::count(per.support[c]) +
           "\n";
    total += per.support[c];
  }
  out += "\n";
  const double accuracy = precision_recall_fscore(y_true, y_pred, average::micro, std::optional<Label>{}, zero_division).f1;
  out += detail::pad_left("accuracy", width) + " " + " " + detail::pad_left("", 9) + " " + detail::pad_left("", 9) + " " +
         detail::fixed(accuracy, digits) + " " + detail::count(total) + "\n";
  for (const auto& [name, avg] : {std::pair{"macro avg", average::macro}, std::pair{"weighted avg", average::weighted}}) {
    const auto a = precision_recall_fscore(y_true, y_pred, avg, std::optional<Label>{}, zero_division);
    out += detail::pad_left(name, width) + " " + " " + detail::fixed(a.precision, digits) + " " +
           detail::fixed(a.recall, digits) + " " + detail::fixed(a.f1, digits) + " " + detail::count(total) + "\n";
  }
  return out;
}

// The same for any contiguous ranges of labels (std::vector, std::array, of integers,
// std::string, std::string_view or C strings), y_true and y_pred of one label type.
template <::shopml::detail::contiguous_sized_range R1, ::shopml::detail::contiguous_sized_range R2>
requires(!(::shopml::detail::is_span<R1> && ::shopml::detail::is_span<R2>)) std::string
    classification_report(const R1& y_true, const R2& y_pred, texts_view target_names = {}, int digits = 2,
                          double zero_division = 0.0) {
  using Label = ::shopml::detail::label_of<R1>;
  static_assert(std::is_same_v<Label, ::shopml::detail::label_of<R2>>,
                "shopml::metrics::classification_report: y_true and y_pred must hold the same label type");
  const auto t = ::shopml::detail::label_storage(y_true);
  const auto p = ::shopml::detail::label_storage(y_pred);
  return classification_report(std::span<const Label>(t), std::span<const Label>(p), target_names, digits, zero_division);
}

}  // namespace shopml::metrics
