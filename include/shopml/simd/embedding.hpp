#pragma once
// Scatter-add of rows, the backward pass of an embedding lookup:
// table[index[r] * ldt + j] += x[r * ld + j] for r < rows, j < cols. Repeated
// indices accumulate in row order. Parallel over fixed strips of columns, each
// walking the rows in order: no atomics, and the same sums for every thread count.

#include <cstddef>
#include <cstdint>

#include "shopml/parallel.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct scatter_add_rows_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t rows, std::size_t cols, const float* x, std::size_t ld, const std::int64_t* index,
                  float* table, std::size_t ldt, int threads) const;
};

template <class Arch>
void scatter_add_rows_kernel::operator()(Arch, std::size_t rows, std::size_t cols, const float* x, std::size_t ld,
                                         const std::int64_t* index, float* table, std::size_t ldt, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr std::size_t strip = 4 * w;
  if (rows == 0 || cols == 0) return;
  const auto strips = static_cast<std::ptrdiff_t>((cols + strip - 1) / strip);
  // A strip per task is too little work for a thread below this many rows.
  const int nt = rows * cols < (std::size_t{1} << 15) ? 1 : threads;
  parallel_for(0, strips, nt, [&](std::ptrdiff_t t) {
    const std::size_t j0 = static_cast<std::size_t>(t) * strip;
    const std::size_t len = cols - j0 < strip ? cols - j0 : strip;
    for (std::size_t r = 0; r < rows; ++r) {
      const float* src = x + r * ld + j0;
      float* dst = table + static_cast<std::size_t>(index[r]) * ldt + j0;
      if (len == strip) {
#pragma GCC unroll 4
        for (std::size_t q = 0; q < strip; q += w)
          (b::load_unaligned(dst + q) + b::load_unaligned(src + q)).store_unaligned(dst + q);
      } else {
        for (std::size_t q = 0; q < len; q += w) {
          const std::size_t l = len - q < w ? len - q : w;
          store_partial<Arch>(dst + q, l, load_partial<Arch>(dst + q, l, 0.0f) + load_partial<Arch>(src + q, l, 0.0f));
        }
      }
    }
  });
}

}  // namespace shopml::simd
