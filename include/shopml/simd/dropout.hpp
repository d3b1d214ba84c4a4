#pragma once
// Inverted dropout in place: x[i] = keep ? x[i] / (1 - p) : 0, where keep =
// scalar::dropout_keep(key, first + i, p) (scalar.hpp: Philox-4x32-10,
// counter (first + i) / 4, word (first + i) % 4). One key and index give one mask
// on every backend, thread count and offset, so the backward pass re-applies the
// forward mask by calling dropout again with the same key and first.
//
// Philox runs on batches of counters: lane l holds counter c + l, whose four
// words are the uniforms of elements 4(c + l) .. 4(c + l) + 3; a 4 × width
// transpose lines them up with x. The 32 × 32 -> 64-bit products use the
// even/odd-lane multiplies of AVX2 and AVX-512 (xsimd 8 has no widening
// multiply); other architectures go through a scalar loop per batch.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SHOPML_X86_DROPOUT 1
#endif

#include "shopml/parallel.hpp"
#include "shopml/scalar.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct dropout_kernel {
  template <class Arch>
  void operator()(Arch, float* x, std::size_t n, float p, std::uint64_t key, std::size_t first, int threads) const;
};

namespace dropout_detail {

template <class Arch>
using words = xsimd::batch<std::uint32_t, Arch>;

// hi:lo = a * m in every lane, the MulHiLo of scalar::philox4x32_10 for batches.
template <class Arch>
struct mulhilo {
  void operator()(words<Arch> a, std::uint32_t m, words<Arch>& hi, words<Arch>& lo) const {
    constexpr std::size_t n = words<Arch>::size;
#if defined(SHOPML_X86_DROPOUT)
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch> && n == 16) {
      const __m512i va = a, vm = _mm512_set1_epi32(static_cast<int>(m));
      const __m512i even = _mm512_mul_epu32(va, vm);                        // lanes 0, 2, ...: 64-bit products
      const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(va, 32), vm);  // lanes 1, 3, ...
      hi = words<Arch>(_mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd));
      lo = words<Arch>(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)));
      return;
    } else if constexpr (std::is_base_of_v<xsimd::avx2, Arch> && n == 8) {
      const __m256i va = a, vm = _mm256_set1_epi32(static_cast<int>(m));
      const __m256i even = _mm256_mul_epu32(va, vm);
      const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(va, 32), vm);
      hi = words<Arch>(_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA));
      lo = words<Arch>(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA));
      return;
    }
#endif
    alignas(64) std::uint32_t in[n], h[n], l[n];
    a.store_aligned(in);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t prod = std::uint64_t{in[i]} * m;
      h[i] = static_cast<std::uint32_t>(prod >> 32);
      l[i] = static_cast<std::uint32_t>(prod);
    }
    hi = words<Arch>::load_aligned(h);
    lo = words<Arch>::load_aligned(l);
  }
};

// u[w] lane l (word w of counter l) -> u[j] lane i (element 4l + w = j * width + i).
template <class Arch>
void interleave(batch<Arch> (&u)[4]) {
  constexpr std::size_t n = width<Arch>;
#if defined(SHOPML_X86_DROPOUT)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch> && n == 16) {
    // Within each 128-bit lane, a 4 × 4 transpose: e_k holds counters k, k+4, k+8, k+12 ...
    const __m512 a = _mm512_unpacklo_ps(u[0], u[1]), b = _mm512_unpackhi_ps(u[0], u[1]);
    const __m512 c = _mm512_unpacklo_ps(u[2], u[3]), d = _mm512_unpackhi_ps(u[2], u[3]);
    const __m512 e0 = _mm512_shuffle_ps(a, c, _MM_SHUFFLE(1, 0, 1, 0)), e1 = _mm512_shuffle_ps(a, c, _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 e2 = _mm512_shuffle_ps(b, d, _MM_SHUFFLE(1, 0, 1, 0)), e3 = _mm512_shuffle_ps(b, d, _MM_SHUFFLE(3, 2, 3, 2));
    // ... then a 4 × 4 transpose of the 128-bit lanes puts counters 4j .. 4j+3 in u[j].
    const __m512 f0 = _mm512_shuffle_f32x4(e0, e1, 0x44), f1 = _mm512_shuffle_f32x4(e2, e3, 0x44);
    const __m512 f2 = _mm512_shuffle_f32x4(e0, e1, 0xEE), f3 = _mm512_shuffle_f32x4(e2, e3, 0xEE);
    u[0] = batch<Arch>(_mm512_shuffle_f32x4(f0, f1, 0x88));
    u[1] = batch<Arch>(_mm512_shuffle_f32x4(f0, f1, 0xDD));
    u[2] = batch<Arch>(_mm512_shuffle_f32x4(f2, f3, 0x88));
    u[3] = batch<Arch>(_mm512_shuffle_f32x4(f2, f3, 0xDD));
    return;
  } else if constexpr (std::is_base_of_v<xsimd::avx, Arch> && n == 8) {
    const __m256 a = _mm256_unpacklo_ps(u[0], u[1]), b = _mm256_unpackhi_ps(u[0], u[1]);
    const __m256 c = _mm256_unpacklo_ps(u[2], u[3]), d = _mm256_unpackhi_ps(u[2], u[3]);
    const __m256 e0 = _mm256_shuffle_ps(a, c, _MM_SHUFFLE(1, 0, 1, 0)), e1 = _mm256_shuffle_ps(a, c, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 e2 = _mm256_shuffle_ps(b, d, _MM_SHUFFLE(1, 0, 1, 0)), e3 = _mm256_shuffle_ps(b, d, _MM_SHUFFLE(3, 2, 3, 2));
    u[0] = batch<Arch>(_mm256_permute2f128_ps(e0, e1, 0x20));
    u[1] = batch<Arch>(_mm256_permute2f128_ps(e2, e3, 0x20));
    u[2] = batch<Arch>(_mm256_permute2f128_ps(e0, e1, 0x31));
    u[3] = batch<Arch>(_mm256_permute2f128_ps(e2, e3, 0x31));
    return;
  }
#endif
  alignas(64) float in[4][n], out[4 * n];
  for (std::size_t w = 0; w < 4; ++w) u[w].store_aligned(in[w]);
  for (std::size_t l = 0; l < n; ++l)
    for (std::size_t w = 0; w < 4; ++w) out[4 * l + w] = in[w][l];
  for (std::size_t j = 0; j < 4; ++j) u[j] = batch<Arch>::load_aligned(out + j * n);
}

// Counter batches (of width counters, 4 * width elements) per parallel task.
inline constexpr std::size_t blocks_per_task = 64;

}  // namespace dropout_detail

