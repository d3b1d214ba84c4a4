#pragma once
// y = LayerNorm(x + residual) * gamma + beta per row, two-pass (mean, then the
// variance of the centred values) for accuracy; y may alias x. And its backward
// pass, which recomputes the mean and variance of the row the same way.

#include <cmath>
#include <cstddef>

#include "shopml/parallel.hpp"
#include "shopml/scalar.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct layer_norm_kernel {
  template <class Arch>
  void operator()(Arch, const float* x, const float* residual, float* y, std::size_t rows, std::size_t cols, const float* gamma,
                  const float* beta, float eps, int threads) const;
};

// Backward of y = LayerNorm(x) * gamma + beta, x the normalised input (residual
// included): per row, with x̂ = (x - mean) * rstd and g = dy * gamma,
//   dx (=) rstd * (g - mean(g) - x̂ * mean(g * x̂)),  dgamma += Σ_rows dy * x̂,  dbeta += Σ_rows dy.
// dx may alias dy. The column sums go through fixed blocks of rows (each summed
// in row order into its own partial, the partials then added in block order), so
// they are the same for every thread count.
struct layer_norm_backward_kernel {
  template <class Arch>
  void operator()(Arch, const float* dy, const float* x, const float* gamma, std::size_t rows, std::size_t cols, float eps,
                  float* dx, float* dgamma, float* dbeta, int threads) const;
};

namespace layer_norm_detail {

// Mean and 1 / sqrt(variance + eps) of one row, as the forward pass normalises it.
struct moments {
  float mean, rstd;
};

template <class Arch>
moments row_moments(const float* v, std::size_t cols, float eps) {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  const std::size_t tail = cols % w, body = cols - tail;
  b sum(0.0f);
  for (std::size_t j = 0; j < body; j += w) sum += b::load_unaligned(v + j);
  if (tail) sum += load_partial<Arch>(v + body, tail, 0.0f);
  const float mean = xsimd::hadd(sum) / static_cast<float>(cols);
  const b vmean(mean);
  b sq(0.0f);
  for (std::size_t j = 0; j < body; j += w) {
    const b d = b::load_unaligned(v + j) - vmean;
    sq = xsimd::fma(d, d, sq);
  }
  if (tail) {
    const b d = load_partial<Arch>(v + body, tail, mean) - vmean;  // padding: d = 0
    sq = xsimd::fma(d, d, sq);
  }
  return {mean, scalar::layer_norm_inverse_std(xsimd::hadd(sq) / static_cast<float>(cols), eps)};
}

// Rows per block of the dgamma/dbeta partial sums (fixed: not a function of the thread count).
inline constexpr std::size_t backward_block_rows = 32;

}  // namespace layer_norm_detail

template <class Arch>
void layer_norm_kernel::operator()(Arch, const float* x, const float* residual, float* y, std::size_t rows, std::size_t cols,
                                   const float* gamma, const float* beta, float eps, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  if (cols == 0) return;
  parallel_for(0, static_cast<std::ptrdiff_t>(rows), threads, [&](std::ptrdiff_t r) {
    const std::size_t offset = static_cast<std::size_t>(r) * cols;
    const float* in = x + offset;
    const float* res = residual ? residual + offset : nullptr;
    float* out = y + offset;
    const std::size_t tail = cols % w, body = cols - tail;

    for (std::size_t j = 0; j < body; j += w) {
      b v = b::load_unaligned(in + j);
      if (res) v += b::load_unaligned(res + j);
      v.store_unaligned(out + j);
    }
    if (tail) {
      b v = load_partial<Arch>(in + body, tail, 0.0f);
      if (res) v += load_partial<Arch>(res + body, tail, 0.0f);
      store_partial<Arch>(out + body, tail, v);
    }
    const auto stats = layer_norm_detail::row_moments<Arch>(out, cols, eps);
    const b vmean(stats.mean), inv(stats.rstd);

    for (std::size_t j = 0; j < body; j += w)
      xsimd::fma((b::load_unaligned(out + j) - vmean) * inv, b::load_unaligned(gamma + j), b::load_unaligned(beta + j))
          .store_unaligned(out + j);
    if (tail)
      store_partial<Arch>(out + body, tail,
                          xsimd::fma((load_partial<Arch>(out + body, tail, 0.0f) - vmean) * inv,
                                     load_partial<Arch>(gamma + body, tail, 0.0f), load_partial<Arch>(beta + body, tail, 0.0f)));
  });
}

