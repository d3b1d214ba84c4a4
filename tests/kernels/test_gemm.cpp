// GEMM and batched GEMM against a double-precision reference: every shape edge
// (0, 1, not multiples of the register tile, K across several packed blocks),
// both layouts of B, alpha/beta/bias, padded leading dimensions, unaligned
// pointers, and bitwise-equal results for 1 and 2 threads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "reference.hpp"
#include "shopml/backend/cpu.hpp"

namespace {

using shopml::test::random_floats;

struct gemm_case {
  std::size_t m, n, k;
  bool trans_b;
  float alpha, beta;
  bool bias;
};

// Runs one case through the functor for Arch, with leading dimensions padded by
// 3 and every matrix starting one float past an aligned address.
template <class Arch>
void check_gemm(const gemm_case& t, int threads) {
  CAPTURE(t.m);
  CAPTURE(t.n);
  CAPTURE(t.k);
  CAPTURE(t.trans_b);
  CAPTURE(t.alpha);
  CAPTURE(t.beta);
  CAPTURE(t.bias);
  CAPTURE(threads);
  const std::size_t lda = t.k + 3, ldb = (t.trans_b ? t.k : t.n) + 3, ldc = t.n + 3;
  const std::size_t b_rows = t.trans_b ? t.n : t.k;
  const auto a = random_floats(t.m * lda + 1, 1);
  const auto b = random_floats(b_rows * ldb + 1, 2);
  const auto bias = random_floats(t.n + 1, 3);
  auto c = random_floats(t.m * ldc + 1, 4);
  const auto c0 = c;
  const float* bias_ptr = t.bias ? bias.data() + 1 : nullptr;
  const auto ref = shopml::test::reference_gemm(t.trans_b, t.m, t.n, t.k, t.alpha, a.data() + 1, lda, b.data() + 1, ldb, t.beta,
                                                c0.data() + 1, ldc, bias_ptr);
  shopml::simd::gemm_kernel{}(Arch{}, t.trans_b, t.m, t.n, t.k, t.alpha, a.data() + 1, lda, b.data() + 1, ldb, t.beta,
                              c.data() + 1, ldc, bias_ptr, threads);
  for (std::size_t i = 0; i < t.m; ++i) {
    for (std::size_t j = 0; j < t.n; ++j) {
      const double want = ref.value[i * t.n + j];
      const double tol = 1e-6 * (ref.scale[i * t.n + j] + 1.0) * (1.0 + std::sqrt(double(t.k)));
      REQUIRE(std::abs(c[1 + i * ldc + j] - want) <= tol);
    }
    // The padding between rows is never written.
    for (std::size_t j = t.n; j < ldc && i * ldc + j + 1 < c.size(); ++j) REQUIRE(c[1 + i * ldc + j] == c0[1 + i * ldc + j]);
  }
}

const std::vector<gemm_case>& cases() {
  static const std::vector<gemm_case> all = [] {
    std::vector<gemm_case> v;
    const std::size_t shapes[][3] = {{0, 5, 3},     {5, 0, 3},     {4, 5, 0},   {1, 1, 1},     {1, 37, 19},   {1, 100, 384},
                                     {1, 130, 33},  {2, 3, 4},     {7, 33, 17}, {8, 32, 256},  {9, 31, 257},  {13, 65, 300},
                                     {33, 47, 513}, {100, 70, 64}, {6, 16, 5},  {3, 33, 1600}, {20, 70, 3100}};
    for (const auto& s : shapes)
      for (bool trans_b : {false, true}) {
        v.push_back({s[0], s[1], s[2], trans_b, 1.0f, 0.0f, false});
        v.push_back({s[0], s[1], s[2], trans_b, 0.5f, 2.0f, true});
        v.push_back({s[0], s[1], s[2], trans_b, -1.0f, 1.0f, false});
      }
    return v;
  }();
  return all;
}

}  // namespace

TEST_CASE_TEMPLATE("gemm matches a double-precision reference", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (const auto& t : cases()) check_gemm<Arch>(t, 1);
  check_gemm<Arch>({150, 200, 300, true, 1.0f, 0.0f, true}, 2);
  check_gemm<Arch>({150, 200, 300, false, 1.0f, 1.0f, true}, 2);
}

TEST_CASE_TEMPLATE("gemm: beta = 0 never reads C, so NaN there does not leak", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t m : {1, 5, 20}) {
    const std::size_t n = 19, k = 23;
    const auto a = random_floats(m * k, 5), b = random_floats(k * n, 6);
    std::vector<float> c(m * n, std::numeric_limits<float>::quiet_NaN());
    shopml::simd::gemm_kernel{}(Arch{}, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n, nullptr, 1);
    for (float v : c) REQUIRE(std::isfinite(v));
  }
}

