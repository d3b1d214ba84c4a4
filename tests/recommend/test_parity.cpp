// Parity with implicit 0.7.3 on MovieLens-100k: neighbour lists, recommendations,
// similar_items and ranking metrics against tests/golden/recommend (scripts/golden/recommend.py).

#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <set>
#include <string>

#include "golden.hpp"
#include "shopml/recommend/evaluation.hpp"
#include "shopml/recommend/item_item.hpp"

using namespace shopml;
using namespace shopml::recommend;

namespace {

constexpr double tolerance = 1e-5;

item_item_recommender make_model(const std::string& name) {
  if (name == "cosine") return cosine_recommender(50, 2);
  if (name == "tfidf") return tfidf_recommender(50, 2);
  return bm25_recommender(50, 1.2, 0.75, 2);
}

csr_matrix movielens(bool binary) {
  auto records = test::movielens_records();
  if (binary)
    for (auto& r : records) r.value = 1.0;
  return to_csr(records, test::movielens_users, test::movielens_items);
}

void check_neighbours(const csr_matrix& ours, const csr_matrix& theirs, const std::string& what) {
  REQUIRE(ours.rows() == theirs.rows());
  std::int32_t mismatched_rows = 0;
  double worst = 0.0;
  for (std::int32_t i = 0; i < ours.rows(); ++i) {
    std::vector<std::int32_t> a, b;
    for (csr_matrix::InnerIterator it(ours, i); it; ++it) a.push_back(static_cast<std::int32_t>(it.index()));
    for (csr_matrix::InnerIterator it(theirs, i); it; ++it) b.push_back(static_cast<std::int32_t>(it.index()));
    if (a != b) {
      ++mismatched_rows;
      continue;
    }
    for (csr_matrix::InnerIterator x(ours, i), y(theirs, i); x; ++x, ++y)
      worst = std::max(worst, std::abs(x.value() - y.value()));
  }
  INFO(what);
  CHECK(mismatched_rows == 0);
  CHECK(worst <= tolerance);
}

}  // namespace

TEST_CASE("parity: item-item neighbours, recommendations and similar_items match implicit, on the dense and sparse roads") {
  const auto golden = test::golden_file();
  for (const knn_road road : {knn_road::dense, knn_road::sparse})
    for (const bool binary : {false, true}) {
      const csr_matrix user_items = movielens(binary);
      for (const std::string name : {"cosine", "tfidf", "bm25"}) {
        const std::string prefix = std::string(binary ? "binary." : "explicit.") + name;
        CAPTURE(prefix);
        CAPTURE(road == knn_road::dense ? "dense" : "sparse");
        auto model = make_model(name);
        model.fit(user_items, {.road = road});
        check_neighbours(model.similarity(), test::golden_csr(golden, prefix, test::movielens_items), prefix + " similarity");

        std::vector<std::int32_t> users(test::movielens_users);
        std::iota(users.begin(), users.end(), 0);
        const auto recs = model.recommend(users, user_items, {.N = 10});
        const auto rec_ids = golden.to_i64(prefix + ".rec_ids");
        const auto rec_scores = test::golden_f64(golden, prefix + ".rec_scores");
        REQUIRE(rec_ids.size() == recs.ids.size());
        std::size_t id_mismatches = 0;
        double worst = 0.0;
        for (std::size_t p = 0; p < rec_ids.size(); ++p) {
          id_mismatches += rec_ids[p] != recs.ids[p];
          worst = std::max(worst, std::abs(rec_scores[p] - recs.scores[p]));
        }
        CHECK(id_mismatches == 0);
        CHECK(worst <= tolerance);

        // similar_items orders ties its own way (np.argsort), so ids are compared as sets above
        // the 10th score (TF-IDF and BM25 scores differ in the last bits: numpy's log is not
        // glibc's) and scores position by position.
        const auto sim_ids = golden.to_i64(prefix + ".similar_ids");
        const auto sim_scores = test::golden_f64(golden, prefix + ".similar_scores");
        for (std::int32_t item = 0; item < 50; ++item) {
          const auto ours = model.similar_items(item, 10);
          REQUIRE(ours.size() == 10);
          const double last = sim_scores[static_cast<std::size_t>(item) * 10 + 9];
          std::set<std::int64_t> a, b;
          for (std::size_t c = 0; c < 10; ++c) {
            const std::size_t p = static_cast<std::size_t>(item) * 10 + c;
            CHECK(std::abs(ours[c].score - sim_scores[p]) <= tolerance);
            if (ours[c].score > last + tolerance) a.insert(ours[c].index);
            if (sim_scores[p] > last + tolerance) b.insert(sim_ids[p]);
          }
          CHECK(a == b);
        }
      }
    }
}

TEST_CASE("parity: ranking metrics equal implicit.evaluation on the same splits") {
  const auto golden = test::golden_file();
  for (const std::string split : {"random", "loo"}) {
    const csr_matrix train = test::golden_csr(golden, split + ".train", test::movielens_items);
    const csr_matrix test_part = test::golden_csr(golden, split + ".test", test::movielens_items);
    for (const std::string name : {"cosine", "tfidf", "bm25"}) {
      CAPTURE(split);
      CAPTURE(name);
      auto model = make_model(name);
      model.fit(train);
      const auto m = recommend::ranking_metrics_at_k(model, train, test_part, 10, 2);
      const auto& meta = golden.metadata();
      const auto expect = [&](const char* metric) { return std::stod(meta.at(split + "." + name + "." + metric)); };
      CHECK(m.precision == doctest::Approx(expect("precision")).epsilon(1e-12));
      CHECK(m.map == doctest::Approx(expect("map")).epsilon(1e-12));
      CHECK(m.ndcg == doctest::Approx(expect("ndcg")).epsilon(1e-12));
      CHECK(m.auc == doctest::Approx(expect("auc")).epsilon(1e-12));
      CHECK(m.users > 0);
      CHECK(m.recall > 0.0);
      CHECK(m.hit_rate >= m.precision);
      CHECK(m.coverage > 0.0);
      CHECK(m.coverage <= 1.0);
    }
  }
}
