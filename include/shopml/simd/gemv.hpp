#pragma once
// Matrix-vector products over the rows of a row-major block, for the logistic-regression
// loss: gemv_t is the gradient contribution Xᵀ·g of a block of X right after its scores;
// dot_rows its scores against a few coefficient rows at once (softmax with k classes),
// where a GEMM would pack the block or waste most of its register tile on k columns.

#include <cstddef>
#include <utility>

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

// S[c * lds + i] = sum_j A[i, j] * W[c, j] for i < m rows of A (lda apart) and c < k rows
// of W (ldw apart). Each row of A is read once per group of up to twelve classes, summed
// into that many independent accumulators.
struct dot_rows_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, const float* a, std::size_t lda, std::size_t k, const float* w,
                  std::size_t ldw, float* s, std::size_t lds) const;
};

namespace gemv_detail {

// One row of A against C rows of W. C is a compile-time count so that the accumulators
// stay in registers (a run-time count leaves them in memory).
template <class Arch, std::size_t C>
void dot_row_group(const float* row, std::size_t n, const float* w, std::size_t ldw, float* s, std::size_t lds) {
  using b = batch<Arch>;
  constexpr std::size_t lanes = width<Arch>;
  b acc[C];
  for (std::size_t c = 0; c < C; ++c) acc[c] = b(0.0f);
  std::size_t j = 0;
  for (; j + lanes <= n; j += lanes) {
    const b x = b::load_unaligned(row + j);
    for (std::size_t c = 0; c < C; ++c) acc[c] = xsimd::fma(x, b::load_unaligned(w + c * ldw + j), acc[c]);
  }
  if (j < n) {
    const b x = load_partial<Arch>(row + j, n - j, 0.0f);
    for (std::size_t c = 0; c < C; ++c) acc[c] = xsimd::fma(x, load_partial<Arch>(w + c * ldw + j, n - j, 0.0f), acc[c]);
  }
  for (std::size_t c = 0; c < C; ++c) s[c * lds] = xsimd::hadd(acc[c]);
}

template <class Arch, std::size_t... C>
void dot_row_groups(std::size_t classes, const float* row, std::size_t n, const float* w, std::size_t ldw, float* s,
                    std::size_t lds, std::index_sequence<C...>) {
  ((classes == C + 1 ? dot_row_group<Arch, C + 1>(row, n, w, ldw, s, lds) : void()), ...);
}

}  // namespace gemv_detail

template <class Arch>
void dot_rows_kernel::operator()(Arch, std::size_t m, std::size_t n, const float* a, std::size_t lda, std::size_t k,
                                 const float* w, std::size_t ldw, float* s, std::size_t lds) const {
  constexpr std::size_t group = 12;  // 12 accumulators and a row vector fit in AVX2's 16 registers
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t c0 = 0; c0 < k; c0 += group)
      gemv_detail::dot_row_groups<Arch>(k - c0 < group ? k - c0 : group, a + i * lda, n, w + c0 * ldw, ldw, s + c0 * lds + i, lds,
                                        std::make_index_sequence<group>{});
}

}  // namespace shopml::simd
