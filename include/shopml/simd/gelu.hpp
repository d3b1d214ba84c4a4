#pragma once
// In-place GELU over a flat array, erf or tanh form, and its backward pass
// dy = dy * gelu'(x). The formulas are the scalar ones (scalar.hpp)
// evaluated on batches with xsimd's erf, exp and tanh (polynomial/rational
// approximations within a few ulp of libm).

#include <cstddef>

#include "shopml/parallel.hpp"
#include "shopml/scalar.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct gelu_kernel {
  template <class Arch>
  void operator()(Arch, float* x, std::size_t n, gelu_form form, int threads) const;
};

// dy[i] = dy[i] * gelu'(x[i]), x being GELU's input.
struct gelu_backward_kernel {
  template <class Arch>
  void operator()(Arch, const float* x, float* dy, std::size_t n, gelu_form form, int threads) const;
};

template <class Arch>
void gelu_kernel::operator()(Arch, float* x, std::size_t n, gelu_form form, int threads) const {
  constexpr std::size_t chunk = 4096;  // multiple of every width: chunks never split a batch
  const auto chunks = static_cast<std::ptrdiff_t>((n + chunk - 1) / chunk);
  parallel_for(0, chunks, threads, [&](std::ptrdiff_t c) {
    const std::size_t begin = static_cast<std::size_t>(c) * chunk;
    const std::size_t len = n - begin < chunk ? n - begin : chunk;
    if (form == gelu_form::erf)
      transform_in_place<Arch>(x + begin, len, [](batch<Arch> v) { return scalar::gelu_erf(v); });
    else
      transform_in_place<Arch>(x + begin, len, [](batch<Arch> v) { return scalar::gelu_tanh(v); });
  });
}

template <class Arch>
void gelu_backward_kernel::operator()(Arch, const float* x, float* dy, std::size_t n, gelu_form form, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr std::size_t chunk = 4096;
  const auto chunks = static_cast<std::ptrdiff_t>((n + chunk - 1) / chunk);
  auto run = [&](auto grad) {
    parallel_for(0, chunks, threads, [&](std::ptrdiff_t c) {
      const std::size_t begin = static_cast<std::size_t>(c) * chunk;
      const std::size_t end = n - begin < chunk ? n : begin + chunk;
      std::size_t i = begin;
      for (; i + w <= end; i += w) (b::load_unaligned(dy + i) * grad(b::load_unaligned(x + i))).store_unaligned(dy + i);
      if (i < end)
        store_partial<Arch>(dy + i, end - i,
                            load_partial<Arch>(dy + i, end - i, 0.0f) * grad(load_partial<Arch>(x + i, end - i, 0.0f)));
    });
  };
  if (form == gelu_form::erf)
    run([](b v) { return scalar::gelu_erf_grad(v); });
  else
    run([](b v) { return scalar::gelu_tanh_grad(v); });
}

}  // namespace shopml::simd
