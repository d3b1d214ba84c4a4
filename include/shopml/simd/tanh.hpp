#pragma once
// In-place tanh over a flat array (BERT's pooler) with xsimd's tanh, and its
// backward pass from the output: dy = dy * (1 - y²) (scalar::tanh_grad).

#include <cstddef>

#include "shopml/parallel.hpp"
#include "shopml/scalar.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct tanh_kernel {
  template <class Arch>
  void operator()(Arch, float* x, std::size_t n, int threads) const;
};

// dy[i] = dy[i] * (1 - y[i]²), y = tanh(x) the forward output.
struct tanh_backward_kernel {
  template <class Arch>
  void operator()(Arch, const float* y, float* dy, std::size_t n, int threads) const;
};

template <class Arch>
void tanh_kernel::operator()(Arch, float* x, std::size_t n, int threads) const {
  constexpr std::size_t chunk = 4096;  // multiple of every width: chunks never split a batch
  const auto chunks = static_cast<std::ptrdiff_t>((n + chunk - 1) / chunk);
  parallel_for(0, chunks, threads, [&](std::ptrdiff_t c) {
    const std::size_t begin = static_cast<std::size_t>(c) * chunk;
    const std::size_t len = n - begin < chunk ? n - begin : chunk;
    transform_in_place<Arch>(x + begin, len, [](batch<Arch> v) { return xsimd::tanh(v); });
  });
}

template <class Arch>
void tanh_backward_kernel::operator()(Arch, const float* y, float* dy, std::size_t n, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr std::size_t chunk = 4096;
  const auto chunks = static_cast<std::ptrdiff_t>((n + chunk - 1) / chunk);
  parallel_for(0, chunks, threads, [&](std::ptrdiff_t c) {
    const std::size_t begin = static_cast<std::size_t>(c) * chunk;
    const std::size_t end = n - begin < chunk ? n : begin + chunk;
    std::size_t i = begin;
    for (; i + w <= end; i += w)
      (b::load_unaligned(dy + i) * scalar::tanh_grad(b::load_unaligned(y + i))).store_unaligned(dy + i);
    if (i < end)
      store_partial<Arch>(
          dy + i, end - i,
          load_partial<Arch>(dy + i, end - i, 0.0f) * scalar::tanh_grad(load_partial<Arch>(y + i, end - i, 0.0f)));
  });
}

}  // namespace shopml::simd
