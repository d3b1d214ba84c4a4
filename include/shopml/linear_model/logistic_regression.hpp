#pragma once
// L2-penalised logistic regression, the model of scikit-learn's
// LogisticRegression(solver="lbfgs") (1.9): same objective (logistic_loss.hpp), same
// solver choices (lbfgs.hpp), same attributes.
//
//   linear_model::logistic_regression<float, std::string> clf({.C = 2.0, .class_weight = linear_model::balanced});
//   clf.fit(X, labels);                      // X: n × d (any Eigen matrix; row-major avoids a copy)
//   std::vector<std::string> y = clf.predict(X_test);
//   auto P = clf.predict_proba(X_test);      // n × n_classes, columns in classes() order
//
// Two classes fit one coefficient row (classes()[1] is the positive class); more fit the
// multinomial (softmax) model with one row per class. classes() are sorted like
// numpy.unique. predict, predict_proba and decision_function are const and thread-safe.

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <ranges>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "shopml/detail/label_range.hpp"
#include "shopml/detail/label_set.hpp"
#include "shopml/error.hpp"
#include "shopml/isa.hpp"
#include "shopml/linear_model/lbfgs.hpp"
#include "shopml/linear_model/logistic_loss.hpp"
#include "shopml/log.hpp"
#include "shopml/parallel.hpp"

namespace shopml::linear_model {

// class_weight="balanced": n_samples / (n_classes * bincount(y)), sample-weighted.
struct balanced_t {};
inline constexpr balanced_t balanced{};

// Class labels: integers or strings, as numpy arrays of either kind.
template <class T>
concept class_label = std::integral<T> || std::same_as<T, std::string>;

namespace detail {

template <class Label>
std::string label_text(const Label& label) {
  if constexpr (std::same_as<Label, std::string>)
    return "'" + label + "'";
  else
    return std::to_string(label);
}

// Whether x[0..n) holds no NaN or ±inf (their exponent bits are all ones): integer code
// that compilers vectorise, several times faster than Eigen's allFinite().
template <std::floating_point T>
bool all_finite(const T* x, Eigen::Index n) {
  using bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr bits exponent = std::bit_cast<bits>(std::numeric_limits<T>::infinity());
  bool bad = false;
  for (Eigen::Index i = 0; i < n; ++i) bad |= (std::bit_cast<bits>(x[i]) & exponent) == exponent;
  return !bad;
}

// value_error naming the first non-finite entry of X (row-major, possibly strided rows).
template <class Scalar>
void require_finite(const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>& X,
                    const char* where) {
  bool finite = true;
  for (Eigen::Index i = 0; i < X.rows() && finite; ++i) finite = all_finite(X.data() + i * X.outerStride(), X.cols());
  if (finite) return;
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      if (!std::isfinite(static_cast<double>(X(i, j)))) {
        std::ostringstream msg;
        msg << where << ": X[" << i << ", " << j << "] is " << X(i, j) << "; features must be finite";
        throw value_error(msg.str());
      }
}

}  // namespace detail

template <std::floating_point Scalar = double, class_label Label = std::int64_t>
class logistic_regression {
 public:
  using scalar_type = Scalar;
  using label_type = Label;
  using row_matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using class_weight_spec = std::variant<std::monostate, balanced_t, std::map<Label, double>>;

  struct params {
    double C = 1.0;  // inverse penalty strength; +inf fits without penalty
    bool fit_intercept = true;
    int max_iter = 100;
    double tol = 1e-4;                 // lbfgs stops when max |gradient component| <= tol
    class_weight_spec class_weight{};  // none, balanced, or {label: weight}
    int threads = 0;                   // 0 = shopml::num_threads() default
    bool warn_not_converged = true;    // sklearn's ConvergenceWarning, as a shopml warning (log.hpp)
  };

  // What fit learns; restore() rebuilds a model from it (saved_head.hpp).
  struct fitted_state {
    std::vector<Label> classes;
    row_matrix coef;  // 1 × d for two classes, n_classes × d otherwise
    Eigen::Vector<Scalar, Eigen::Dynamic> intercept;
    int n_iter = 0;
    bool converged = false;
  };

  logistic_regression() = default;
  explicit logistic_regression(params p) : params_(std::move(p)) { check_params(); }

