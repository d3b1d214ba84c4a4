#pragma once
// Mean pooling of packed sequences and its backward pass (sentence-transformers'
// Pooling(mean) as a classification head's input). Segment s holds rows
// [offsets[s], offsets[s+1]) of x; rows whose mask is 0 take no part:
//   out[s] = Σ_{t kept} x[t] / max(count_s, 1e-9)          (forward)
//   dx[t]  = mask[t] ? dout[s] / max(count_s, 1e-9) : 0     (backward, written not added)
// Each output row is summed in row order by one thread: the same bits for every thread count.

#include <cstddef>
#include <cstdint>

#include "shopml/parallel.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct mean_pool_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t segments, std::size_t cols, const float* x, std::size_t ld, const std::size_t* offsets,
                  const std::uint8_t* mask, float* out, int threads) const;
};

struct mean_pool_backward_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t segments, std::size_t cols, const float* dout, const std::size_t* offsets,
                  const std::uint8_t* mask, float* dx, std::size_t ld, int threads) const;
};

namespace detail {
// sentence-transformers clamps the token count at 1e-9: an all-masked segment pools to 0.
// A template on Arch as every function here, so that each ISA object keeps its own copy.
template <class Arch>
float kept_count(const std::size_t* offsets, const std::uint8_t* mask, std::size_t s) {
  float count = 0.0f;
  for (std::size_t t = offsets[s]; t < offsets[s + 1]; ++t) count += mask[t] ? 1.0f : 0.0f;
  return count > 1e-9f ? count : 1e-9f;
}
}  // namespace detail

template <class Arch>
void mean_pool_kernel::operator()(Arch, std::size_t segments, std::size_t cols, const float* x, std::size_t ld,
                                  const std::size_t* offsets, const std::uint8_t* mask, float* out, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  parallel_for(0, static_cast<std::ptrdiff_t>(segments), threads, [&](std::ptrdiff_t si) {
    const auto s = static_cast<std::size_t>(si);
    float* o = out + s * cols;
    const b count(detail::kept_count<Arch>(offsets, mask, s));
    for (std::size_t j = 0; j < cols; j += w) {
      const std::size_t l = cols - j < w ? cols - j : w;
      b sum(0.0f);
      for (std::size_t t = offsets[s]; t < offsets[s + 1]; ++t)
        if (mask[t]) sum += load_partial<Arch>(x + t * ld + j, l, 0.0f);
      store_partial<Arch>(o + j, l, sum / count);
    }
  });
}

template <class Arch>
void mean_pool_backward_kernel::operator()(Arch, std::size_t segments, std::size_t cols, const float* dout,
                                           const std::size_t* offsets, const std::uint8_t* mask, float* dx, std::size_t ld,
                                           int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  parallel_for(0, static_cast<std::ptrdiff_t>(segments), threads, [&](std::ptrdiff_t si) {
    const auto s = static_cast<std::size_t>(si);
    const b count(detail::kept_count<Arch>(offsets, mask, s));
    for (std::size_t t = offsets[s]; t < offsets[s + 1]; ++t)
      for (std::size_t j = 0; j < cols; j += w) {
        const std::size_t l = cols - j < w ? cols - j : w;
        const b g = mask[t] ? load_partial<Arch>(dout + s * cols + j, l, 0.0f) / count : b(0.0f);
        store_partial<Arch>(dx + t * ld + j, l, g);
      }
  });
}

}  // namespace shopml::simd
