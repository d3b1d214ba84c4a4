#pragma once
// gemv_t: y += Aᵀ·x over the rows of a row-major block, the gradient contribution Xᵀ·g
// the logistic-regression loss takes from each block of X right after its scores
// (dot per row, one sequential stream: what the hardware prefetcher likes best).

#include <cstddef>

#include "shopml/simd/arch.hpp"

namespace shopml::simd {

// y[j] += sum_i x[i] * A[i, j] for j < n. Columns go in register blocks of up to eight
// vectors, summed over all m rows before y is touched, so y is read and written once per
// block rather than once per row (as m axpy calls would).
struct gemv_t_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, const float* a, std::size_t lda, const float* x, float* y) const;
};

template <class Arch>
void gemv_t_kernel::operator()(Arch, std::size_t m, std::size_t n, const float* a, std::size_t lda, const float* x,
                               float* y) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>, block = 8 * w;
  std::size_t j = 0;
  for (; j + block <= n; j += block) {
    b acc[8];
    for (std::size_t v = 0; v < 8; ++v) acc[v] = b::load_unaligned(y + j + v * w);
    for (std::size_t i = 0; i < m; ++i) {
      const b xi(x[i]);
      const float* row = a + i * lda + j;
      for (std::size_t v = 0; v < 8; ++v) acc[v] = xsimd::fma(xi, b::load_unaligned(row + v * w), acc[v]);
    }
    for (std::size_t v = 0; v < 8; ++v) acc[v].store_unaligned(y + j + v * w);
  }
  // What is left: one vector at a time, then the padded last part of one.
  for (; j + w <= n; j += w) {
    b acc = b::load_unaligned(y + j);
    for (std::size_t i = 0; i < m; ++i) acc = xsimd::fma(b(x[i]), b::load_unaligned(a + i * lda + j), acc);
    acc.store_unaligned(y + j);
  }
  if (j < n) {
    b acc = load_partial<Arch>(y + j, n - j, 0.0f);
    for (std::size_t i = 0; i < m; ++i) acc = xsimd::fma(b(x[i]), load_partial<Arch>(a + i * lda + j, n - j, 0.0f), acc);
    store_partial<Arch>(y + j, n - j, acc);
  }
}

}  // namespace shopml::simd