  static logistic_regression restore(params p, fitted_state state) {
    logistic_regression model(std::move(p));
    const auto k = static_cast<Eigen::Index>(state.classes.size());
    if (k < 2) throw value_error("logistic_regression: a fitted model needs at least 2 classes");
    if (!::shopml::detail::is_label_set(state.classes))
      throw value_error("logistic_regression: classes must be sorted and unique");
    const Eigen::Index rows = k == 2 ? 1 : k;
    if (state.coef.rows() != rows || state.coef.cols() < 1 || state.intercept.size() != rows)
      throw shape_error("logistic_regression: " + std::to_string(k) + " classes need coef of shape [" + std::to_string(rows) +
                        ", d >= 1] and intercept [" + std::to_string(rows) + "], got [" + std::to_string(state.coef.rows()) +
                        ", " + std::to_string(state.coef.cols()) + "] and [" + std::to_string(state.intercept.size()) + "]");
    if (!state.coef.allFinite() || !state.intercept.allFinite())
      throw value_error("logistic_regression: coefficients must be finite");
    model.state_ = std::move(state);
    return model;
  }

  const params& get_params() const { return params_; }

  // fit for labels in any other contiguous range whose elements convert to Label (a
  // std::vector of std::string_view or C strings for string labels, of another integer
  // type, ...) or in a braced list: copied into Label values first.
  template <::shopml::detail::contiguous_sized_range R>
  requires(!std::convertible_to<const R&, std::span<const Label>> &&
           std::constructible_from<Label, std::ranges::range_reference_t<const R&>>)
      logistic_regression& fit(const Eigen::Ref<const row_matrix>& X, const R& y, std::span<const double> sample_weight = {}) {
    const std::vector<Label> labels(std::ranges::begin(y), std::ranges::end(y));
    return fit(X, std::span<const Label>(labels), sample_weight);
  }
  logistic_regression& fit(const Eigen::Ref<const row_matrix>& X, std::initializer_list<Label> y,
                           std::span<const double> sample_weight = {}) {
    return fit(X, std::span<const Label>(y.begin(), y.size()), sample_weight);
  }

  // Fits on X (n × d), labels y (n) and optional sample weights (n, >= 0).
  logistic_regression& fit(const Eigen::Ref<const row_matrix>& X, std::span<const Label> y,
                           std::span<const double> sample_weight = {}) {
    note_isa_once();
    const Eigen::Index n = X.rows(), d = X.cols();
    if (n == 0) throw value_error("fit: X has 0 samples");
    if (d == 0) throw value_error("fit: X has 0 features");
    if (static_cast<Eigen::Index>(y.size()) != n)
      throw shape_error("fit: X has " + std::to_string(n) + " rows but y has " + std::to_string(y.size()) + " labels");
    if (!sample_weight.empty() && static_cast<Eigen::Index>(sample_weight.size()) != n)
      throw shape_error("fit: X has " + std::to_string(n) + " rows but sample_weight has " +
                        std::to_string(sample_weight.size()) + " entries");
    for (std::size_t i = 0; i < sample_weight.size(); ++i)
      if (!std::isfinite(sample_weight[i]) || sample_weight[i] < 0.0)
        throw value_error("fit: sample_weight[" + std::to_string(i) + "] = " + std::to_string(sample_weight[i]) +
                          "; weights must be finite and >= 0");
    detail::require_finite<Scalar>(X, "fit");

    fitted_state state;
    state.classes = ::shopml::detail::unique_labels(y);
    const int k = static_cast<int>(state.classes.size());
    if (k < 2)
      throw value_error("fit: needs samples of at least 2 classes, but the data contains only one class: " +
                        detail::label_text(state.classes[0]));

    std::vector<int> target(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i)
      target[static_cast<std::size_t>(i)] = class_index(state.classes, y[static_cast<std::size_t>(i)]);
    const std::vector<double> weight = combined_weights(state.classes, target, sample_weight);

    const logistic_loss<Scalar> loss(
        typename logistic_loss<Scalar>::row_map(X.data(), n, d, Eigen::OuterStride<>(X.outerStride())), target, weight, k,
        params_.fit_intercept, params_.C, params_.threads);
    Eigen::VectorXd theta = Eigen::VectorXd::Zero(loss.n_parameters());
    const lbfgs_result res = lbfgs_minimize(loss, theta, {.max_iter = params_.max_iter, .gtol = params_.tol});

    const Eigen::Index rows = loss.n_outputs();
    state.coef = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(theta.data(), rows, d)
                     .template cast<Scalar>();
    state.intercept = Eigen::Vector<Scalar, Eigen::Dynamic>::Zero(rows);
    if (params_.fit_intercept) {
      Eigen::VectorXd b = theta.tail(rows);
      // Softmax ignores a common shift of the intercepts; sklearn's stay zero-sum (their
      // gradient sums to zero from a zero start). Centre them so rounding drift cannot move them.
      if (rows > 1) b.array() -= b.mean();
      state.intercept = b.template cast<Scalar>();
    }
    state.n_iter = res.n_iter;
    state.converged = res.converged();
    status_ = res.status;
    state_ = std::move(state);
    if (!state_.converged && params_.warn_not_converged)
      log_warning(std::string("ConvergenceWarning: lbfgs ") + to_string(res.status) + " (n_iter=" + std::to_string(res.n_iter) +
                  ", max_iter=" + std::to_string(params_.max_iter) + "). Increase max_iter or scale the data.");
    return *this;
  }

