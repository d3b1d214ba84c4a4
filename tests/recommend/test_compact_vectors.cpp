// float16 / int8 storage: the kernels against scalar sums, and exact search over compact
// rows against float32 on real embeddings.

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "embeddings_data.hpp"
#include "shopml/backend/cpu.hpp"
#include "shopml/io/half.hpp"
#include "shopml/recommend/embedding_index.hpp"

using namespace shopml;
using namespace shopml::recommend;

TEST_CASE("compact vectors: dot_i8, dot_f16, widen_i8 and widen_f16 against scalar sums, every length") {
  using K = kernels<cpu>;
  static_assert(scores_compact_vectors<K>);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (std::size_t n : {0, 1, 7, 8, 9, 31, 32, 33, 100, 384}) {
    std::vector<float> q(n), widened(n);
    std::vector<std::int8_t> b(n);
    std::vector<std::uint16_t> h(n);
    for (std::size_t i = 0; i < n; ++i) {
      q[i] = normal(rng);
      b[i] = static_cast<std::int8_t>(static_cast<int>(rng() % 255) - 127);
      // normal, subnormal and zero halves of both signs
      h[i] = io::f32_to_f16(i % 5 == 0 ? 3e-6f * normal(rng) : i % 7 == 0 ? -0.0f : 100.0f * normal(rng));
    }
    double want_b = 0, want_h = 0;
    for (std::size_t i = 0; i < n; ++i) {
      want_b += double(q[i]) * b[i];
      want_h += double(q[i]) * io::f16_to_f32(h[i]);
    }
    CAPTURE(n);
    CHECK(K::dot_i8(q.data(), b.data(), n) == doctest::Approx(want_b).epsilon(1e-5).scale(100));
    CHECK(K::dot_f16(q.data(), h.data(), n) == doctest::Approx(want_h).epsilon(1e-5).scale(1e4));
    K::widen_i8(b.data(), n, widened.data());
    for (std::size_t i = 0; i < n; ++i) CHECK(widened[i] == static_cast<float>(b[i]));
    K::widen_f16(h.data(), n, widened.data());
    for (std::size_t i = 0; i < n; ++i)
      CHECK(std::bit_cast<std::uint32_t>(widened[i]) == std::bit_cast<std::uint32_t>(io::f16_to_f32(h[i])));
  }
}

TEST_CASE("embedding_index: exact kNN over int8 and float16 rows keeps the float32 top-10 of real embeddings") {
  const auto emb = test::golden_review_embeddings();
  const std::size_t dim = test::golden_dim, rows = emb.size() / dim;
  REQUIRE(rows >= 2000);
  const embedding_index<> f32(emb, dim, embedding_metric::cosine, 2);
  const auto truth = f32.search(emb, 10, 2);  // every golden text as a query
  for (const auto storage : {vector_storage::f16, vector_storage::i8}) {
    const embedding_index<> compact(emb, dim, embedding_metric::cosine, 2, storage);
    CHECK(compact.storage().empty());
    CHECK(compact.storage_bytes() == rows * dim * value_bytes(storage) + (storage == vector_storage::i8 ? rows * 4 : 0));
    for (const int threads : {1, 2}) {
      const auto got = compact.search(emb, 10, threads);
      double recall = 0, worst_score_error = 0;
      for (std::size_t q = 0; q < rows; ++q) {
        recall += test::overlap(got.ids_of(q), truth.ids_of(q));
        for (std::size_t i = 0; i < 10; ++i)
          worst_score_error = std::max(worst_score_error, double(std::fabs(got.scores_of(q)[i] - truth.scores_of(q)[i])));
      }
      recall /= static_cast<double>(rows);
      MESSAGE(to_string(storage), " threads=", threads, ": top-10 recall ", recall, ", largest score change ", worst_score_error);
      CHECK(recall >= (storage == vector_storage::i8 ? 0.99 : 0.999));
      CHECK(worst_score_error < (storage == vector_storage::i8 ? 0.02 : 1e-3));
    }
    // A stored row widens back to within its storage's rounding.
    const auto v = compact.vector(17), w = f32.vector(17);
    const float tolerance = storage == vector_storage::i8 ? 0.004f : 1e-3f;
    for (std::size_t d = 0; d < dim; ++d) CHECK(std::fabs(v[d] - w[d]) <= tolerance);
  }
}

TEST_CASE("embedding_index: compact storage refuses values float16 cannot hold, keeps zero rows at score 0") {
  CHECK_THROWS_WITH_AS(
      embedding_index<>(std::vector<float>{1e6f, 0, 1, 0}, 2, embedding_metric::inner_product, 1, vector_storage::f16),
      doctest::Contains("float16"), value_error);
  const embedding_index<> zero(std::vector<float>{0, 0, 3, 4}, 2, embedding_metric::inner_product, 1, vector_storage::i8);
  const auto hits = zero.search(std::vector<float>{1, 1}, 2);
  CHECK(hits.ids_of(0)[0] == 1);
  CHECK(hits.scores_of(0)[0] == doctest::Approx(7).epsilon(0.01));
  CHECK(hits.scores_of(0)[1] == 0.0f);
}
