// logistic_regression against scikit-learn 1.9.1 LogisticRegression(solver="lbfgs") on
// real review embeddings (goldens: scripts/golden/linear_model.py), plus the solver, the
// stratified split and bad-input behaviour.

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "golden.hpp"
#include "shopml/linear_model/lbfgs.hpp"
#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/metrics/classification.hpp"
#include "shopml/metrics/log_loss.hpp"
#include "shopml/metrics/roc_auc.hpp"
#include "shopml/model_selection/train_test_split.hpp"

namespace lm = shopml::linear_model;
namespace ms = shopml::model_selection;
namespace mt = shopml::metrics;

namespace golden = shopml::test::golden;

namespace {

template <class Scalar, class Label>
lm::logistic_regression<Scalar, Label> model_for(const nlohmann::json& c) {
  const auto& p = c["params"];
  typename lm::logistic_regression<Scalar, Label>::params params;
  params.C = p["C"].get<double>();
  params.tol = p["tol"].get<double>();
  params.max_iter = p["max_iter"].get<int>();
  params.fit_intercept = p["fit_intercept"].get<bool>();
  if (p["class_weight"] == "balanced") params.class_weight = lm::balanced;
  params.warn_not_converged = false;
  return lm::logistic_regression<Scalar, Label>(params);
}

// Fits the golden case `name` and compares with sklearn: coefficients within `coef_tol`
// relative, >= 99.9% identical predictions on all rows, test metrics equal to 4 decimals.
template <class Label, class Scalar = double>
void check_case(const std::string& name, double coef_tol = 1e-3, double intercept_tol = 1e-3) {
  CAPTURE(name);
  const auto& g = golden::get();
  const auto& c = g.find_case(name);
  const golden::row_matrix X = g.X(c["features"].get<std::string>());
  const auto y = golden::labels<Label>(c["labels"].get<std::string>());
  const auto train = golden::indices(g.i64(name + ".train")), test = golden::indices(g.i64(name + ".test"));
  std::vector<double> weight;
  if (c["sample_weight"] == "1+row%3")
    for (std::size_t i : train) weight.push_back(1.0 + static_cast<double>(i % 3));

  auto model = model_for<Scalar, Label>(c);
  const auto X_scalar = X.cast<Scalar>().eval();
  const auto y_train = ms::take(std::span<const Label>(y), train);
  model.fit(ms::take_rows(X_scalar, train), std::span<const Label>(y_train), weight);

  CHECK(model.classes() == c["classes"].get<std::vector<Label>>());
  CHECK(model.converged());
  const golden::row_matrix ref = g.f64(name + ".coef");
  const golden::row_matrix coef = model.coef().template cast<double>();
  REQUIRE(coef.rows() == ref.rows());
  REQUIRE(coef.cols() == ref.cols());
  const double coef_rel = (coef - ref).norm() / ref.norm();
  CAPTURE(coef_rel);
  CHECK(coef_rel <= coef_tol);
  const Eigen::VectorXd b_ref = g.f64(name + ".intercept").col(0);
  const Eigen::VectorXd b = model.intercept().template cast<double>();
  CHECK((b - b_ref).norm() <= intercept_tol * std::max(1.0, b_ref.norm()));

  const auto pred_ref = g.i64(name + ".pred");
  const auto pred = model.predict_index(X_scalar);
  std::size_t same = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) same += pred[i] == pred_ref[i] ? 1 : 0;
  const double agreement = static_cast<double>(same) / static_cast<double>(pred.size());
  CAPTURE(agreement);
  CHECK(agreement >= 0.999);
  MESSAGE(name << ": coef rel. diff " << coef_rel << ", identical predictions " << agreement);

