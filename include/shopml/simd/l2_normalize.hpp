#pragma once
// Each row x / max(||x||_2, 1e-12), as torch.nn.functional.normalize: zero rows
// stay zero, a NaN anywhere in a row makes the row NaN.

#include <cmath>
#include <cstddef>

#include "shopml/parallel.hpp"
#include "shopml/scalar.hpp"
#include "shopml/simd/arch.hpp"
#include "shopml/simd/dot.hpp"

namespace shopml::simd {

struct l2_normalize_kernel {
  template <class Arch>
  void operator()(Arch, float* x, std::size_t rows, std::size_t cols, int threads) const;
};

template <class Arch>
void l2_normalize_kernel::operator()(Arch, float* x, std::size_t rows, std::size_t cols, int threads) const {
  parallel_for(0, static_cast<std::ptrdiff_t>(rows), threads, [&](std::ptrdiff_t r) {
    float* row = x + static_cast<std::size_t>(r) * cols;
    const float norm = std::sqrt(dot_kernel{}(Arch{}, row, row, cols));
    const batch<Arch> divisor(scalar::l2_normalize_divisor(norm));
    transform_in_place<Arch>(row, cols, [&](batch<Arch> v) { return v / divisor; });
  });
}

}  // namespace shopml::simd
