#pragma once
// Each row x / max(||x||_2, 1e-12), one block per row (kernels<cpu>::l2_normalize):
// zero rows stay zero, a NaN anywhere makes the row NaN.

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>

#include "shopml/gpu/check.cuh"
#include "shopml/gpu/reduce.cuh"
#include "shopml/scalar.hpp"

namespace shopml::gpu {

template <class Real>
__global__ void l2_normalize_kernel(Real* x, std::size_t rows, std::size_t cols) {
  for (std::size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    Real* row = x + r * cols;
    float squares = 0.0f;
    for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) squares += row[j] * row[j];
    const float norm = sqrtf(block_reduce(squares, sum_op{}, 0.0f));
    const float divisor = scalar::l2_normalize_divisor(norm);
    for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) row[j] /= divisor;
  }
}

inline void l2_normalize(float* x, std::size_t rows, std::size_t cols, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  l2_normalize_kernel<<<row_grid_size(rows), row_block_size(cols), 0, stream>>>(x, rows, cols);
  check_launch("l2_normalize_kernel");
}

}  // namespace shopml::gpu
