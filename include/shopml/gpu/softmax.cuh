#pragma once
// Row softmax with the additive attention mask, one block per row; same semantics
// as kernels<cpu>::softmax_rows: max-subtracted; a row that is all -inf becomes all
// 0, a row holding a NaN or +inf all NaN.

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>

#include "shopml/gpu/check.cuh"
#include "shopml/gpu/reduce.cuh"
#include "shopml/scalar.hpp"

namespace shopml::gpu {

template <class Real>
__global__ void softmax_rows_kernel(Real* x, std::size_t rows, std::size_t cols, std::size_t ld, const Real* mask,
                                    std::size_t rows_per_mask) {
  for (std::size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    Real* row = x + r * ld;
    const Real* m = mask ? mask + (r / rows_per_mask) * cols : nullptr;
    float mx = -INFINITY;
    bool has_nan = false;
    for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) {
      if (m) row[j] += m[j];
      has_nan |= isnan(row[j]);
      mx = fmaxf(mx, row[j]);
    }
    const bool any_nan = __syncthreads_or(has_nan);
    mx = block_reduce(mx, max_op{}, -INFINITY);
    if (scalar::softmax_row_degenerate(any_nan, mx)) {
      const float fill = scalar::softmax_degenerate_fill(any_nan, mx);
      for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) row[j] = fill;
      continue;
    }
    float sum = 0.0f;
    for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) sum += row[j] = expf(row[j] - mx);
    const float inv = 1.0f / block_reduce(sum, sum_op{}, 0.0f);
    for (std::size_t j = threadIdx.x; j < cols; j += blockDim.x) row[j] *= inv;
  }
}

inline void softmax_rows(float* x, std::size_t rows, std::size_t cols, std::size_t ld, const float* mask,
                         std::size_t rows_per_mask, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  softmax_rows_kernel<<<row_grid_size(rows), row_block_size(cols), 0, stream>>>(x, rows, cols, ld, mask, rows_per_mask);
  check_launch("softmax_rows_kernel");
}

}  // namespace shopml::gpu
