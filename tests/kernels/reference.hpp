#pragma once
// Plain scalar references for the kernel tests (double accumulation), random
// inputs, and the list of architectures each SIMD functor is tested on.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "shopml/scalar.hpp"

namespace shopml::test {

inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

// Bit-for-bit equality (memcmp, which must not see the null data() of an empty vector).
inline bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

// Whether the running CPU can execute code for Arch.
template <class Arch>
bool cpu_has() {
  const auto cpu = xsimd::available_architectures();
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
    return cpu.avx512bw;
  else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>)
    return cpu.fma3_avx2;
  else
    return true;  // the compile-time default
}

// C = alpha * A·op(B) + beta * C + bias, in double; also returns, per element,
// sum |alpha a b| + |beta c| + |bias|, the scale of its rounding error.
struct gemm_reference {
  std::vector<double> value, scale;
};

inline gemm_reference reference_gemm(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                                     std::size_t lda, const float* b, std::size_t ldb, float beta, const float* c,
                                     std::size_t ldc, const float* bias) {
  gemm_reference r{std::vector<double>(m * n), std::vector<double>(m * n)};
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0, mag = 0;
      for (std::size_t p = 0; p < k; ++p) {
        const double prod = double(a[i * lda + p]) * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
        s += prod;
        mag += std::abs(prod);
      }
      const double prior = beta == 0.0f ? 0.0 : double(beta) * c[i * ldc + j];
      const double bj = bias ? bias[j] : 0.0;
      r.value[i * n + j] = alpha * s + prior + bj;
      r.scale[i * n + j] = std::abs(alpha) * mag + std::abs(prior) + std::abs(bj);
    }
  return r;
}

inline void reference_softmax(std::vector<double>& row) {
  double mx = -std::numeric_limits<double>::infinity();
  for (double v : row) mx = std::max(mx, v);
  double sum = 0;
  for (double& v : row) sum += v = std::exp(v - mx);
  for (double& v : row) v /= sum;
}

inline std::vector<double> reference_layer_norm(const float* x, const float* res, std::size_t cols, const float* gamma,
                                                const float* beta, float eps) {
  std::vector<double> v(cols);
  double mean = 0;
  for (std::size_t j = 0; j < cols; ++j) mean += v[j] = double(x[j]) + (res ? res[j] : 0.0);
  mean /= double(cols);
  double var = 0;
  for (double t : v) var += (t - mean) * (t - mean);
  const double inv = 1.0 / std::sqrt(var / double(cols) + eps);
  for (std::size_t j = 0; j < cols; ++j) v[j] = (v[j] - mean) * inv * gamma[j] + beta[j];
  return v;
}

}  // namespace shopml::test

// The SIMD architectures tested explicitly: the compile-time default always, the
// dispatched ISAs when their instances are linked in.
#if defined(SHOPML_CPU_DISPATCH)
#define SHOPML_TEST_ARCHS xsimd::default_arch, xsimd::fma3<xsimd::avx2>, xsimd::avx512bw
#else
#define SHOPML_TEST_ARCHS xsimd::default_arch
#endif

// Returns from the test case (with a message) when the CPU cannot run Arch.
#define SHOPML_REQUIRE_CPU(Arch)                                                  \
  if (!::shopml::test::cpu_has<Arch>()) {                                         \
    MESSAGE("CPU lacks " << Arch::name() << ": its kernels are not tested here"); \
    return;                                                                       \
  }