TEST_CASE_TEMPLATE("gemm: NaN and Inf in the inputs propagate like a plain sum", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  const std::size_t m = 10, n = 40, k = 30;
  auto a = random_floats(m * k, 7);
  const auto b = random_floats(n * k, 8);
  a[3 * k + 4] = std::numeric_limits<float>::quiet_NaN();  // row 3 of C becomes NaN
  a[6 * k + 2] = std::numeric_limits<float>::infinity();   // row 6 becomes ±inf or NaN
  std::vector<float> c(m * n);
  shopml::simd::gemm_kernel{}(Arch{}, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n, nullptr, 1);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      if (i == 3)
        REQUIRE(std::isnan(c[i * n + j]));
      else if (i == 6)
        REQUIRE(!std::isfinite(c[i * n + j]));
      else
        REQUIRE(std::isfinite(c[i * n + j]));
    }
}

TEST_CASE_TEMPLATE("gemm: 1 and 2 threads give bitwise identical results", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t m : {1, 32, 301})
    for (bool trans_b : {false, true}) {
      const std::size_t n = 390, k = 1700;
      const auto a = random_floats(m * k, 9), b = random_floats(n * k, 10), bias = random_floats(n, 11);
      std::vector<float> c1(m * n, 0.5f), c2(m * n, 0.5f);
      for (auto [c, threads] : {std::pair{&c1, 1}, std::pair{&c2, 2}})
        shopml::simd::gemm_kernel{}(Arch{}, trans_b, m, n, k, 0.7f, a.data(), k, b.data(), trans_b ? k : n, 0.3f, c->data(), n,
                                    bias.data(), threads);
      REQUIRE(shopml::test::same_bits(c1, c2));
    }
}

// Few rows (fewer than 4 row blocks per thread) go to column tasks that the threads
// take from a shared counter, with op(A) packed whole once per thread when it is
// small enough (gemm_detail::whole_a_max) and per block otherwise; many rows to a
// static split by row blocks. Whatever the split and the thread count, each element
// must come out bit for bit as with 1 thread, for gemm, gemm_packed and gemm_at, with
// K across several packed blocks and edge panels on both sides.
TEST_CASE_TEMPLATE("gemm: column tasks and row blocks give the 1-thread bits for 2, 3 and 4 threads", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  struct shape_case {
    std::size_t m, n, k;
  };
  // (Row blocks are 24 rows for AVX2 and SSE2, 48 for AVX-512; panels 8, 16 or 32
  // columns.) One or two row blocks, K over two packed blocks, B's rows short (read in
  // place) and long (packed two panels at a time); 4-7 row blocks; op(A)
  // too large to pack whole (packed per block, one task per thread); 6-11 row blocks
  // (columns or rows depending on the thread count); 11-21 row blocks (rows at 2 threads).
  constexpr std::size_t big_k = 11000;
  static_assert(100 * big_k > shopml::simd::gemm_detail::whole_a_max);
  for (const shape_case t : {shape_case{40, 390, 1700}, shape_case{40, 700, 1700}, shape_case{150, 301, 300},
                             shape_case{100, 61, big_k}, shape_case{250, 77, 200}, shape_case{500, 45, 70}})
    for (bool trans_b : {false, true}) {
      CAPTURE(t.m);
      CAPTURE(t.n);
      CAPTURE(t.k);
      CAPTURE(trans_b);
      const std::size_t lda = t.k + 1, ldb = (trans_b ? t.k : t.n) + 2, ldc = t.n + 3;
      const auto a = random_floats(t.m * lda, 31), b = random_floats((trans_b ? t.n : t.k) * ldb, 32);
      const auto bias = random_floats(t.n, 33);
      const auto c0 = random_floats(t.m * ldc, 34);
      // Aᵀ stored k × m for gemm_at (bias-free, so the reference is gemm without bias).
      std::vector<float> at(t.k * (t.m + 2));
      for (std::size_t i = 0; i < t.m; ++i)
        for (std::size_t p = 0; p < t.k; ++p) at[p * (t.m + 2) + i] = a[i * lda + p];
      std::vector<float> ref = c0, ref_at = c0;
      shopml::simd::gemm_kernel{}(Arch{}, trans_b, t.m, t.n, t.k, 0.7f, a.data(), lda, b.data(), ldb, 0.3f, ref.data(), ldc,
                                  bias.data(), 1);
      if (!trans_b)
        shopml::simd::gemm_kernel{}(Arch{}, false, t.m, t.n, t.k, 0.7f, a.data(), lda, b.data(), ldb, 0.3f, ref_at.data(), ldc,
                                    nullptr, 1);
      for (int threads : {2, 3, 4}) {
        CAPTURE(threads);
        std::vector<float> c = c0;
        shopml::simd::gemm_kernel{}(Arch{}, trans_b, t.m, t.n, t.k, 0.7f, a.data(), lda, b.data(), ldb, 0.3f, c.data(), ldc,
                                    bias.data(), threads);
        REQUIRE(shopml::test::same_bits(c, ref));
        if (!trans_b) {
          c = c0;
          shopml::simd::gemm_at_kernel{}(Arch{}, t.m, t.n, t.k, 0.7f, at.data(), t.m + 2, b.data(), ldb, 0.3f, c.data(), ldc,
                                         threads);
          REQUIRE(shopml::test::same_bits(c, ref_at));
        }
      }
    }
}

