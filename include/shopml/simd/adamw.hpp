#pragma once
// torch.optim.AdamW over a flat array of parameters: scalar::adamw_products and
// scalar::adamw_sums (scalar.hpp) on batches, with the step's scalars
// prepared once by scalar::adamw_prepare. The two stages run as two loops over
// blocks of 256 elements, stage one storing its results before stage two loads
// them, so the compiler cannot fuse a product into a sum and the result is the
// scalar formula's, bit for bit, with or without FMA contraction. Element-wise,
// so any thread count gives the same bits.

#include <cstddef>

#include "shopml/parallel.hpp"
#include "shopml/scalar.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

// One step on n parameters with their gradients and first and second moments.
struct adamw_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t n, float* param, const float* grad, float* m, float* v, const scalar::adamw_factors& f,
                  int threads) const;
};

template <class Arch>
void adamw_kernel::operator()(Arch, std::size_t n, float* param, const float* grad, float* m, float* v,
                              const scalar::adamw_factors& f, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr std::size_t block = 256;   // a multiple of every width
  constexpr std::size_t chunk = 4096;  // per parallel task; a multiple of block
  const auto chunks = static_cast<std::ptrdiff_t>((n + chunk - 1) / chunk);
  parallel_for(0, chunks, n < chunk * 4 ? 1 : threads, [&](std::ptrdiff_t c) {
    const std::size_t chunk_begin = static_cast<std::size_t>(c) * chunk;
    const std::size_t chunk_end = n - chunk_begin < chunk ? n : chunk_begin + chunk;
    alignas(64) float dm[block], dv[block];
    for (std::size_t begin = chunk_begin; begin < chunk_end; begin += block) {
      const std::size_t len = chunk_end - begin < block ? chunk_end - begin : block;
      float* p = param + begin;
      float* mb = m + begin;
      float* vb = v + begin;
      const float* g = grad + begin;
      // Stage one. The last batch of the last block may be partial: its padding
      // lanes (v = 1, so that sqrt and the division stay finite) are not stored.
      for (std::size_t i = 0; i < len; i += w) {
        const std::size_t l = len - i < w ? len - i : w;
        b pi = l == w ? b::load_unaligned(p + i) : load_partial<Arch>(p + i, l, 0.0f);
        b vi = l == w ? b::load_unaligned(vb + i) : load_partial<Arch>(vb + i, l, 1.0f);
        const b mi = l == w ? b::load_unaligned(mb + i) : load_partial<Arch>(mb + i, l, 0.0f);
        const b gi = l == w ? b::load_unaligned(g + i) : load_partial<Arch>(g + i, l, 0.0f);
        b dmi, dvi;
        scalar::adamw_products(pi, mi, vi, gi, dmi, dvi, f);
        if (l == w) {
          pi.store_unaligned(p + i);
          vi.store_unaligned(vb + i);
        } else {
          store_partial<Arch>(p + i, l, pi);
          store_partial<Arch>(vb + i, l, vi);
        }
        dmi.store_aligned(dm + i);
        dvi.store_aligned(dv + i);
      }
      // Stage two.
      for (std::size_t i = 0; i < len; i += w) {
        const std::size_t l = len - i < w ? len - i : w;
        b pi = l == w ? b::load_unaligned(p + i) : load_partial<Arch>(p + i, l, 0.0f);
        b mi = l == w ? b::load_unaligned(mb + i) : load_partial<Arch>(mb + i, l, 0.0f);
        b vi = l == w ? b::load_unaligned(vb + i) : load_partial<Arch>(vb + i, l, 1.0f);
        scalar::adamw_sums(pi, mi, vi, b::load_aligned(dm + i), b::load_aligned(dv + i), f);
        if (l == w) {
          pi.store_unaligned(p + i);
          mi.store_unaligned(mb + i);
          vi.store_unaligned(vb + i);
        } else {
          store_partial<Arch>(p + i, l, pi);
          store_partial<Arch>(mb + i, l, mi);
          store_partial<Arch>(vb + i, l, vi);
        }
      }
    }
  });
}

}  // namespace shopml::simd
