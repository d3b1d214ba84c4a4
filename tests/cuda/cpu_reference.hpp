#pragma once
// kernels<cpu>, compiled by the host compiler in cpu_reference.cpp, so nvcc never
// parses the SIMD/OpenMP code of backend/cpu.hpp. The CUDA tests compare against it.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shopml/backend/kernels.hpp"

namespace shopml::test {

struct cpu_reference {
  static float dot(const float* x, const float* y, std::size_t n);
  static void axpy(std::size_t n, float a, const float* x, float* y);
  static void gemm(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                   const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc, const float* bias, int threads);
  static void gemm_batched(bool trans_b, std::size_t batch, std::size_t m, std::size_t n, std::size_t k, float alpha,
                           const float* a, std::size_t lda, std::size_t stride_a, const float* b, std::size_t ldb,
                           std::size_t stride_b, float beta, float* c, std::size_t ldc, std::size_t stride_c, int threads);
  static void softmax_rows(float* x, std::size_t rows, std::size_t cols, std::size_t ld, const float* mask,
                           std::size_t rows_per_mask, int threads);
  static void layer_norm(const float* x, const float* residual, float* y, std::size_t rows, std::size_t cols, const float* gamma,
                         const float* beta, float eps, int threads);
  static void gelu(float* x, std::size_t n, gelu_form form, int threads);
  static void l2_normalize(float* x, std::size_t rows, std::size_t cols, int threads);
  static void topk(const float* x, std::size_t n, std::size_t k, float* values, std::uint32_t* indices);

  // The kernel suite's random inputs (tests/kernels/reference.hpp), uniform in [lo, hi).
  static std::vector<float> random(std::size_t n, float lo, float hi, std::uint32_t seed);
};

static_assert(kernel_set<cpu_reference>);

}  // namespace shopml::test