  bool is_fitted() const { return !state_.classes.empty(); }
  const std::vector<Label>& classes() const { return fitted("classes").classes; }
  const row_matrix& coef() const { return fitted("coef").coef; }
  const Eigen::Vector<Scalar, Eigen::Dynamic>& intercept() const { return fitted("intercept").intercept; }
  Eigen::Index n_features_in() const { return fitted("n_features_in").coef.cols(); }
  int n_iter() const { return fitted("n_iter").n_iter; }
  bool converged() const { return fitted("converged").converged; }
  lbfgs_status solver_status() const { return status_; }
  const fitted_state& state() const { return fitted("state"); }

  // Raw scores X W^T + b: n × 1 for two classes (score of classes()[1]), else n × n_classes.
  row_matrix decision_function(const Eigen::Ref<const row_matrix>& X, int threads = 0) const {
    const fitted_state& s = fitted("decision_function");
    check_input(X, "decision_function");
    row_matrix scores(X.rows(), s.coef.rows());
    const Eigen::Index n_blocks = (X.rows() + block_rows - 1) / block_rows;
    parallel_for(0, n_blocks, threads > 0 ? threads : params_.threads, [&](std::ptrdiff_t blk) {
      const Eigen::Index begin = blk * block_rows, rows = std::min(block_rows, X.rows() - begin);
      scores.middleRows(begin, rows).noalias() = X.middleRows(begin, rows) * s.coef.transpose();
      scores.middleRows(begin, rows).rowwise() += s.intercept.transpose();
    });
    return scores;
  }

  // Class probabilities, n × n_classes (columns in classes() order).
  row_matrix predict_proba(const Eigen::Ref<const row_matrix>& X, int threads = 0) const {
    const row_matrix scores = decision_function(X, threads);
    row_matrix proba(scores.rows(), static_cast<Eigen::Index>(state_.classes.size()));
    for (Eigen::Index i = 0; i < scores.rows(); ++i) {
      if (scores.cols() == 1) {
        const double r = scores(i, 0), e = std::exp(-std::abs(r));
        const double p = r >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        proba(i, 0) = static_cast<Scalar>(1.0 - p);
        proba(i, 1) = static_cast<Scalar>(p);
      } else {
        const Eigen::VectorXd r = scores.row(i).transpose().template cast<double>();
        const Eigen::VectorXd e = (r.array() - r.maxCoeff()).exp();
        proba.row(i) = (e / e.sum()).transpose().template cast<Scalar>();
      }
    }
    return proba;
  }

  // Index into classes() of each row's prediction (first maximum on ties, as numpy.argmax).
  std::vector<int> predict_index(const Eigen::Ref<const row_matrix>& X, int threads = 0) const {
    const row_matrix scores = decision_function(X, threads);
    std::vector<int> out(static_cast<std::size_t>(scores.rows()));
    for (Eigen::Index i = 0; i < scores.rows(); ++i) {
      Eigen::Index best = 0;
      if (scores.cols() == 1)
        best = scores(i, 0) > 0 ? 1 : 0;
      else
        scores.row(i).maxCoeff(&best);
      out[static_cast<std::size_t>(i)] = static_cast<int>(best);
    }
    return out;
  }

