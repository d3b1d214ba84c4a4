#pragma once
// Top-k of one row on the GPU, with kernels<cpu>::topk's order: descending, ties to
// the lower index, NaNs last. Each element becomes a 64-bit key whose unsigned order
// is exactly that order (value bits made monotone, NaN lowest, -0 = +0, then the
// complemented index), so one radix sort (CUB) and a gather give the answer.

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cub/device/device_radix_sort.cuh>
#include <string>

#include "shopml/gpu/check.cuh"
#include "shopml/gpu/elementwise.cuh"
#include "shopml/gpu/memory.cuh"

namespace shopml::gpu {

__host__ __device__ inline std::uint64_t topk_key(float v, std::uint32_t index) {
  std::uint32_t bits = 0;
  const float canonical = v == 0.0f ? 0.0f : v;  // -0 ties with +0
  memcpy(&bits, &canonical, sizeof bits);
  const std::uint32_t monotone = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  const std::uint32_t ranked = v != v ? 0u : monotone;  // NaN below -inf (which maps to 0x007fffff)
  return (static_cast<std::uint64_t>(ranked) << 32) | static_cast<std::uint32_t>(~index);
}

template <class Real>
__global__ void topk_keys_kernel(const Real* x, std::size_t n, std::uint64_t* keys) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    keys[i] = topk_key(x[i], static_cast<std::uint32_t>(i));
}

template <class Real>
__global__ void topk_gather_kernel(const Real* x, const std::uint64_t* sorted, std::size_t k, Real* values,
                                   std::uint32_t* indices) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < k; i += stride) {
    const std::uint32_t index = ~static_cast<std::uint32_t>(sorted[i]);
    indices[i] = index;
    values[i] = x[index];
  }
}

inline void topk(const float* x, std::size_t n, std::size_t k, float* values, std::uint32_t* indices, cudaStream_t stream) {
  k = k < n ? k : n;
  if (k == 0) return;
  if (n > (std::size_t{1} << 32)) throw value_error("topk: n = " + std::to_string(n) + " exceeds the 32-bit index range");
  const auto items = static_cast<std::int64_t>(n);
  std::size_t sort_bytes = 0;
  check(cub::DeviceRadixSort::SortKeysDescending(nullptr, sort_bytes, static_cast<const std::uint64_t*>(nullptr),
                                                 static_cast<std::uint64_t*>(nullptr), items, 0, 64, stream),
        "cub::DeviceRadixSort::SortKeysDescending (size query)");
  const stream_scratch keys(2 * n * sizeof(std::uint64_t), stream);
  const stream_scratch sort_space(sort_bytes, stream);
  std::uint64_t* unsorted = keys.as<std::uint64_t>();
  std::uint64_t* sorted = unsorted + n;
  topk_keys_kernel<<<elementwise_grid_size(n), 256, 0, stream>>>(x, n, unsorted);
  check_launch("topk_keys_kernel");
  check(cub::DeviceRadixSort::SortKeysDescending(sort_space.as<void>(), sort_bytes, unsorted, sorted, items, 0, 64, stream),
        "cub::DeviceRadixSort::SortKeysDescending(n=" + std::to_string(n) + ")");
  topk_gather_kernel<<<elementwise_grid_size(k), 256, 0, stream>>>(x, sorted, k, values, indices);
  check_launch("topk_gather_kernel");
}

}  // namespace shopml::gpu