template <class Arch>
void dropout_kernel::operator()(Arch, float* x, std::size_t n, float p, std::uint64_t key, std::size_t first, int threads) const {
  using b = batch<Arch>;
  using u32 = dropout_detail::words<Arch>;
  using i32 = xsimd::batch<std::int32_t, Arch>;
  constexpr std::size_t w = width<Arch>;
  static_assert(u32::size == w);
  if (n == 0 || p == 0.0f) return;              // p = 0 keeps every element, and x / 1 = x
  const std::uint64_t g0 = first, g1 = g0 + n;  // the elements' global indices
  const std::uint64_t c_begin = g0 / 4, c_end = (g1 + 3) / 4;
  const std::uint64_t blocks = (c_end - c_begin + w - 1) / w;
  const std::uint64_t tasks = (blocks + dropout_detail::blocks_per_task - 1) / dropout_detail::blocks_per_task;
  const auto k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
  const float q = 1.0f - p;
  alignas(64) std::uint32_t iota[w];
  for (std::size_t l = 0; l < w; ++l) iota[l] = static_cast<std::uint32_t>(l);
  const u32 lanes = u32::load_aligned(iota);
  parallel_for(0, static_cast<std::ptrdiff_t>(tasks), n < (std::size_t{1} << 14) ? 1 : threads, [&](std::ptrdiff_t t) {
    const std::uint64_t blk_begin = static_cast<std::uint64_t>(t) * dropout_detail::blocks_per_task;
    const std::uint64_t blk_end =
        blk_begin + dropout_detail::blocks_per_task < blocks ? blk_begin + dropout_detail::blocks_per_task : blocks;
    const b vp(p), vq(q), zero(0.0f);
    for (std::uint64_t blk = blk_begin; blk < blk_end; ++blk) {
      const std::uint64_t c = c_begin + blk * w;
      u32 ctr[4];
      const auto lo = static_cast<std::uint32_t>(c);
      if (lo <= 0xFFFFFFFFu - (w - 1)) {
        ctr[0] = u32(lo) + lanes;
        ctr[1] = u32(static_cast<std::uint32_t>(c >> 32));
      } else {  // the low word wraps inside this batch
        alignas(64) std::uint32_t l0[w], l1[w];
        for (std::size_t l = 0; l < w; ++l) {
          l0[l] = static_cast<std::uint32_t>(c + l);
          l1[l] = static_cast<std::uint32_t>((c + l) >> 32);
        }
        ctr[0] = u32::load_aligned(l0);
        ctr[1] = u32::load_aligned(l1);
      }
      ctr[2] = ctr[3] = u32(0u);
      scalar::philox4x32_10(ctr, k0, k1, dropout_detail::mulhilo<Arch>{});
      // u = (word >> 8) * 2^-24, exact in float as in scalar::dropout_keep.
      b u[4];
      for (std::size_t k = 0; k < 4; ++k) u[k] = xsimd::to_float(xsimd::bitwise_cast<i32>(ctr[k] >> 8)) * b(0x1p-24f);
      dropout_detail::interleave<Arch>(u);
      const std::uint64_t e = 4 * c;  // global index of u[0]'s first lane
      if (e >= g0 && e + 4 * w <= g1) {
        float* xp = x + (e - g0);
        for (std::size_t j = 0; j < 4; ++j) {
          const b v = b::load_unaligned(xp + j * w);
          xsimd::select(u[j] >= vp, v / vq, zero).store_unaligned(xp + j * w);
        }
      } else {  // the first or last batch: only part of it is in x
        alignas(64) float ub[4 * w];
        for (std::size_t j = 0; j < 4; ++j) u[j].store_aligned(ub + j * w);
        for (std::size_t k = 0; k < 4 * w; ++k) {
          if (e + k < g0 || e + k >= g1) continue;
          float& xi = x[e + k - g0];
          xi = ub[k] >= p ? xi / q : 0.0f;
        }
      }
    }
  });
}

}  // namespace shopml::simd
