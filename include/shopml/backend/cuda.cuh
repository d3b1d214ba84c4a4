#pragma once
// kernels<cuda>: the backend boundary on an NVIDIA GPU, for nvcc translation units
// (link shopml::cuda). Same semantics as kernels<cpu> (backend/kernels.hpp), with
// these differences:
//  * every pointer is a device pointer (gpu::device_buffer owns one);
//  * `threads` is ignored;
//  * calls are queued on the calling thread's stream and return at once, except dot,
//    which returns a host value and so waits; a fault inside a kernel is reported by
//    the next call that synchronises;
//  * the device and stream come from the `shopml::cuda` tag through a scope:
//
//      shopml::cuda gpu{.device = 0, .stream = my_stream};
//      shopml::gpu::backend_scope scope(gpu);
//      shopml::kernels<shopml::cuda>::gemm(...);   // runs on device 0, my_stream
//
//    (outside any scope: the current device and its default stream).
// Failures throw shopml::cuda_error naming the CUDA or cuBLAS call.

#include <cstddef>
#include <cstdint>

#include "shopml/backend/kernels.hpp"
#include "shopml/gpu/blas.cuh"
#include "shopml/gpu/context.cuh"
#include "shopml/gpu/elementwise.cuh"
#include "shopml/gpu/layer_norm.cuh"
#include "shopml/gpu/memory.cuh"
#include "shopml/gpu/normalize.cuh"
#include "shopml/gpu/softmax.cuh"
#include "shopml/gpu/topk.cuh"

namespace shopml {

template <>
struct kernels<cuda> {
  static float dot(const float* x, const float* y, std::size_t n) {
    return gpu::dot(gpu::blas_handle(gpu::current_target()), x, y, n);
  }

  static void axpy(std::size_t n, float a, const float* x, float* y) {
    gpu::axpy(gpu::blas_handle(gpu::current_target()), n, a, x, y);
  }

  static void gemm(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                   const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc, const float* bias, int /*threads*/) {
    if (m == 0 || n == 0) return;
    const gpu::target t = gpu::current_target();
    if (k == 0) {  // no product: C = beta * C + bias
      gpu::scale_add_bias(c, 1, m, n, ldc, 0, beta, bias, t.stream);
      return;
    }
    gpu::gemm(gpu::blas_handle(t), trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (bias) gpu::scale_add_bias(c, 1, m, n, ldc, 0, 1.0f, bias, t.stream);
  }

  static void gemm_batched(bool trans_b, std::size_t batch, std::size_t m, std::size_t n, std::size_t k, float alpha,
                           const float* a, std::size_t lda, std::size_t stride_a, const float* b, std::size_t ldb,
                           std::size_t stride_b, float beta, float* c, std::size_t ldc, std::size_t stride_c, int /*threads*/) {
    if (batch == 0 || m == 0 || n == 0) return;
    const gpu::target t = gpu::current_target();
    if (k == 0) {
      gpu::scale_add_bias(c, batch, m, n, ldc, stride_c, beta, nullptr, t.stream);
      return;
    }
    gpu::gemm_strided_batched(gpu::blas_handle(t), trans_b, batch, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c,
                              ldc, stride_c);
  }

  static void softmax_rows(float* x, std::size_t rows, std::size_t cols, std::size_t ld, const float* mask,
                           std::size_t rows_per_mask, int /*threads*/) {
    gpu::softmax_rows(x, rows, cols, ld, mask, rows_per_mask, gpu::current_target().stream);
  }

  static void layer_norm(const float* x, const float* residual, float* y, std::size_t rows, std::size_t cols, const float* gamma,
                         const float* beta, float eps, int /*threads*/) {
    gpu::layer_norm(x, residual, y, rows, cols, gamma, beta, eps, gpu::current_target().stream);
  }

  static void gelu(float* x, std::size_t n, gelu_form form, int /*threads*/) {
    gpu::gelu(x, n, form, gpu::current_target().stream);
  }

  static void l2_normalize(float* x, std::size_t rows, std::size_t cols, int /*threads*/) {
    gpu::l2_normalize(x, rows, cols, gpu::current_target().stream);
  }

  static void topk(const float* x, std::size_t n, std::size_t k, float* values, std::uint32_t* indices) {
    gpu::topk(x, n, k, values, indices, gpu::current_target().stream);
  }
};

static_assert(kernel_set<kernels<cuda>>);

}  // namespace shopml
