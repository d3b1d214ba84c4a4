#pragma once
// y = LayerNorm(x + residual) * gamma + beta per row, two-pass (mean, then the
// variance of the centred values) for accuracy; y may alias x.

#include <cmath>
#include <cstddef>

#include "shopml/parallel.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct layer_norm_kernel {
  template <class Arch>
  void operator()(Arch, const float* x, const float* residual, float* y, std::size_t rows,
                  std::size_t cols, const float* gamma, const float* beta, float eps, int threads) const;
};

template <class Arch>
void layer_norm_kernel::operator()(Arch, const float* x, const float* residual, float* y,
                                   std::size_t rows, std::size_t cols, const float* gamma,
                                   const float* beta, float eps, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  if (cols == 0) return;
  parallel_for(0, static_cast<std::ptrdiff_t>(rows), threads, [&](std::ptrdiff_t r) {
    const std::size_t offset = static_cast<std::size_t>(r) * cols;
    const float* in = x + offset;
    const float* res = residual ? residual + offset : nullptr;
    float* out = y + offset;
    const std::size_t tail = cols % w, body = cols - tail;

    b sum(0.0f);
    for (std::size_t j = 0; j < body; j += w) {
      b v = b::load_unaligned(in + j);
      if (res) v += b::load_unaligned(res + j);
      v.store_unaligned(out + j);
      sum += v;
    }
    if (tail) {
      b v = load_partial<Arch>(in + body, tail, 0.0f);
      if (res) v += load_partial<Arch>(res + body, tail, 0.0f);
      store_partial<Arch>(out + body, tail, v);
      sum += v;
    }
    const float mean = xsimd::hadd(sum) / static_cast<float>(cols);
    const b vmean(mean);

    b sq(0.0f);
    for (std::size_t j = 0; j < body; j += w) {
      const b d = b::load_unaligned(out + j) - vmean;
      sq = xsimd::fma(d, d, sq);
    }
    if (tail) {
      const b d = load_partial<Arch>(out + body, tail, mean) - vmean;  // padding: d = 0
      sq = xsimd::fma(d, d, sq);
    }
    const b inv(1.0f / std::sqrt(xsimd::hadd(sq) / static_cast<float>(cols) + eps));

    for (std::size_t j = 0; j < body; j += w)
      xsimd::fma((b::load_unaligned(out + j) - vmean) * inv, b::load_unaligned(gamma + j), b::load_unaligned(beta + j))
          .store_unaligned(out + j);
    if (tail)
      store_partial<Arch>(out + body, tail,
                          xsimd::fma((load_partial<Arch>(out + body, tail, 0.0f) - vmean) * inv,
                                     load_partial<Arch>(gamma + body, tail, 0.0f),
                                     load_partial<Arch>(beta + body, tail, 0.0f)));
  });
}

}  // namespace shopml::simd
