// shopml::metrics against sklearn.metrics (1.9.1) on the same predictions: the held-out
// predictions and probabilities of sklearn's LogisticRegression on real review
// embeddings (goldens: scripts/golden/linear_model.py), plus ties, zero division and
// clipped probabilities.

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../linear_model/golden.hpp"
#include "shopml/metrics/classification.hpp"
#include "shopml/metrics/classification_report.hpp"
#include "shopml/metrics/confusion_matrix.hpp"
#include "shopml/metrics/log_loss.hpp"
#include "shopml/metrics/roc_auc.hpp"

namespace mt = shopml::metrics;

namespace golden = shopml::test::golden;

namespace {

constexpr double tight = 1e-12;

template <class Label>
void check_metrics(const nlohmann::json& m, const std::vector<Label>& y_true, const std::vector<Label>& y_pred,
                   const golden::row_matrix& proba, const std::vector<Label>& classes) {
  const std::span<const Label> yt(y_true), yp(y_pred);
  CHECK(mt::accuracy_score(yt, yp) == doctest::Approx(m["accuracy"].get<double>()).epsilon(tight));
  const auto per = mt::precision_recall_fscore_support(yt, yp);
  const auto near = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (std::abs(a[i] - b[i]) > tight) return false;
    return true;
  };
  CHECK(near(per.precision, m["precision"].get<std::vector<double>>()));
  CHECK(near(per.recall, m["recall"].get<std::vector<double>>()));
  CHECK(near(per.f1, m["f1"].get<std::vector<double>>()));
  CHECK(near(per.support, m["support"].get<std::vector<double>>()));
  for (const auto& [key, avg] : {std::pair{"macro", mt::average::macro}, std::pair{"weighted", mt::average::weighted},
                                 std::pair{"micro", mt::average::micro}}) {
    CAPTURE(key);
    const auto s = mt::precision_recall_fscore(yt, yp, avg);
    CHECK(s.precision == doctest::Approx(m[std::string("precision_") + key].template get<double>()).epsilon(tight));
    CHECK(s.recall == doctest::Approx(m[std::string("recall_") + key].template get<double>()).epsilon(tight));
    CHECK(s.f1 == doctest::Approx(m[std::string("f1_") + key].template get<double>()).epsilon(tight));
  }
  const auto C = mt::confusion_matrix(yt, yp);
  const auto C_ref = m["confusion_matrix"].get<std::vector<std::vector<std::int64_t>>>();
  REQUIRE(static_cast<std::size_t>(C.rows()) == C_ref.size());
  for (Eigen::Index i = 0; i < C.rows(); ++i)
    for (Eigen::Index j = 0; j < C.cols(); ++j) CHECK(C(i, j) == C_ref[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]);

  CHECK(mt::log_loss(yt, proba, std::span<const Label>(classes)) == doctest::Approx(m["log_loss"].get<double>()).epsilon(tight));
  if (classes.size() == 2) {
    std::vector<double> col1(static_cast<std::size_t>(proba.rows()));
    for (Eigen::Index i = 0; i < proba.rows(); ++i) col1[static_cast<std::size_t>(i)] = proba(i, 1);
    CHECK(mt::roc_auc_score(yt, std::span<const double>(col1)) == doctest::Approx(m["roc_auc"].get<double>()).epsilon(tight));
    CHECK(mt::f1_score(yt, yp, mt::average::binary, std::optional<Label>(classes[1])) ==
          doctest::Approx(m["f1_binary"].get<double>()).epsilon(tight));
  } else {
    CHECK(mt::roc_auc_score_ovr(yt, proba, mt::roc_average::macro) ==
          doctest::Approx(m["roc_auc_ovr_macro"].get<double>()).epsilon(tight));
    CHECK(mt::roc_auc_score_ovr(yt, proba, mt::roc_average::weighted) ==
          doctest::Approx(m["roc_auc_ovr_weighted"].get<double>()).epsilon(tight));
  }
  CHECK(mt::classification_report(yt, yp) == m["report"].get<std::string>());
  CHECK(mt::classification_report(yt, yp, {}, 4) == m["report_digits4"].get<std::string>());
}

template <class Label>
void check_case(const std::string& name) {
  CAPTURE(name);
  const auto& g = golden::get();
  const auto& c = g.find_case(name);
  const auto y = golden::labels<Label>(c["labels"].get<std::string>());
  const auto classes = c["classes"].get<std::vector<Label>>();
  const auto test = g.i64(name + ".test");
  const auto pred = g.i64(name + ".pred");
  std::vector<Label> y_true, y_pred;
  for (auto i : test) {
    y_true.push_back(y[static_cast<std::size_t>(i)]);
    y_pred.push_back(classes[static_cast<std::size_t>(pred[static_cast<std::size_t>(i)])]);
  }
  check_metrics(c["metrics"], y_true, y_pred, g.f64(name + ".proba_test"), classes);
}

}  // namespace

TEST_CASE("sklearn.metrics parity on sklearn's predictions: binary cases") {
  for (const char* name : {"en_c1_default_tol", "en_c1", "en_c005", "en_c1_sample_weight", "shop_sent_c2_balanced_weighted"})
    check_case<std::int64_t>(name);
}

TEST_CASE("sklearn.metrics parity on sklearn's predictions: 10 categories (UTF-8 labels in the report)") {
  for (const char* name : {"shop_cat_c1", "shop_cat_c10_balanced", "shop_cat_c03_no_intercept"}) check_case<std::string>(name);
}