  // Metrics of our own held-out predictions vs sklearn's, to 4 decimals.
  const auto& m = c["metrics"];
  const auto X_test = ms::take_rows(X_scalar, test);
  const auto y_test = ms::take(std::span<const Label>(y), test);
  const auto y_hat = model.predict(X_test);
  const auto proba = model.predict_proba(X_test);
  const std::span<const Label> yt(y_test), yp(y_hat);
  CHECK(std::abs(mt::accuracy_score(yt, yp) - m["accuracy"].template get<double>()) < 1e-4);
  for (const auto& [key, avg] : {std::pair{"macro", mt::average::macro}, std::pair{"weighted", mt::average::weighted}}) {
    const auto s = mt::precision_recall_fscore(yt, yp, avg);
    CHECK(std::abs(s.precision - m[std::string("precision_") + key].template get<double>()) < 1e-4);
    CHECK(std::abs(s.recall - m[std::string("recall_") + key].template get<double>()) < 1e-4);
    CHECK(std::abs(s.f1 - m[std::string("f1_") + key].template get<double>()) < 1e-4);
  }
  CHECK(std::abs(mt::log_loss(yt, proba) - m["log_loss"].template get<double>()) < 1e-4);
  if (model.classes().size() == 2) {
    std::vector<double> score(static_cast<std::size_t>(proba.rows()));
    for (Eigen::Index i = 0; i < proba.rows(); ++i) score[static_cast<std::size_t>(i)] = proba(i, 1);
    CHECK(std::abs(mt::roc_auc_score(yt, std::span<const double>(score)) - m["roc_auc"].template get<double>()) < 1e-4);
  } else {
    CHECK(std::abs(mt::roc_auc_score_ovr(yt, proba, mt::roc_average::macro) - m["roc_auc_ovr_macro"].template get<double>()) <
          1e-4);
    CHECK(std::abs(mt::roc_auc_score_ovr(yt, proba, mt::roc_average::weighted) -
                   m["roc_auc_ovr_weighted"].template get<double>()) < 1e-4);
  }
}

}  // namespace

TEST_CASE("sklearn parity: binary sentiment (English reviews), C=1, default tol: same iterations") {
  check_case<std::int64_t>("en_c1_default_tol");
  // Same L-BFGS-B choices (memory, first step, Moré–Thuente, stopping tests) -> same path.
  const auto& c = golden::get().find_case("en_c1_default_tol");
  auto model = model_for<double, std::int64_t>(c);
  const auto& g = golden::get();
  const auto X = g.X("en_X");
  const auto y = golden::labels<std::int64_t>("en_sentiment");
  const auto train = golden::indices(g.i64("en_c1_default_tol.train"));
  const auto y_train = ms::take(std::span<const std::int64_t>(y), train);
  model.fit(ms::take_rows(X, train), std::span<const std::int64_t>(y_train));
  CHECK(std::abs(model.n_iter() - c["n_iter"].get<int>()) <= 1);
}

TEST_CASE("sklearn parity: binary sentiment, C=1 and C=0.05") {
  check_case<std::int64_t>("en_c1");
  check_case<std::int64_t>("en_c005");
}

TEST_CASE("sklearn parity: binary sentiment with sample weights") { check_case<std::int64_t>("en_c1_sample_weight"); }

TEST_CASE("sklearn parity: 10 product categories (Chinese reviews), multinomial, C=1") { check_case<std::string>("shop_cat_c1"); }

TEST_CASE("sklearn parity: multinomial, class_weight=balanced, C=10") { check_case<std::string>("shop_cat_c10_balanced"); }

TEST_CASE("sklearn parity: multinomial without intercept, C=0.3") { check_case<std::string>("shop_cat_c03_no_intercept"); }

TEST_CASE("sklearn parity: binary, class_weight=balanced and sample weights, C=2") {
  check_case<std::int64_t>("shop_sent_c2_balanced_weighted");
}

TEST_CASE("sklearn parity: float32 features reach the same optimum") {
  // float32 rounding of X w leaves the flat intercept direction of the softmax a little
  // less determined: 1e-3 on the coefficients, 5e-3 on the intercepts.
  check_case<std::int64_t, float>("en_c1");
  check_case<std::string, float>("shop_cat_c1", 1e-3, 5e-3);
}

TEST_CASE("lbfgs minimises the Rosenbrock function") {
  auto rosenbrock = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    const double a = 1.0 - x[0], b = x[1] - x[0] * x[0];
    g.resize(2);
    g[0] = -2.0 * a - 400.0 * x[0] * b;
    g[1] = 200.0 * b;
    return a * a + 100.0 * b * b;
  };
  Eigen::VectorXd x(2);
  x << -1.2, 1.0;
  const auto res = lm::lbfgs_minimize(rosenbrock, x, {.max_iter = 500, .gtol = 1e-10});
  CHECK(res.converged());
  CHECK(x[0] == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(x[1] == doctest::Approx(1.0).epsilon(1e-6));

  Eigen::VectorXd start(2);
  start << -1.2, 1.0;
  const auto capped = lm::lbfgs_minimize(rosenbrock, start, {.max_iter = 3, .gtol = 1e-10});
  CHECK(capped.status == lm::lbfgs_status::max_iter_reached);
  CHECK(capped.n_iter == 3);
}

