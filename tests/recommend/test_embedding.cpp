// Exact embedding top-k against a scalar reference; hybrid CF + content blending.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "golden.hpp"
#include "seeded_matrix.hpp"
#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/hybrid.hpp"

using namespace shopml;
using namespace shopml::recommend;

namespace {

// Scalar reference in double: best first, ties by lower row.
std::vector<std::int32_t> reference(const std::vector<float>& db, const float* q, std::size_t dim, std::size_t k, bool cosine) {
  const std::size_t rows = db.size() / dim;
  std::vector<double> s(rows);
  double qn = 0;
  for (std::size_t d = 0; d < dim; ++d) qn += double(q[d]) * q[d];
  for (std::size_t r = 0; r < rows; ++r) {
    double dot = 0, n = 0;
    for (std::size_t d = 0; d < dim; ++d) {
      dot += double(db[r * dim + d]) * q[d];
      n += double(db[r * dim + d]) * db[r * dim + d];
    }
    s[r] = cosine ? dot / std::sqrt(n * qn) : dot;
  }
  std::vector<std::int32_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return s[a] > s[b]; });
  order.resize(std::min(k, rows));
  return order;
}

}  // namespace

TEST_CASE("embedding_index: exact top-k equals a scalar reference (cosine, inner product, 1 and many queries)") {
  const std::size_t dim = 48, rows = 3000;
  const auto db = test::normal_matrix(rows, dim, 1);
  for (const auto metric : {embedding_metric::cosine, embedding_metric::inner_product}) {
    const bool cosine = metric == embedding_metric::cosine;
    embedding_index<> index(db, dim, metric, 2);
    for (const std::size_t n_queries : {1, 2, 37}) {
      const auto queries = test::normal_matrix(n_queries, dim, 2 + static_cast<unsigned>(n_queries));
      for (const int threads : {1, 3}) {
        const auto hits = index.search(queries, 10, threads);
        REQUIRE(hits.queries() == n_queries);
        for (std::size_t q = 0; q < n_queries; ++q) {
          const auto expect = reference(db, queries.data() + q * dim, dim, 10, cosine);
          const auto got = hits.ids_of(q);
          CAPTURE(q);
          CHECK(std::vector<std::int32_t>(got.begin(), got.end()) == expect);
          for (std::size_t i = 1; i < 10; ++i) CHECK(hits.scores_of(q)[i] <= hits.scores_of(q)[i - 1]);
        }
      }
    }
  }
}

TEST_CASE("embedding_index: ties by lower row, k beyond the catalogue, bad input") {
  std::vector<float> db = {1, 0, 1, 0, 0, 1, 1, 0};  // rows 0, 1 and 3 identical
  embedding_index<> index(db, 2, embedding_metric::inner_product, 1);
  const std::vector<float> q = {1, 0};
  const auto hits = index.search(q, 10);
  CHECK(hits.k == 4);
  CHECK(std::vector<std::int32_t>(hits.ids_of(0).begin(), hits.ids_of(0).end()) == std::vector<std::int32_t>{0, 1, 3, 2});
  CHECK_THROWS_AS(index.search(q, 0), value_error);
  CHECK_THROWS_AS(index.search(std::vector<float>{1, 0, 1}, 1), shape_error);
  CHECK_THROWS_WITH_AS(index.search(std::vector<float>{1, NAN}, 1), doctest::Contains("query 0"), value_error);
  CHECK_THROWS_AS(embedding_index<>(db, 3), shape_error);
  CHECK_THROWS_AS(embedding_index<>(db, 0), value_error);
  CHECK_THROWS_WITH_AS(embedding_index<>(std::vector<float>{1, 2, INFINITY, 0}, 2), doctest::Contains("row 1"), value_error);
  // zero vectors under cosine score 0, never NaN
  embedding_index<> cos(std::vector<float>{0, 0, 1, 1}, 2);
  const auto z = cos.search(q, 2);
  CHECK(z.ids_of(0)[0] == 1);
  CHECK(z.scores_of(0)[1] == 0.0f);
}

TEST_CASE("hybrid_similar_items: blends CF and content, cold-start items get content only") {
  // items 0..3 with interactions, item 4 without; content: 4 is closest to 0
  const csr_matrix m = to_csr({{0, 0, 1, 0}, {0, 1, 1, 0}, {1, 0, 1, 0}, {1, 2, 1, 0}, {2, 3, 1, 0}, {2, 1, 1, 0}}, 3, 5);
  auto cf = cosine_recommender(5, 1);
  cf.fit(m);
  const std::vector<float> content = {1, 0, 0, 0.8f, 0.6f, 0, 0, 1, 0, 0, 0.6f, 0.8f, 0.95f, 0.31f, 0};
  embedding_index<> index(content, 3, embedding_metric::cosine, 1);

  const auto cold = hybrid_similar_items(cf, index, 4, 3, 0.7);
  REQUIRE_FALSE(cold.empty());
  CHECK(cold.front().index == 0);
  CHECK(cold.front().score == doctest::Approx(0.3 * index.score(4, 0)));

  const auto warm = hybrid_similar_items(cf, index, 0, 4, 0.5);
  for (const auto& s : warm) {
    CHECK(s.index != 0);
    const double c = cf.similarity().coeff(0, s.index);
    CHECK(s.score == doctest::Approx(0.5 * c + 0.5 * index.score(0, static_cast<std::size_t>(s.index))).epsilon(1e-6));
  }
  CHECK_THROWS_AS(hybrid_similar_items(cf, index, 0, 4, 1.5), value_error);
  embedding_index<> wrong(std::vector<float>{1, 0}, 2);
  CHECK_THROWS_AS(hybrid_similar_items(cf, wrong, 0), shape_error);
}