template <class Arch>
void layer_norm_backward_kernel::operator()(Arch, const float* dy, const float* x, const float* gamma, std::size_t rows,
                                            std::size_t cols, float eps, float* dx, float* dgamma, float* dbeta,
                                            int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr std::size_t block_rows = layer_norm_detail::backward_block_rows;
  if (rows == 0 || cols == 0) return;
  const std::size_t blocks = (rows + block_rows - 1) / block_rows;
  const std::size_t tail = cols % w, body = cols - tail;
  // partial[blk * 2 * cols + j]: Σ dy x̂ of the block's rows; + cols: Σ dy.
  scratch<Arch> partial(blocks * 2 * cols);
  parallel_for(0, static_cast<std::ptrdiff_t>(blocks), threads, [&](std::ptrdiff_t blk) {
    const std::size_t r0 = static_cast<std::size_t>(blk) * block_rows;
    const std::size_t r1 = r0 + block_rows < rows ? r0 + block_rows : rows;
    float* pg = partial.get() + static_cast<std::size_t>(blk) * 2 * cols;
    float* pb = pg + cols;
    for (std::size_t j = 0; j < 2 * cols; ++j) pg[j] = 0.0f;
    for (std::size_t r = r0; r < r1; ++r) {
      const float* in = x + r * cols;
      const float* d = dy + r * cols;
      float* out = dx + r * cols;
      const auto stats = layer_norm_detail::row_moments<Arch>(in, cols, eps);
      const b vmean(stats.mean), vrstd(stats.rstd);
      // Pass 1: Σ g and Σ g x̂ over the row; the block's dgamma and dbeta partials
      // (before dx overwrites dy, which it may alias).
      b sum_g(0.0f), sum_gx(0.0f);
      for (std::size_t j = 0; j < body; j += w) {
        const b dv = b::load_unaligned(d + j);
        const b xhat = (b::load_unaligned(in + j) - vmean) * vrstd;
        const b g = dv * b::load_unaligned(gamma + j);
        sum_g += g;
        sum_gx = xsimd::fma(g, xhat, sum_gx);
        xsimd::fma(dv, xhat, b::load_unaligned(pg + j)).store_unaligned(pg + j);
        (b::load_unaligned(pb + j) + dv).store_unaligned(pb + j);
      }
      if (tail) {
        // Padding: dy = 0 and gamma = 0, so it adds nothing.
        const b dv = load_partial<Arch>(d + body, tail, 0.0f), xv = load_partial<Arch>(in + body, tail, 0.0f),
                gv = load_partial<Arch>(gamma + body, tail, 0.0f);
        const b xhat = (xv - vmean) * vrstd;
        const b g = dv * gv;
        sum_g += g;
        sum_gx = xsimd::fma(g, xhat, sum_gx);
        store_partial<Arch>(pg + body, tail, xsimd::fma(dv, xhat, load_partial<Arch>(pg + body, tail, 0.0f)));
        store_partial<Arch>(pb + body, tail, load_partial<Arch>(pb + body, tail, 0.0f) + dv);
      }
      const b mean_g(xsimd::hadd(sum_g) / static_cast<float>(cols));
      const b mean_gx(xsimd::hadd(sum_gx) / static_cast<float>(cols));
      // Pass 2: dx.
      auto grad = [&](b dv, b xv, b gv) {
        const b xhat = (xv - vmean) * vrstd;
        return vrstd * (dv * gv - mean_g - xhat * mean_gx);
      };
      for (std::size_t j = 0; j < body; j += w)
        grad(b::load_unaligned(d + j), b::load_unaligned(in + j), b::load_unaligned(gamma + j)).store_unaligned(out + j);
      if (tail)
        store_partial<Arch>(out + body, tail,
                            grad(load_partial<Arch>(d + body, tail, 0.0f), load_partial<Arch>(in + body, tail, 0.0f),
                                 load_partial<Arch>(gamma + body, tail, 0.0f)));
    }
  });
  // The partials, in block order, per strip of columns.
  constexpr std::size_t strip = 16 * w;
  const auto strips = static_cast<std::ptrdiff_t>((cols + strip - 1) / strip);
  parallel_for(0, strips, threads, [&](std::ptrdiff_t t) {
    const std::size_t j0 = static_cast<std::size_t>(t) * strip;
    const std::size_t j1 = j0 + strip < cols ? j0 + strip : cols;
    for (std::size_t j = j0; j < j1; j += w) {
      const std::size_t len = j1 - j < w ? j1 - j : w;
      b sg(0.0f), sb(0.0f);
      for (std::size_t blk = 0; blk < blocks; ++blk) {
        const float* pg = partial.get() + blk * 2 * cols;
        if (len == w) {
          sg += b::load_unaligned(pg + j);
          sb += b::load_unaligned(pg + cols + j);
        } else {
          sg += load_partial<Arch>(pg + j, len, 0.0f);
          sb += load_partial<Arch>(pg + cols + j, len, 0.0f);
        }
      }
      if (len == w) {
        (b::load_unaligned(dgamma + j) + sg).store_unaligned(dgamma + j);
        (b::load_unaligned(dbeta + j) + sb).store_unaligned(dbeta + j);
      } else {
        store_partial<Arch>(dgamma + j, len, load_partial<Arch>(dgamma + j, len, 0.0f) + sg);
        store_partial<Arch>(dbeta + j, len, load_partial<Arch>(dbeta + j, len, 0.0f) + sb);
      }
    }
  });
}

}  // namespace shopml::simd
