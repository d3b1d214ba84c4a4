// The bf16 GEMM (simd/gemm_bf16.hpp, kernels<cpu>::pack_b_bf16 / gemm_packed_bf16):
//  * the rounding to bfloat16 is round-to-nearest-even, as torch's .to(torch.bfloat16);
//  * both roads — the fp32 GEMM on rounded operands everywhere, AMX tiles where this CPU
//    has them — against a double-precision product of the bf16-rounded operands, on
//    shapes that leave partial tiles in every dimension, with bias, alpha, beta and ldc > n;
//  * beta = 0 never reads C.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#include "reference.hpp"
#include "shopml/backend/cpu.hpp"

namespace {

namespace bf16 = shopml::simd::bf16;
using K = shopml::kernels<shopml::cpu>;
using shopml::test::random_floats;

// C = alpha · round(A) · round(op(B)) + beta · C + bias in double; `scale` gets Σ|a·b| per element.
std::vector<double> reference(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const std::vector<float>& a,
                              const std::vector<float>& b, float beta, const std::vector<float>& c, std::size_t ldc,
                              const std::vector<float>& bias, std::vector<double>& scale) {
  std::vector<double> out(m * n);
  scale.assign(m * n, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double sum = 0, mag = 0;
      for (std::size_t p = 0; p < k; ++p) {
        const double x = bf16::round_trip(a[i * k + p]);
        const double y = bf16::round_trip(trans_b ? b[j * k + p] : b[p * n + j]);
        sum += x * y;
        mag += std::abs(x * y);
      }
      out[i * n + j] = alpha * sum + (beta != 0.0f ? beta * double(c[i * ldc + j]) : 0.0) + bias[j];
      scale[i * n + j] = std::abs(alpha) * mag + 1.0;
    }
  return out;
}

// Both roads where available: road 0 the fp32 GEMM on rounded operands, road 1 AMX.
void check_roads(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, float beta, int threads) {
  CAPTURE(trans_b);
  CAPTURE(m);
  CAPTURE(n);
  CAPTURE(k);
  CAPTURE(beta);
  const std::size_t ldc = n + 3;
  const auto a = random_floats(m * k, 1), b = random_floats(k * n, 2), bias = random_floats(n, 3);
  const auto c0 = random_floats(m * ldc, 4);
  std::vector<double> scale;
  const auto want = reference(trans_b, m, n, k, alpha, a, b, beta, c0, ldc, bias, scale);
  const auto compare = [&](const std::vector<float>& got) {
    double worst = 0;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j)
        worst = std::max(worst, std::abs(got[i * ldc + j] - want[i * n + j]) / scale[i * n + j]);
    CHECK(worst <= 1e-6);                // fp32 sums of exact products: a few ulps of Σ|a·b|
    for (std::size_t i = 0; i < m; ++i)  // the columns beyond n are not written
      for (std::size_t j = n; j < ldc; ++j) CHECK(got[i * ldc + j] == c0[i * ldc + j]);
  };
  for (bool allow_amx : {false, true}) {  // the fp32 road, then AMX where this CPU has it
    CAPTURE(allow_amx);
    auto c = c0;
    if (beta == 0.0f)
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
    const auto packed = K::pack_b_bf16(trans_b, k, n, b.data(), trans_b ? k : n, allow_amx);
    CHECK(packed.rows() == k);
    CHECK(packed.cols() == n);
    CHECK(packed.amx() == (allow_amx && bf16::amx_bf16_usable()));
    K::gemm_packed_bf16(m, alpha, a.data(), k, packed, beta, c.data(), ldc, bias.data(), threads);
    compare(c);
  }
}

}  // namespace

TEST_CASE("bf16 rounding: to nearest even, NaN and infinities kept") {
  CHECK(bf16::to_bf16(1.0f) == 0x3f80);
  CHECK(bf16::to_bf16(1.0f + 0x1p-8f) == 0x3f80);             // halfway, even stays
  CHECK(bf16::to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);         // halfway, odd rounds up
  CHECK(bf16::to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81);  // above halfway
  CHECK(bf16::to_bf16(-2.0f) == 0xc000);
  CHECK(bf16::to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(bf16::to_bf16(3.4e38f) == 0x7f80);  // rounds up past the largest bf16
  CHECK(std::isnan(bf16::round_trip(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isnan(bf16::round_trip(std::numeric_limits<float>::signaling_NaN())));
  CHECK(bf16::round_trip(0.1f) == 0.10009765625f);
}

TEST_CASE("gemm_packed_bf16 against a double product of the rounded operands") {
  std::printf("[gemm_bf16] roads checked: fp32 GEMM on bf16-rounded operands%s\n",
              bf16::amx_bf16_usable() ? " and AMX tiles" : " (this CPU has no usable AMX-BF16)");
  for (bool trans_b : {true, false})
    for (std::size_t m : {1, 17, 32, 75})
      for (auto [n, k] : {std::pair<std::size_t, std::size_t>{16, 32}, {45, 70}, {100, 384}, {33, 1}})
        check_roads(trans_b, m, n, k, 1.0f, 0.0f, 2);
  check_roads(true, 40, 50, 64, 0.5f, 2.0f, 1);
  check_roads(true, 0, 50, 64, 1.0f, 0.0f, 2);  // no rows: nothing written
}

TEST_CASE("gemm_packed_bf16: 1 and 2 threads give the same bits") {
  const std::size_t m = 70, n = 96, k = 130;
  const auto a = random_floats(m * k, 5), b = random_floats(n * k, 6);
  for (bool allow_amx : {false, true}) {
    const auto packed = K::pack_b_bf16(true, k, n, b.data(), k, allow_amx);
    std::vector<float> c1(m * n), c2(m * n);
    K::gemm_packed_bf16(m, 1.0f, a.data(), k, packed, 0.0f, c1.data(), n, nullptr, 1);
    K::gemm_packed_bf16(m, 1.0f, a.data(), k, packed, 0.0f, c2.data(), n, nullptr, 2);
    CHECK(shopml::test::same_bits(c1, c2));
  }
}

TEST_CASE("round_trip_rows rounds every row as round_trip does (the AVX2 lanes and the scalar tail)") {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> a = random_floats(3 * 21, 5, -1e3f, 1e3f);
  const float special[] = {0.0f,
                           -0.0f,
                           inf,
                           -inf,
                           std::numeric_limits<float>::quiet_NaN(),
                           std::bit_cast<float>(0x7f800001u),  // a signalling NaN
                           std::bit_cast<float>(0x3f808000u),  // a tie, even below
                           std::bit_cast<float>(0x3f818000u),  // a tie, odd below
                           std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::max(),
                           1.0f};
  for (std::size_t i = 0; i < std::size(special); ++i) a[i] = a[21 + 2 * i] = special[i];
  std::vector<float> got(3 * 20, 7.0f);
  bf16::round_trip_rows(a.data(), 21, 20, 0, 3, got.data());  // k = 20: two lanes of 8, a tail of 4
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t j = 0; j < 20; ++j) {
      CAPTURE(r);
      CAPTURE(j);
      CHECK(std::bit_cast<std::uint32_t>(got[r * 20 + j]) == std::bit_cast<std::uint32_t>(bf16::round_trip(a[r * 21 + j])));
    }
}
