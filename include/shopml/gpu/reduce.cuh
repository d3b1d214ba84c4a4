#pragma once
// Block-wide reductions for the row kernels (softmax, layer norm, l2 normalisation):
// one block per row, each thread folds a strided slice, then warps combine.
//
// Every shopml __global__ function is a template (on its element type, `Real`, float
// today): a header-defined non-template kernel would give each translation unit that
// includes it its own host stub, and two such units fail to link.

#include <cuda_runtime.h>

#include <cstddef>

namespace shopml::gpu {

struct sum_op {
  __device__ float operator()(float a, float b) const { return a + b; }
};

// fmaxf ignores a NaN operand, as std::max(acc, x) does in the CPU kernels.
struct max_op {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

template <class Op>
__device__ float warp_reduce(float v, Op op) {
  for (int offset = 16; offset > 0; offset /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Every thread of the block gets the result. blockDim.x must be a multiple of 32 and
// every thread of the block must call it.
template <class Op>
__device__ float block_reduce(float v, Op op, float identity) {
  __shared__ float partial[32];
  const unsigned lane = threadIdx.x % 32;
  const unsigned warp = threadIdx.x / 32;
  v = warp_reduce(v, op);
  __syncthreads();  // a previous call's readers are done with `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < blockDim.x / 32 ? partial[lane] : identity;
  return warp_reduce(v, op);
}

// Threads per block for a row of `cols`: whole warps, at most 256.
inline unsigned row_block_size(std::size_t cols) {
  const std::size_t warps = (cols + 31) / 32;
  return static_cast<unsigned>(warps == 0 ? 32 : (warps > 8 ? 256 : warps * 32));
}

// Blocks for `rows` (kernels loop over rows with a grid stride beyond this).
inline unsigned row_grid_size(std::size_t rows) { return static_cast<unsigned>(rows < (1u << 20) ? rows : (1u << 20)); }

}  // namespace shopml::gpu
