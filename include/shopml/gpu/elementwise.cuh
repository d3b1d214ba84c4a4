#pragma once
// Element-wise kernels: GELU in place, and the gemm epilogue that adds the bias row
// (or, when k = 0, produces beta * C + bias alone).

#include <cuda_runtime.h>

#include <cstddef>

#include "shopml/gpu/check.cuh"
#include "shopml/scalar.hpp"

namespace shopml::gpu {

// Blocks of 256 threads covering n elements, capped; kernels loop with a grid stride.
inline unsigned elementwise_grid_size(std::size_t n) {
  const std::size_t blocks = (n + 255) / 256;
  return static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
}

struct gelu_erf_fn {
  __device__ float operator()(float v) const { return scalar::gelu_erf(v); }
};
struct gelu_tanh_fn {
  __device__ float operator()(float v) const { return scalar::gelu_tanh(v); }
};

template <class Real, class Fn>
__global__ void map_kernel(Real* x, std::size_t n, Fn fn) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) x[i] = fn(x[i]);
}

inline void gelu(float* x, std::size_t n, gelu_form form, cudaStream_t stream) {
  if (n == 0) return;
  if (form == gelu_form::erf)
    map_kernel<<<elementwise_grid_size(n), 256, 0, stream>>>(x, n, gelu_erf_fn{});
  else
    map_kernel<<<elementwise_grid_size(n), 256, 0, stream>>>(x, n, gelu_tanh_fn{});
  check_launch("map_kernel(gelu)");
}

// C[b][i][j] = (beta == 0 ? 0 : beta * C[b][i][j]) + bias[j] over `batch` m×n blocks;
// beta = 0 never reads C, as in BLAS. bias may be null.
template <class Real>
__global__ void scale_add_bias_kernel(Real* c, std::size_t batch, std::size_t m, std::size_t n, std::size_t ldc,
                                      std::size_t stride_c, float beta, const Real* bias) {
  const std::size_t total = batch * m * n;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t e = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += stride) {
    const std::size_t j = e % n;
    const std::size_t i = (e / n) % m;
    Real& v = c[(e / n / m) * stride_c + i * ldc + j];
    v = (beta == 0.0f ? 0.0f : beta * v) + (bias ? bias[j] : 0.0f);
  }
}

inline void scale_add_bias(float* c, std::size_t batch, std::size_t m, std::size_t n, std::size_t ldc, std::size_t stride_c,
                           float beta, const float* bias, cudaStream_t stream) {
  const std::size_t total = batch * m * n;
  if (total == 0) return;
  scale_add_bias_kernel<<<elementwise_grid_size(total), 256, 0, stream>>>(c, batch, m, n, ldc, stride_c, beta, bias);
  check_launch("scale_add_bias_kernel");
}

}  // namespace shopml::gpu