TEST_CASE_TEMPLATE("gemm_batched computes each strided problem", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  // Attention-like: 5 heads of Q·Kᵀ (trans_b) and P·V, heads interleaved in rows.
  for (bool trans_b : {true, false})
    for (std::size_t batch : {1, 5}) {
      const std::size_t m = 17, n = 19, k = 8, heads = batch;
      const std::size_t lda = heads * k, ldb = trans_b ? heads * k : heads * n, ldc = heads * n;
      const std::size_t b_rows = trans_b ? n : k;
      const auto a = random_floats(m * lda, 12), b = random_floats(b_rows * ldb, 13);
      auto c = random_floats(m * ldc, 14);
      const auto c0 = c;
      const std::size_t stride_b = trans_b ? k : n;
      for (int threads : {1, 2}) {
        c = c0;
        shopml::simd::gemm_batched_kernel{}(Arch{}, trans_b, batch, m, n, k, 1.5f, a.data(), lda, k, b.data(), ldb, stride_b,
                                            0.5f, c.data(), ldc, n, threads);
        for (std::size_t h = 0; h < batch; ++h) {
          const auto ref = shopml::test::reference_gemm(trans_b, m, n, k, 1.5f, a.data() + h * k, lda, b.data() + h * stride_b,
                                                        ldb, 0.5f, c0.data() + h * n, ldc, nullptr);
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j)
              REQUIRE(std::abs(c[i * ldc + h * n + j] - ref.value[i * n + j]) <= 1e-5 * (ref.scale[i * n + j] + 1));
        }
      }
    }
}

TEST_CASE_TEMPLATE("gemm_packed equals gemm bit for bit", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (const auto& t : cases()) {
    CAPTURE(t.m);
    CAPTURE(t.n);
    CAPTURE(t.k);
    CAPTURE(t.trans_b);
    const std::size_t ldb = (t.trans_b ? t.k : t.n) + 2, lda = t.k + 1;
    const auto a = random_floats(t.m * lda + 1, 21), b = random_floats((t.trans_b ? t.n : t.k) * ldb + 1, 22);
    const auto bias = random_floats(t.n, 23);
    std::vector<float> packed(shopml::simd::packed_size(t.k, t.n) + 16);
    // 64-byte alignment, as kernels<cpu>::pack_b allocates it.
    float* aligned = packed.data() + (16 - (reinterpret_cast<std::uintptr_t>(packed.data()) / 4) % 16) % 16;
    REQUIRE(std::string(shopml::simd::pack_b_kernel{}(Arch{}, t.trans_b, t.k, t.n, b.data() + 1, ldb, aligned)) == Arch::name());
    auto c1 = random_floats(t.m * t.n, 24), c2 = c1;
    const float* bias_ptr = t.bias ? bias.data() : nullptr;
    for (int threads : {1, 2}) {
      shopml::simd::gemm_kernel{}(Arch{}, t.trans_b, t.m, t.n, t.k, t.alpha, a.data() + 1, lda, b.data() + 1, ldb, t.beta,
                                  c1.data(), t.n, bias_ptr, threads);
      shopml::simd::gemm_packed_kernel{}(Arch{}, t.m, t.n, t.k, t.alpha, a.data() + 1, lda, aligned, t.beta, c2.data(), t.n,
                                         bias_ptr, threads);
      if (t.m == 1) {  // gemm takes the GEMV path for one row: same sum, another order
        for (std::size_t j = 0; j < t.n; ++j) REQUIRE(c2[j] == doctest::Approx(c1[j]).epsilon(1e-4));
        c2 = c1;
      } else {
        REQUIRE(shopml::test::same_bits(c1, c2));
      }
    }
  }
}

TEST_CASE("kernels<cpu>::pack_b and gemm_packed") {
  using K = shopml::kernels<shopml::cpu>;
  const std::size_t m = 40, n = 70, k = 90;
  const auto a = random_floats(m * k, 25), w = random_floats(n * k, 26);
  const auto packed = K::pack_b(true, k, n, w.data(), k);
  REQUIRE(packed.rows() == k);
  REQUIRE(packed.cols() == n);
  std::vector<float> c1(m * n), c2(m * n);
  K::gemm(true, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f, c1.data(), n, nullptr, 2);
  K::gemm_packed(m, 1.0f, a.data(), k, packed, 0.0f, c2.data(), n, nullptr, 2);
  REQUIRE(shopml::test::same_bits(c1, c2));
  const K::packed_matrix empty = K::pack_b(false, 0, 0, nullptr, 0);
  K::gemm_packed(0, 1.0f, nullptr, 0, empty, 0.0f, nullptr, 0, nullptr, 1);
}
