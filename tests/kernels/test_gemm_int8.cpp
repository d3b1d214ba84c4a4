// The int8 GEMM (simd/gemm_int8.hpp, kernels<cpu>::pack_b_int8 / gemm_packed_int8):
//  * the quantisation: weights per output channel, symmetric s8, half to even; activations per
//    row as ONNX Runtime's DynamicQuantizeLinear (range including 0, zero point, saturation);
//  * every road this CPU runs — the fp32 GEMM on the integers everywhere, AVX2 and AMX-INT8
//    tiles where it has them — against the exact integer formula, on shapes with partial tiles,
//    with bias, alpha, beta and ldc > n; against the fp32 product within quantisation error;
//    AVX2 and AMX bit for bit alike, and alike at 1 and 2 threads;
//  * the pairs that would saturate VPMADDUBSW (u8 near 255 times s8 near ±127) summed exactly.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#include "reference.hpp"
#include "shopml/backend/cpu.hpp"

namespace {

namespace int8 = shopml::simd::int8;
using K = shopml::kernels<shopml::cpu>;
using shopml::test::random_floats;

void check_roads(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, float beta, int threads) {
  CAPTURE(trans_b);
  CAPTURE(m);
  CAPTURE(n);
  CAPTURE(k);
  const std::size_t ldc = n + 3, ldb = trans_b ? k : n;
  auto a = random_floats(m * k, 11, -3.0f, 2.0f);
  if (m > 2)
    for (std::size_t j = 0; j < k; ++j) a[2 * k + j] = 0.0f;  // a row of zeros
  const auto b = random_floats(k * n, 12), bias = random_floats(n, 13), c0 = random_floats(m * ldc, 14);
  // The exact formula from the same quantisation.
  const auto w = int8::quantize_weights(trans_b, k, n, b.data(), ldb);
  std::vector<double> want(m * n), fp32(m * n);
  std::vector<std::uint8_t> q(k);
  for (std::size_t i = 0; i < m; ++i) {
    const auto rq = int8::quantize_row(a.data() + i * k, k, q.data());
    for (std::size_t j = 0; j < n; ++j) {
      std::int64_t exact = 0;
      double real = 0;
      for (std::size_t p = 0; p < k; ++p) {
        exact += (std::int64_t(q[p]) - rq.zero_point) * w.values[p * n + j];
        real += double(a[i * k + p]) * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
      }
      const double keep = beta != 0.0f ? beta * double(c0[i * ldc + j]) : 0.0;
      want[i * n + j] = alpha * double(rq.scale) * w.scales[j] * double(exact) + bias[j] + keep;
      fp32[i * n + j] = alpha * real + bias[j] + keep;
    }
  }
  std::vector<float> fast;  // the first of the avx2 and amx roads to run
  for (const auto road : {int8::road::fp32, int8::road::avx2, int8::road::amx}) {
    if (!int8::usable(road)) continue;
    CAPTURE(int8::road_name(road));
    auto c = c0;
    if (beta == 0.0f)
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
    const auto packed = K::pack_b_int8(trans_b, k, n, b.data(), ldb, road);
    CHECK(packed.rows() == k);
    CHECK(packed.cols() == n);
    CHECK(packed.road() == road);
    K::gemm_packed_int8(m, alpha, a.data(), k, packed, beta, c.data(), ldc, bias.data(), threads);
    double worst = 0, worst_fp32 = 0, scale = 0;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        const double got = c[i * ldc + j];
        worst = std::max(worst, std::abs(got - want[i * n + j]) / (1.0 + std::abs(want[i * n + j])));
        worst_fp32 = std::max(worst_fp32, std::abs(got - fp32[i * n + j]));
        scale = std::max(scale, std::abs(fp32[i * n + j]));
      }
    CHECK(worst <= 1e-5);                       // the exact integers, scaled in fp32
    CHECK(worst_fp32 <= 0.02 * (1.0 + scale));  // and near the real product
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == c0[i * ldc + j]);
    if (road == int8::road::fp32) continue;
    if (fast.empty())
      fast = c;
    else
      CHECK(shopml::test::same_bits(c, fast));  // amx and avx2: the same integers, the same epilogue
    auto again = c0;
    K::gemm_packed_int8(m, alpha, a.data(), k, packed, beta, again.data(), ldc, bias.data(), 3 - threads);
    CHECK(shopml::test::same_bits(again, c));
  }
}

}  // namespace

TEST_CASE("int8 quantisation: weights per channel, rows as DynamicQuantizeLinear") {
  // Two columns of op(B) (k = 3, trans_b: stored as rows): largest |w| maps to ±127, halves to even.
  const std::vector<float> b{1.0f, -0.5f, 0.25f, 0.0f, 0.0f, 0.0f};
  const auto w = int8::quantize_weights(true, 3, 2, b.data(), 3);
  CHECK(w.scales[0] == doctest::Approx(1.0f / 127));
  CHECK(w.values[0 * 2 + 0] == 127);
  CHECK(w.values[1 * 2 + 0] == -64);  // -63.5 -> -64 (half to even)
  CHECK(w.values[2 * 2 + 0] == 32);   // 31.75 -> 32
  CHECK(w.scales[1] == 1.0f);         // a zero column
  CHECK(w.column_sums[0] == 127 - 64 + 32);
  std::vector<std::uint8_t> q(3);
  const float row[] = {-1.0f, 0.0f, 1.55f};  // range [-1, 1.55]: scale 0.01, zero point 100
  const auto rq = int8::quantize_row(row, 3, q.data());
  CHECK(rq.scale == doctest::Approx(0.01f));
  CHECK(rq.zero_point == 100);
  CHECK(q[0] == 0);
  CHECK(q[1] == 100);
  CHECK(q[2] == 255);
  const float positive[] = {0.5f, 2.0f};  // the range always holds 0: zero point 0
  std::vector<std::uint8_t> q2(2);
  CHECK(int8::quantize_row(positive, 2, q2.data()).zero_point == 0);
  CHECK(q2[1] == 255);
  const float zeros[] = {0.0f, 0.0f};
  const auto rz = int8::quantize_row(zeros, 2, q2.data());
  CHECK(rz.scale == 1.0f);
  CHECK(q2[0] == 0);
}