  std::vector<Label> predict(const Eigen::Ref<const row_matrix>& X, int threads = 0) const {
    const std::vector<int> index = predict_index(X, threads);
    std::vector<Label> out;
    out.reserve(index.size());
    for (int i : index) out.push_back(state_.classes[static_cast<std::size_t>(i)]);
    return out;
  }

  // Mean accuracy on (X, y).
  double score(const Eigen::Ref<const row_matrix>& X, std::span<const Label> y, int threads = 0) const {
    if (static_cast<Eigen::Index>(y.size()) != X.rows())
      throw shape_error("score: X has " + std::to_string(X.rows()) + " rows but y has " + std::to_string(y.size()));
    const std::vector<Label> pred = predict(X, threads);
    std::size_t hits = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) hits += pred[i] == y[i] ? 1 : 0;
    return pred.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(pred.size());
  }

 private:
  static constexpr Eigen::Index block_rows = 256;

  void check_params() const {
    if (!(params_.C > 0.0)) throw value_error("logistic_regression: C must be > 0, got " + std::to_string(params_.C));
    if (params_.max_iter < 0) throw value_error("logistic_regression: max_iter must be >= 0");
    if (!(params_.tol >= 0.0)) throw value_error("logistic_regression: tol must be >= 0");
    if (const auto* w = std::get_if<std::map<Label, double>>(&params_.class_weight))
      for (const auto& [label, value] : *w)
        if (!std::isfinite(value) || value < 0.0)
          throw value_error("logistic_regression: class_weight of " + detail::label_text(label) + " must be finite and >= 0");
  }

  const fitted_state& fitted(const char* what) const {
    if (!is_fitted()) throw value_error(std::string(what) + ": this logistic_regression is not fitted yet; call fit first");
    return state_;
  }

  void check_input(const Eigen::Ref<const row_matrix>& X, const char* where) const {
    if (X.cols() != state_.coef.cols())
      throw shape_error(std::string(where) + ": X has " + std::to_string(X.cols()) + " features, but the model was fitted with " +
                        std::to_string(state_.coef.cols()));
    detail::require_finite<Scalar>(X, where);
  }

  static int class_index(const std::vector<Label>& classes, const Label& label) {
    return static_cast<int>(::shopml::detail::label_index(classes, label));
  }

  // Sample weights times class weights (sklearn multiplies them before fitting).
  std::vector<double> combined_weights(const std::vector<Label>& classes, const std::vector<int>& target,
                                       std::span<const double> sample_weight) const {
    const std::size_t n = target.size(), k = classes.size();
    std::vector<double> weight(n, 1.0);
    if (!sample_weight.empty()) weight.assign(sample_weight.begin(), sample_weight.end());
    std::vector<double> per_class(k, 1.0);
    if (std::holds_alternative<balanced_t>(params_.class_weight)) {
      std::vector<double> mass(k, 0.0);
      double total = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        mass[static_cast<std::size_t>(target[i])] += weight[i];
        total += weight[i];
      }
      for (std::size_t c = 0; c < k; ++c) {
        if (!(mass[c] > 0.0))
          throw value_error("fit: class_weight='balanced' but class " + detail::label_text(classes[c]) +
                            " has zero total sample weight");
        per_class[c] = total / (static_cast<double>(k) * mass[c]);
      }
    } else if (const auto* given = std::get_if<std::map<Label, double>>(&params_.class_weight)) {
      for (const auto& [label, value] : *given) {
        const auto c = ::shopml::detail::find_label(classes, label);
        if (!c) throw value_error("fit: class_weight names class " + detail::label_text(label) + ", which is not in y");
        per_class[*c] = value;
      }
    }
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      weight[i] *= per_class[static_cast<std::size_t>(target[i])];
      total += weight[i];
    }
    if (!(total > 0.0)) throw value_error("fit: the sample weights (times class weights) sum to zero");
    return weight;
  }

  params params_{};
  fitted_state state_{};
  lbfgs_status status_ = lbfgs_status::max_iter_reached;
};

}  // namespace shopml::linear_model