TEST_CASE("max_iter reached: converged() is false, n_iter == max_iter") {
  const auto& g = golden::get();
  const auto X = g.X("en_X");
  const auto y = golden::labels<std::int64_t>("en_sentiment");
  lm::logistic_regression<double> model({.max_iter = 3, .warn_not_converged = false});
  model.fit(X, std::span<const std::int64_t>(y));
  CHECK_FALSE(model.converged());
  CHECK(model.n_iter() == 3);
  CHECK(model.solver_status() == lm::lbfgs_status::max_iter_reached);
}

TEST_CASE("thread count does not change the fit") {
  const auto& g = golden::get();
  const auto X = g.X("shop_X");
  const auto y = golden::labels<std::string>("shop_category");
  lm::logistic_regression<double, std::string> one({.max_iter = 5000, .tol = 1e-8, .threads = 1});
  lm::logistic_regression<double, std::string> two({.max_iter = 5000, .tol = 1e-8, .threads = 2});
  one.fit(X, std::span<const std::string>(y));
  two.fit(X, std::span<const std::string>(y));
  CHECK((one.coef() - two.coef()).norm() <= 1e-6 * one.coef().norm());
  CHECK(one.predict(X, 1) == two.predict(X, 2));
}

TEST_CASE("predict_proba rows sum to 1 and agree with predict, decision_function shape") {
  const auto& g = golden::get();
  const auto X = g.X("en_X");
  const auto y = golden::labels<std::int64_t>("en_sentiment");
  lm::logistic_regression<double> model;
  model.fit(X, std::span<const std::int64_t>(y));
  const auto P = model.predict_proba(X);
  const auto scores = model.decision_function(X);
  CHECK(scores.cols() == 1);
  CHECK(P.cols() == 2);
  const auto pred = model.predict(X);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    CHECK(P.row(i).sum() == doctest::Approx(1.0));
    CHECK(pred[static_cast<std::size_t>(i)] == (P(i, 1) > 0.5 ? 1 : 0));
  }
  CHECK(model.score(X, std::span<const std::int64_t>(y)) > 0.85);
}

TEST_CASE("bad input raises value_error / shape_error naming the problem") {
  Eigen::MatrixXd X(4, 2);
  X << 0, 1, 1, 0, 2, 1, 1, 2;
  const std::vector<std::int64_t> y{0, 1, 0, 1};
  using model_t = lm::logistic_regression<double>;
  model_t model;
  CHECK_THROWS_AS(model.predict(X), shopml::value_error);  // not fitted

  Eigen::MatrixXd nan_X = X;
  nan_X(2, 1) = std::nan("");
  CHECK_THROWS_WITH_AS(model.fit(nan_X, std::span<const std::int64_t>(y)), doctest::Contains("X[2, 1]"), shopml::value_error);
  Eigen::MatrixXd inf_X = X;
  inf_X(0, 0) = INFINITY;
  CHECK_THROWS_AS(model.fit(inf_X, std::span<const std::int64_t>(y)), shopml::value_error);

  const std::vector<std::int64_t> one_class{1, 1, 1, 1};
  CHECK_THROWS_WITH_AS(model.fit(X, std::span<const std::int64_t>(one_class)), doctest::Contains("only one class"),
                       shopml::value_error);
  CHECK_THROWS_AS(model.fit(Eigen::MatrixXd(0, 2), std::span<const std::int64_t>()), shopml::value_error);
  const std::vector<std::int64_t> short_y{0, 1, 0};
  CHECK_THROWS_AS(model.fit(X, std::span<const std::int64_t>(short_y)), shopml::shape_error);
  const std::vector<double> short_w{1, 1};
  CHECK_THROWS_AS(model.fit(X, std::span<const std::int64_t>(y), short_w), shopml::shape_error);
  const std::vector<double> negative_w{1, -1, 1, 1};
  CHECK_THROWS_AS(model.fit(X, std::span<const std::int64_t>(y), negative_w), shopml::value_error);
  const std::vector<double> zero_w{0, 0, 0, 0};
  CHECK_THROWS_AS(model.fit(X, std::span<const std::int64_t>(y), zero_w), shopml::value_error);

  // float features, every position of a row wider than one SIMD register, -inf and NaN.
  Eigen::MatrixXf wide = Eigen::MatrixXf::Random(4, 37);
  lm::logistic_regression<float> float_model;
  for (const float bad : {-INFINITY, NAN})
    for (Eigen::Index j : {Eigen::Index{0}, Eigen::Index{16}, Eigen::Index{36}}) {
      Eigen::MatrixXf bad_X = wide;
      bad_X(3, j) = bad;
      const std::string where = "X[3, " + std::to_string(j) + "]";
      CHECK_THROWS_WITH_AS(float_model.fit(bad_X, std::span<const std::int64_t>(y)), doctest::Contains(where.c_str()),
                           shopml::value_error);
    }

  model.fit(X, std::span<const std::int64_t>(y));
  CHECK_THROWS_WITH_AS(model.predict(Eigen::MatrixXd(2, 3)), doctest::Contains("3 features"), shopml::shape_error);
  CHECK_THROWS_AS(model.predict_proba(nan_X), shopml::value_error);
  CHECK(model.predict(Eigen::MatrixXd(0, 2)).empty());

  CHECK_THROWS_AS(model_t({.C = 0.0}), shopml::value_error);
  CHECK_THROWS_AS(model_t({.C = std::nan("")}), shopml::value_error);
  CHECK_THROWS_AS(model_t({.max_iter = -1}), shopml::value_error);
  model_t unknown_class({.class_weight = std::map<std::int64_t, double>{{7, 2.0}}});
  CHECK_THROWS_WITH_AS(unknown_class.fit(X, std::span<const std::int64_t>(y)), doctest::Contains("7"), shopml::value_error);
}

