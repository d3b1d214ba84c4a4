#pragma once
// Reductions and scaling for training: column sums (bias gradients), the sum of
// squares (gradient norms) and x = a * x (gradient clipping).
//
// Reductions are summed in a fixed order that depends on the sizes only, never
// on the thread count, so every thread count gives the same bits:
//  * add_column_sums: each column sums its rows in fixed blocks (rows in order
//    within a block, the block sums in order); threads take strips of columns;
//  * sum_squares: fixed chunks of elements, each summed into its own double
//    partial, the partials added in chunk order.

#include <cstddef>

#include "shopml/parallel.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

// sums[j] += Σ_i x[i * ld + j] for i < rows, j < cols.
struct add_column_sums_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t rows, std::size_t cols, const float* x, std::size_t ld, float* sums, int threads) const;
};

// Σ x[i]² in double.
struct sum_squares_kernel {
  template <class Arch>
  double operator()(Arch, const float* x, std::size_t n, int threads) const;
};

// x = a * x.
struct scale_kernel {
  template <class Arch>
  void operator()(Arch, float* x, std::size_t n, float a, int threads) const;
};

namespace reduce_detail {
inline constexpr std::size_t column_block_rows = 64;               // rows summed before joining the column total
inline constexpr std::size_t square_chunk = 8192;                  // elements per double partial of sum_squares
inline constexpr std::size_t parallel_min = std::size_t{1} << 15;  // below this many elements, one thread
}  // namespace reduce_detail

template <class Arch>
void add_column_sums_kernel::operator()(Arch, std::size_t rows, std::size_t cols, const float* x, std::size_t ld, float* sums,
                                        int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr std::size_t strip = 4 * w;
  constexpr std::size_t block = reduce_detail::column_block_rows;
  if (rows == 0 || cols == 0) return;
  const auto strips = static_cast<std::ptrdiff_t>((cols + strip - 1) / strip);
  const int nt = rows * cols < reduce_detail::parallel_min ? 1 : threads;
  parallel_for(0, strips, nt, [&](std::ptrdiff_t t) {
    const std::size_t j0 = static_cast<std::size_t>(t) * strip;
    const std::size_t len = cols - j0 < strip ? cols - j0 : strip;
    b total[4] = {b(0.0f), b(0.0f), b(0.0f), b(0.0f)};
    for (std::size_t r0 = 0; r0 < rows; r0 += block) {
      const std::size_t r1 = r0 + block < rows ? r0 + block : rows;
      b part[4] = {b(0.0f), b(0.0f), b(0.0f), b(0.0f)};
      if (len == strip) {
        for (std::size_t r = r0; r < r1; ++r) {
          const float* row = x + r * ld + j0;
#pragma GCC unroll 4
          for (std::size_t q = 0; q < 4; ++q) part[q] += b::load_unaligned(row + q * w);
        }
      } else {
        for (std::size_t r = r0; r < r1; ++r) {
          const float* row = x + r * ld + j0;
          for (std::size_t q = 0; q * w < len; ++q) {
            const std::size_t l = len - q * w < w ? len - q * w : w;
            part[q] += load_partial<Arch>(row + q * w, l, 0.0f);
          }
        }
      }
      for (std::size_t q = 0; q < 4; ++q) total[q] += part[q];
    }
    for (std::size_t q = 0; q * w < len; ++q) {
      const std::size_t l = len - q * w < w ? len - q * w : w;
      float* out = sums + j0 + q * w;
      if (l == w)
        (b::load_unaligned(out) + total[q]).store_unaligned(out);
      else
        store_partial<Arch>(out, l, load_partial<Arch>(out, l, 0.0f) + total[q]);
    }
  });
}

template <class Arch>
double sum_squares_kernel::operator()(Arch, const float* x, std::size_t n, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr std::size_t chunk = reduce_detail::square_chunk;  // a multiple of 4 * every width
  if (n == 0) return 0.0;
  const std::size_t chunks = (n + chunk - 1) / chunk;
  scratch<Arch, double> partial(chunks);
  const int nt = n < reduce_detail::parallel_min ? 1 : threads;
  parallel_for(0, static_cast<std::ptrdiff_t>(chunks), nt, [&](std::ptrdiff_t c) {
    const std::size_t begin = static_cast<std::size_t>(c) * chunk;
    const std::size_t end = n - begin < chunk ? n : begin + chunk;
    // Four squares per lane in float, then into the double sum: float rounding
    // stays within a few units of 2^-24 of each group.
    double sum = 0.0;
    std::size_t i = begin;
    for (; i + 4 * w <= end; i += 4 * w) {
      const b x0 = b::load_unaligned(x + i), x1 = b::load_unaligned(x + i + w);
      const b x2 = b::load_unaligned(x + i + 2 * w), x3 = b::load_unaligned(x + i + 3 * w);
      sum += double(xsimd::hadd(xsimd::fma(x3, x3, xsimd::fma(x2, x2, xsimd::fma(x1, x1, x0 * x0)))));
    }
    for (; i < end; i += w) {
      const std::size_t l = end - i < w ? end - i : w;
      const b v = load_partial<Arch>(x + i, l, 0.0f);
      sum += double(xsimd::hadd(v * v));
    }
    partial.get()[c] = sum;
  });
  double total = 0.0;
  for (std::size_t c = 0; c < chunks; ++c) total += partial.get()[c];
  return total;
}

template <class Arch>
void scale_kernel::operator()(Arch, float* x, std::size_t n, float a, int threads) const {
  constexpr std::size_t chunk = 4096;  // multiple of every width: chunks never split a batch
  const auto chunks = static_cast<std::ptrdiff_t>((n + chunk - 1) / chunk);
  const batch<Arch> va(a);
  parallel_for(0, chunks, n < reduce_detail::parallel_min ? 1 : threads, [&](std::ptrdiff_t c) {
    const std::size_t begin = static_cast<std::size_t>(c) * chunk;
    const std::size_t len = n - begin < chunk ? n - begin : chunk;
    transform_in_place<Arch>(x + begin, len, [&](batch<Arch> v) { return v * va; });
  });
}

}  // namespace shopml::simd
