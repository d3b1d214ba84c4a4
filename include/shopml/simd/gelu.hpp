#pragma once
// In-place GELU over a flat array, erf or tanh form. The formulas are the scalar
// ones (kernels/scalar.hpp) evaluated on batches with xsimd's erf and tanh
// (polynomial/rational approximations within a few ulp of libm).

#include <cstddef>

#include "shopml/backend/kernels.hpp"
#include "shopml/kernels/scalar.hpp"
#include "shopml/parallel.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct gelu_kernel {
  template <class Arch>
  void operator()(Arch, float* x, std::size_t n, gelu_form form, int threads) const;
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

}  // namespace shopml::simd