TEST_CASE("edge cases: tied scores, probabilities of exactly 0 and 1, a class never predicted") {
  const auto& g = golden::get();
  const auto& edge = g.json["edge"];
  const auto y = golden::labels<std::int64_t>("en_sentiment");
  std::vector<std::int64_t> y_true;
  for (auto i : g.i64("en_c1.test")) y_true.push_back(y[static_cast<std::size_t>(i)]);
  const auto tied = edge["tied_scores"].get<std::vector<double>>();
  CHECK(mt::roc_auc_score(std::span<const std::int64_t>(y_true), std::span<const double>(tied)) ==
        doctest::Approx(edge["roc_auc_tied"].get<double>()).epsilon(tight));
  const auto hard_rows = edge["hard_proba"].get<std::vector<std::vector<double>>>();
  golden::row_matrix hard(static_cast<Eigen::Index>(hard_rows.size()), 2);
  for (std::size_t i = 0; i < hard_rows.size(); ++i) hard.row(static_cast<Eigen::Index>(i)) << hard_rows[i][0], hard_rows[i][1];
  CHECK(mt::log_loss(std::span<const std::int64_t>(y_true), hard) ==
        doctest::Approx(edge["log_loss_hard"].get<double>()).epsilon(tight));

  const auto categories = golden::labels<std::string>("shop_category");
  std::vector<std::string> cat_true;
  for (auto i : g.i64("shop_cat_c1.test")) cat_true.push_back(categories[static_cast<std::size_t>(i)]);
  const auto no_rare = edge["no_rare_pred"].get<std::vector<std::string>>();
  const auto classes = g.find_case("shop_cat_c1")["classes"].get<std::vector<std::string>>();
  check_metrics(edge["no_rare_metrics"], cat_true, no_rare, g.f64("shop_cat_c1.proba_test"), classes);
  // zero_division=NaN leaves the never-predicted class out of the macro precision.
  const auto per = mt::precision_recall_fscore_support(std::span<const std::string>(cat_true),
                                                       std::span<const std::string>(no_rare), {}, std::nan(""));
  const auto labels = mt::unique_labels(std::span<const std::string>(cat_true), std::span<const std::string>(no_rare));
  const auto never = std::count_if(labels.begin(), labels.end(), [&](const std::string& l) {
    return std::find(no_rare.begin(), no_rare.end(), l) == no_rare.end();
  });
  CHECK(never >= 1);
  CHECK(std::count_if(per.precision.begin(), per.precision.end(), [](double v) { return std::isnan(v); }) == never);
  CHECK(
      std::isnan(per.precision[*shopml::metrics::detail::find_label(labels, edge["never_predicted_class"].get<std::string>())]));
}

TEST_CASE("small hand-checked values") {
  const std::vector<int> t{0, 0, 1, 1}, p{0, 1, 1, 1};
  CHECK(mt::accuracy_score(std::span<const int>(t), std::span<const int>(p)) == 0.75);
  CHECK(mt::precision_score(std::span<const int>(t), std::span<const int>(p)) == doctest::Approx(2.0 / 3.0));
  CHECK(mt::recall_score(std::span<const int>(t), std::span<const int>(p)) == 1.0);
  const std::vector<double> s{0.1, 0.4, 0.35, 0.8};
  CHECK(mt::roc_auc_score(std::span<const int>(t), std::span<const double>(s)) == 0.75);
  const std::vector<double> tie{0.5, 0.5, 0.5, 0.5};
  CHECK(mt::roc_auc_score(std::span<const int>(t), std::span<const double>(tie)) == 0.5);
  const std::vector<double> w{1, 0, 1, 1};
  CHECK(mt::accuracy_score(std::span<const int>(t), std::span<const int>(p), w) == 1.0);
}

TEST_CASE("bad metric input raises") {
  const std::vector<int> t{0, 0, 1, 1}, short_p{0, 1};
  CHECK_THROWS_AS(mt::accuracy_score(std::span<const int>(t), std::span<const int>(short_p)), shopml::shape_error);
  const std::vector<int> one{1, 1, 1};
  const std::vector<double> s3{0.1, 0.2, 0.3};
  CHECK_THROWS_WITH_AS(mt::roc_auc_score(std::span<const int>(one), std::span<const double>(s3)), doctest::Contains("one class"),
                       shopml::value_error);
  const std::vector<double> nan_s{0.1, std::nan(""), 0.3, 0.2};
  CHECK_THROWS_AS(mt::roc_auc_score(std::span<const int>(t), std::span<const double>(nan_s)), shopml::value_error);
  Eigen::MatrixXd bad(4, 2);
  bad << 0.5, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5;
  const std::vector<int> three{0, 1, 2, 0};
  Eigen::MatrixXd p3 = Eigen::MatrixXd::Constant(4, 3, 0.5);
  CHECK_THROWS_AS(mt::roc_auc_score_ovr(std::span<const int>(three), p3), shopml::value_error);
  CHECK_THROWS_AS(mt::roc_auc_score_ovr(std::span<const int>(three), bad), shopml::shape_error);
  Eigen::MatrixXd above(4, 2);
  above << 1.5, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5;
  CHECK_THROWS_AS(mt::log_loss(std::span<const int>(t), above), shopml::value_error);
  CHECK_THROWS_AS(mt::log_loss(std::span<const int>(one), Eigen::MatrixXd::Constant(3, 1, 0.5)), shopml::value_error);
  const std::vector<std::string> a{"x", "y", "z"}, b{"x", "y", "y"};
  CHECK_THROWS_AS(mt::f1_score(std::span<const std::string>(a), std::span<const std::string>(b)), shopml::value_error);
  const std::vector<std::string> names{"only one"};
  CHECK_THROWS_AS(mt::classification_report(std::span<const std::string>(a), std::span<const std::string>(b), names),
                  shopml::value_error);
}
