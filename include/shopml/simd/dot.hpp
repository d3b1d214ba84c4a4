#pragma once
// dot and axpy: the level-1 kernels (also the building blocks of l2_normalize).

#include <cstddef>

#include "shopml/simd/arch.hpp"

namespace shopml::simd {

// sum_i x[i] * y[i], four independent accumulators to hide the FMA latency.
struct dot_kernel {
  template <class Arch>
  float operator()(Arch, const float* x, const float* y, std::size_t n) const;
};

// y += a * x
struct axpy_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t n, float a, const float* x, float* y) const;
};

template <class Arch>
float dot_kernel::operator()(Arch, const float* x, const float* y, std::size_t n) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  b acc0(0.0f), acc1(0.0f), acc2(0.0f), acc3(0.0f);
  std::size_t i = 0;
  for (; i + 4 * w <= n; i += 4 * w) {
    acc0 = xsimd::fma(b::load_unaligned(x + i), b::load_unaligned(y + i), acc0);
    acc1 = xsimd::fma(b::load_unaligned(x + i + w), b::load_unaligned(y + i + w), acc1);
    acc2 = xsimd::fma(b::load_unaligned(x + i + 2 * w), b::load_unaligned(y + i + 2 * w), acc2);
    acc3 = xsimd::fma(b::load_unaligned(x + i + 3 * w), b::load_unaligned(y + i + 3 * w), acc3);
  }
  for (; i + w <= n; i += w) acc0 = xsimd::fma(b::load_unaligned(x + i), b::load_unaligned(y + i), acc0);
  if (i < n) acc1 = xsimd::fma(load_partial<Arch>(x + i, n - i, 0.0f), load_partial<Arch>(y + i, n - i, 0.0f), acc1);
  return xsimd::hadd((acc0 + acc1) + (acc2 + acc3));
}

template <class Arch>
void axpy_kernel::operator()(Arch, std::size_t n, float a, const float* x, float* y) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  const b va(a);
  std::size_t i = 0;
  for (; i + w <= n; i += w) xsimd::fma(va, b::load_unaligned(x + i), b::load_unaligned(y + i)).store_unaligned(y + i);
  if (i < n)
    store_partial<Arch>(y + i, n - i,
                        xsimd::fma(va, load_partial<Arch>(x + i, n - i, 0.0f), load_partial<Arch>(y + i, n - i, 0.0f)));
}

}  // namespace shopml::simd
