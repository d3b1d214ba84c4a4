#pragma once
// y = LayerNorm(x + residual) * gamma + beta, one block per row; two passes (mean,
// then variance of the centred values) as in kernels<cpu>::layer_norm. Each thread
// reads and writes only its own columns, so y may alias x or residual.

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>

#include "shopml/gpu/check.cuh"
#include "shopml/gpu/reduce.cuh"
#include "shopml/scalar.hpp"

namespace shopml::gpu {

template <class Real>
__global__ void layer_norm_kernel(const Real* x, const Real* residual, Real* y, std::size_t rows, std::size_t cols,
                                  const Real* gamma, const Real* beta, float eps) {
  const float n = static_cast<float>(cols);
  for (std::size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const Real* in = x + r * cols;
    const Real* res = residual ? residual + r * cols : nullptr;
    Real* out = y + r * cols;
    float sum = 0.0f;
    for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) sum += out[j] = in[j] + (res ? res[j] : 0.0f);
    const float mean = block_reduce(sum, sum_op{}, 0.0f) / n;
    float squares = 0.0f;
    for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) squares += (out[j] - mean) * (out[j] - mean);
    const float inv = scalar::layer_norm_inverse_std(block_reduce(squares, sum_op{}, 0.0f) / n, eps);
    for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) out[j] = (out[j] - mean) * inv * gamma[j] + beta[j];
  }
}

inline void layer_norm(const float* x, const float* residual, float* y, std::size_t rows, std::size_t cols, const float* gamma,
                       const float* beta, float eps, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  layer_norm_kernel<<<row_grid_size(rows), row_block_size(cols), 0, stream>>>(x, residual, y, rows, cols, gamma, beta, eps);
  check_launch("layer_norm_kernel");
}

}  // namespace shopml::gpu
