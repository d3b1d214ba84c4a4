// Every function that takes texts or labels takes any contiguous range of them, the
// same way: std::vector<std::string>, std::span, std::string_view elements, std::array,
// C strings and (for texts, and for fit's labels) a braced list.

#include <doctest/doctest.h>

#include <Eigen/Core>
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/metrics/classification_report.hpp"
#include "shopml/model_selection/train_test_split.hpp"
#include "shopml/recommend/item_item.hpp"
#include "shopml/texts.hpp"

namespace ms = shopml::model_selection;

namespace {

std::vector<std::string> seen(shopml::texts_view texts) {
  std::vector<std::string> out;
  for (std::string_view t : texts) out.emplace_back(t);
  return out;
}

const std::vector<std::string> expected{"red tee", "blue jeans", "cap"};

}  // namespace

TEST_CASE("texts_view: vector<string>, vector<string_view>, span, array of C strings, braced list") {
  const std::vector<std::string> strings = expected;
  const std::vector<std::string_view> views(strings.begin(), strings.end());
  const std::array<const char*, 3> c_strings{"red tee", "blue jeans", "cap"};
  CHECK(seen(strings) == expected);
  CHECK(seen(views) == expected);
  CHECK(seen(std::span<const std::string>(strings)) == expected);
  CHECK(seen(std::span(views)) == expected);
  CHECK(seen(c_strings) == expected);
  CHECK(seen({"red tee", "blue jeans", "cap"}) == expected);
  CHECK(seen(std::vector<std::string>{"red tee", "blue jeans", "cap"}) == expected);  // a temporary, for the call
  CHECK(seen({}).empty());
  const shopml::texts_view v = strings;
  CHECK(v.size() == 3);
  CHECK(v[1] == "blue jeans");
}

TEST_CASE("train_test_split and take: the same split from every range of labels") {
  const std::vector<std::string> labels{"a", "b", "a", "b", "a", "b", "a", "b"};
  const std::vector<std::string_view> views(labels.begin(), labels.end());
  const std::array<const char*, 8> c_strings{"a", "b", "a", "b", "a", "b", "a", "b"};
  const auto want = ms::train_test_split(std::span<const std::string>(labels), 0.25, 7);
  for (const auto& got :
       {ms::train_test_split(labels, 0.25, 7), ms::train_test_split(views, 0.25, 7), ms::train_test_split(c_strings, 0.25, 7)}) {
    CHECK(got.train == want.train);
    CHECK(got.test == want.test);
  }
  const std::vector<int> ints{0, 1, 0, 1, 0, 1, 0, 1};
  const auto by_int = ms::train_test_split(ints, 0.25, 7);
  CHECK(by_int.test.size() == 2);

  CHECK(ms::take(labels, want.test) == ms::take(std::span<const std::string>(labels), want.test));
  const std::vector<std::string_view> taken = ms::take(views, want.test);
  REQUIRE(taken.size() == want.test.size());
  CHECK(taken[0] == labels[want.test[0]]);
  CHECK(ms::take(ints, std::vector<std::size_t>{1, 0}) == std::vector<int>{1, 0});
  CHECK_THROWS_WITH_AS(ms::take(ints, std::vector<std::size_t>{8}), doctest::Contains("index 8 is past the 8 values"),
                       shopml::shape_error);
}

TEST_CASE("classification_report: vectors of strings, string_views, C strings and ints read the same") {
  const std::vector<std::string> truth{"neg", "pos", "pos", "neg"}, pred{"neg", "pos", "neg", "neg"};
  const std::string want =
      shopml::metrics::classification_report(std::span<const std::string>(truth), std::span<const std::string>(pred));
  CHECK(shopml::metrics::classification_report(truth, pred) == want);
  const std::vector<std::string_view> tv(truth.begin(), truth.end()), pv(pred.begin(), pred.end());
  CHECK(shopml::metrics::classification_report(tv, pv) == want);
  const std::array<const char*, 4> tc{"neg", "pos", "pos", "neg"}, pc{"neg", "pos", "neg", "neg"};
  CHECK(shopml::metrics::classification_report(tc, pc) == want);
  const std::vector<int> ti{0, 1, 1, 0}, pi{0, 1, 0, 0};
  CHECK(shopml::metrics::classification_report(ti, pi, {"neg", "pos"}) == want);  // target_names as a braced list
}

TEST_CASE("logistic_regression::fit: labels as vector<string>, vector<string_view>, C strings, braced list") {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X(4, 2);
  X << 1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f;
  const std::vector<std::string> y{"pos", "pos", "neg", "neg"};
  using clf = shopml::linear_model::logistic_regression<float, std::string>;
  const auto want = clf().fit(X, y).predict_proba(X);
  const std::vector<std::string_view> views(y.begin(), y.end());
  const std::array<const char*, 4> c_strings{"pos", "pos", "neg", "neg"};
  CHECK(clf().fit(X, views).predict_proba(X) == want);
  CHECK(clf().fit(X, c_strings).predict_proba(X) == want);
  CHECK(clf().fit(X, {"pos", "pos", "neg", "neg"}).predict_proba(X) == want);
  CHECK(clf().fit(X, std::span<const std::string>(y)).classes() == std::vector<std::string>{"neg", "pos"});
  const std::vector<int> ints{1, 1, 0, 0};
  CHECK(shopml::linear_model::logistic_regression<float>().fit(X, ints).classes() == std::vector<std::int64_t>{0, 1});
}

TEST_CASE("recommenders take other sparse layouts of double values (converted)") {
  using namespace shopml::recommend;
  const csr_matrix user_items = to_csr({{0, 0, 1, 0}, {0, 1, 1, 0}, {1, 1, 1, 0}, {1, 2, 1, 0}, {2, 0, 1, 0}}, 3, 3);
  const csc_matrix by_item = user_items;
  const auto a = cosine_recommender(5).fit(user_items).similar_items(0);
  const auto b = cosine_recommender(5).fit(by_item).similar_items(0);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].index == b[i].index);
}

TEST_CASE("similar_items: the item itself kept by default (implicit), left out on request") {
  using namespace shopml::recommend;
  const csr_matrix user_items =
      to_csr({{0, 0, 1, 0}, {0, 1, 1, 0}, {1, 1, 1, 0}, {1, 2, 1, 0}, {2, 0, 1, 0}, {2, 1, 1, 0}}, 3, 3);
  auto model = cosine_recommender(5);
  model.fit(user_items);
  const auto with_self = model.similar_items(1, 3);
  REQUIRE(!with_self.empty());
  CHECK(with_self.front().index == 1);  // its own best neighbour
  const auto without = model.similar_items(1, {.N = 3, .include_self = false});
  for (const auto& s : without) CHECK(s.index != 1);
  CHECK(without.size() == with_self.size() - 1);
  CHECK(model.similar_items(1, {.N = 1, .include_self = false}).size() == 1);
}