TEST_CASE("class_weight as a map equals the same weights given per sample") {
  const auto& g = golden::get();
  const auto X = g.X("en_X");
  const auto y = golden::labels<std::int64_t>("en_sentiment");
  lm::logistic_regression<double> by_class(
      {.max_iter = 5000, .tol = 1e-10, .class_weight = std::map<std::int64_t, double>{{0, 3.0}, {1, 0.5}}});
  by_class.fit(X, std::span<const std::int64_t>(y));
  std::vector<double> w;
  for (auto v : y) w.push_back(v == 0 ? 3.0 : 0.5);
  lm::logistic_regression<double> by_sample({.max_iter = 5000, .tol = 1e-10});
  by_sample.fit(X, std::span<const std::int64_t>(y), w);
  CHECK((by_class.coef() - by_sample.coef()).norm() <= 1e-6 * by_sample.coef().norm());
}

TEST_CASE("stratified train_test_split keeps class shares like sklearn") {
  const auto& g = golden::get();
  const auto y = golden::labels<std::string>("shop_category");
  const auto split = ms::train_test_split(std::span<const std::string>(y), 0.25, 7);
  const auto golden_test = golden::indices(g.i64("shop_cat_c1.test"));
  CHECK(split.test.size() == golden_test.size());
  CHECK(split.train.size() + split.test.size() == y.size());
  std::vector<int> seen(y.size(), 0);
  for (auto i : split.train) ++seen[i];
  for (auto i : split.test) ++seen[i];
  CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
  // Per-class test counts equal sklearn's up to the random tie-break of one remainder.
  std::map<std::string, int> ours, theirs;
  for (auto i : split.test) ++ours[y[i]];
  for (auto i : golden_test) ++theirs[y[i]];
  for (const auto& [label, n] : theirs) CHECK(std::abs(ours[label] - n) <= 1);
  // Same seed, same split; another seed, another split.
  CHECK(ms::train_test_split(std::span<const std::string>(y), 0.25, 7).test == split.test);
  CHECK(ms::train_test_split(std::span<const std::string>(y), 0.25, 8).test != split.test);

  const std::vector<int> lonely{0, 0, 0, 1};
  CHECK_THROWS_AS(ms::train_test_split(std::span<const int>(lonely), 0.5), shopml::value_error);
  CHECK_THROWS_AS(ms::train_test_split(std::span<const int>(lonely), 1.5), shopml::value_error);
  const auto plain = ms::train_test_split(10, 0.3, 1);
  CHECK(plain.test.size() == 3);
  CHECK(plain.train.size() == 7);
}
