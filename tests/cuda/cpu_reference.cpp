#include "cpu_reference.hpp"

#include "../kernels/reference.hpp"
#include "shopml/backend/cpu.hpp"

namespace shopml::test {

using cpu_kernels = kernels<cpu>;

float cpu_reference::dot(const float* x, const float* y, std::size_t n) { return cpu_kernels::dot(x, y, n); }

void cpu_reference::axpy(std::size_t n, float a, const float* x, float* y) { cpu_kernels::axpy(n, a, x, y); }

void cpu_reference::gemm(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                         const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc, const float* bias, int threads) {
  cpu_kernels::gemm(trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, threads);
}

void cpu_reference::gemm_batched(bool trans_b, std::size_t batch, std::size_t m, std::size_t n, std::size_t k, float alpha,
                                 const float* a, std::size_t lda, std::size_t stride_a, const float* b, std::size_t ldb,
                                 std::size_t stride_b, float beta, float* c, std::size_t ldc, std::size_t stride_c, int threads) {
  cpu_kernels::gemm_batched(trans_b, batch, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc, stride_c, threads);
}

void cpu_reference::softmax_rows(float* x, std::size_t rows, std::size_t cols, std::size_t ld, const float* mask,
                                 std::size_t rows_per_mask, int threads) {
  cpu_kernels::softmax_rows(x, rows, cols, ld, mask, rows_per_mask, threads);
}

void cpu_reference::layer_norm(const float* x, const float* residual, float* y, std::size_t rows, std::size_t cols,
                               const float* gamma, const float* beta, float eps, int threads) {
  cpu_kernels::layer_norm(x, residual, y, rows, cols, gamma, beta, eps, threads);
}

void cpu_reference::gelu(float* x, std::size_t n, gelu_form form, int threads) { cpu_kernels::gelu(x, n, form, threads); }

void cpu_reference::l2_normalize(float* x, std::size_t rows, std::size_t cols, int threads) {
  cpu_kernels::l2_normalize(x, rows, cols, threads);
}

void cpu_reference::topk(const float* x, std::size_t n, std::size_t k, float* values, std::uint32_t* indices) {
  cpu_kernels::topk(x, n, k, values, indices);
}

std::vector<float> cpu_reference::random(std::size_t n, float lo, float hi, std::uint32_t seed) {
  return random_floats(n, seed, lo, hi);
}

}  // namespace shopml::test