TEST_CASE("gemm_packed_int8 against the exact integer formula and the fp32 product") {
  std::printf("[gemm_int8] roads checked: fp32 GEMM on the integers%s%s; best: %s\n",
              int8::avx2_int8_usable() ? ", AVX2" : " (no AVX2 here)",
              int8::amx_int8_usable() ? ", AMX-INT8 tiles" : " (no usable AMX-INT8 here)", int8::road_name(int8::best_road()));
  for (bool trans_b : {true, false})
    for (std::size_t m : {1, 17, 32, 75})
      for (auto [n, k] : {std::pair<std::size_t, std::size_t>{16, 64}, {45, 70}, {100, 384}, {33, 1}})
        check_roads(trans_b, m, n, k, 1.0f, 0.0f, 2);
  check_roads(true, 40, 50, 130, 0.5f, 2.0f, 1);
}

TEST_CASE("gemm_packed_int8: pairs that would saturate a plain VPMADDUBSW are summed exactly") {
  // Rows mostly at their maximum (a_q = 255) against weights at ±127 of one sign: adjacent
  // pairs reach 2 · 255 · 127 = 64770, twice what a 16-bit lane holds.
  const std::size_t m = 5, n = 24, k = 128;
  std::vector<float> a(m * k, 1.0f), b(n * k);
  for (std::size_t i = 0; i < m; ++i) a[i * k] = -0.25f * static_cast<float>(i);  // zero points 0..
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t p = 0; p < k; ++p) b[j * k + p] = (j % 2 ? -1.0f : 1.0f) * (p % 7 == 3 ? 0.5f : 1.0f);
  const auto w = int8::quantize_weights(true, k, n, b.data(), k);
  std::vector<std::uint8_t> q(k);
  for (const auto road : {int8::road::fp32, int8::road::avx2, int8::road::amx}) {
    if (!int8::usable(road)) continue;
    CAPTURE(int8::road_name(road));
    std::vector<float> c(m * n);
    K::gemm_packed_int8(m, 1.0f, a.data(), k, K::pack_b_int8(true, k, n, b.data(), k, road), 0.0f, c.data(), n, nullptr, 1);
    for (std::size_t i = 0; i < m; ++i) {
      const auto rq = int8::quantize_row(a.data() + i * k, k, q.data());
      for (std::size_t j = 0; j < n; ++j) {
        std::int64_t exact = 0;
        for (std::size_t p = 0; p < k; ++p) exact += (std::int64_t(q[p]) - rq.zero_point) * w.values[p * n + j];
        const float want = rq.scale * w.scales[j] * static_cast<float>(exact);
        CHECK(c[i * n + j] == doctest::Approx(want).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("pack_b_int8 refuses a road this CPU cannot run") {
  const std::vector<float> b(64, 0.5f);
  for (const auto road : {int8::road::avx2, int8::road::amx})
    if (!int8::usable(road))
      CHECK_THROWS_WITH_AS(K::pack_b_int8(true, 8, 8, b.data(), 8, road), doctest::Contains(int8::road_name(road)),
                           shopml::value_error);
}

#if defined(SHOPML_INT8_AVX2)
TEST_CASE("the AVX2 road quantises each row to the bytes of quantize_row, shifted by 128, and their magnitudes") {
  if (!int8::avx2_int8_usable()) return;
  for (std::size_t k : {1, 7, 8, 45, 384})
    for (bool ties : {false, true}) {
      CAPTURE(k);
      CAPTURE(ties);
      auto a = random_floats(k, static_cast<std::uint32_t>(k), -2.0f, 3.0f);
      if (ties)  // range [0, 255]: scale 1, and every value halfway between two integers but the ends
        for (std::size_t j = 0; j < k; ++j) a[j] = j == 0 ? 0.0f : j == 1 ? 255.0f : static_cast<float>(j % 255) + 0.5f;
      std::vector<std::uint8_t> want(k);
      const auto rq = int8::quantize_row(a.data(), k, want.data());
      const std::size_t kp = (k + 63) / 64 * 64;
      std::vector<std::int8_t> got(2 * kp, 99);
      const auto sq = int8::detail::quantize_row_shifted_avx2(a.data(), k, kp, got.data());
      CHECK(sq.scale == rq.scale);
      CHECK(sq.zero_point == rq.zero_point);
      for (std::size_t j = 0; j < k; ++j) {
        CHECK(got[j] == static_cast<std::int8_t>(want[j] - 128));
        CHECK(static_cast<std::uint8_t>(got[kp + j]) == std::abs(int(want[j]) - 128));
      }
      for (std::size_t j = k; j < kp; ++j) CHECK((got[j] == 0 && got[kp + j] == 0));
    }
}
#endif
