#pragma once
// Row softmax with an optional additive mask, in place. Max-subtracted, so large
// magnitudes never overflow. Special values, per row (the same as the scalar
// formula x_j = exp(x_j - max) / sum):
//  * all entries -inf (a fully masked row)  -> all 0;
//  * any NaN, or any +inf                   -> all NaN.
// And its backward pass from the output p: dp = p ⊙ (dp - Σ_j dp_j p_j) per row.

#include <cstddef>
#include <limits>

#include "shopml/parallel.hpp"
#include "shopml/scalar.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct softmax_rows_kernel {
  template <class Arch>
  void operator()(Arch, float* x, std::size_t rows, std::size_t cols, std::size_t ld, const float* mask,
                  std::size_t rows_per_mask, int threads) const;
};

// In place on dp, per row of p and dp (both rows ld apart).
struct softmax_backward_kernel {
  template <class Arch>
  void operator()(Arch, const float* p, float* dp, std::size_t rows, std::size_t cols, std::size_t ld, int threads) const;
};

template <class Arch>
void softmax_rows_kernel::operator()(Arch, float* x, std::size_t rows, std::size_t cols, std::size_t ld, const float* mask,
                                     std::size_t rows_per_mask, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr float inf = std::numeric_limits<float>::infinity();
  if (cols == 0) return;
  parallel_for(0, static_cast<std::ptrdiff_t>(rows), threads, [&](std::ptrdiff_t r) {
    float* row = x + static_cast<std::size_t>(r) * ld;
    const float* m = mask ? mask + (static_cast<std::size_t>(r) / rows_per_mask) * cols : nullptr;
    const std::size_t tail = cols % w, body = cols - tail;

    // Pass 1: add the mask, find the maximum, notice NaNs.
    // xsimd::isnan, not v != v: xsimd 8 compiles != to an ordered compare on AVX.
    b vmax(-inf);
    auto nan = xsimd::isnan(vmax);
    auto add_mask_and_track = [&](b v, std::size_t j, std::size_t len) {
      if (m) v += len == w ? b::load_unaligned(m + j) : load_partial<Arch>(m + j, len, 0.0f);
      vmax = xsimd::max(vmax, v);
      nan = nan | xsimd::isnan(v);
      return v;
    };
    for (std::size_t j = 0; j < body; j += w) {
      const b v = add_mask_and_track(b::load_unaligned(row + j), j, w);
      if (m) v.store_unaligned(row + j);
    }
    if (tail) store_partial<Arch>(row + body, tail, add_mask_and_track(load_partial<Arch>(row + body, tail, -inf), body, tail));
    const float mx = reduce_max<Arch>(vmax);
    if (scalar::softmax_row_degenerate(xsimd::any(nan), mx)) {
      const float fill = scalar::softmax_degenerate_fill(xsimd::any(nan), mx);
      for (std::size_t j = 0; j < cols; ++j) row[j] = fill;
      return;
    }

    // Pass 2: exponentiate and sum; pass 3: scale.
    const b vmx(mx);
    b sum(0.0f);
    for (std::size_t j = 0; j < body; j += w) {
      const b e = xsimd::exp(b::load_unaligned(row + j) - vmx);
      e.store_unaligned(row + j);
      sum += e;
    }
    if (tail) {
      const b e = xsimd::exp(load_partial<Arch>(row + body, tail, -inf) - vmx);  // padding: exp(-inf) = 0
      store_partial<Arch>(row + body, tail, e);
      sum += e;
    }
    const b inv(1.0f / xsimd::hadd(sum));
    for (std::size_t j = 0; j < body; j += w) (b::load_unaligned(row + j) * inv).store_unaligned(row + j);
    if (tail) store_partial<Arch>(row + body, tail, load_partial<Arch>(row + body, tail, 0.0f) * inv);
  });
}

template <class Arch>
void softmax_backward_kernel::operator()(Arch, const float* p, float* dp, std::size_t rows, std::size_t cols, std::size_t ld,
                                         int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  if (cols == 0) return;
  parallel_for(0, static_cast<std::ptrdiff_t>(rows), threads, [&](std::ptrdiff_t r) {
    const float* pr = p + static_cast<std::size_t>(r) * ld;
    float* dr = dp + static_cast<std::size_t>(r) * ld;
    const std::size_t tail = cols % w, body = cols - tail;
    b acc(0.0f);
    for (std::size_t j = 0; j < body; j += w) acc = xsimd::fma(b::load_unaligned(dr + j), b::load_unaligned(pr + j), acc);
    if (tail) acc = xsimd::fma(load_partial<Arch>(dr + body, tail, 0.0f), load_partial<Arch>(pr + body, tail, 0.0f), acc);
    const b dot(xsimd::hadd(acc));
    for (std::size_t j = 0; j < body; j += w)
      (b::load_unaligned(pr + j) * (b::load_unaligned(dr + j) - dot)).store_unaligned(dr + j);
    if (tail)
      store_partial<Arch>(dr + body, tail,
                          load_partial<Arch>(pr + body, tail, 0.0f) * (load_partial<Arch>(dr + body, tail, 0.0f) - dot));
  });
}

}  // namespace shopml::simd
