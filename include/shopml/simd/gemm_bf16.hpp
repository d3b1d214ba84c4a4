#pragma once
// BF16 GEMM with fp32 accumulation for weights packed once (the encoder's dense layers at
// precision bf16): C = alpha · A·op(B) + beta · C + bias, where A and op(B) are first
// rounded to bfloat16 (to nearest even, as torch's .to(torch.bfloat16)) and the exact
// products are summed in fp32.
//
// Two roads to the same numbers, up to the order of the fp32 sums:
//  * AMX-BF16 (Intel Sapphire Rapids and later, on Linux, which grants the tile state on
//    request): op(B) is stored as bf16 in the tile unit's pair-interleaved ("VNNI") layout,
//    A is rounded to bf16 once per call, and each 32 × 32 block of C is four 16 × 16 fp32
//    tiles fed by TDPBF16PS, about ten times the machine's fp32 FMA rate;
//  * elsewhere (AVX2, AVX-512 without AMX, other systems) the bf16-rounded values, widened
//    back to fp32, go through the fp32 GEMM (gemm.hpp): bf16 numerics at fp32 speed.
// AVX-512 BF16's VDPBF16PS alone is no road: it runs at half the fp32 FMA rate.
//
// Not part of the per-ISA dispatch (instantiate.hpp): the AMX functions carry their own
// target attributes and are chosen at run time by amx_bf16_usable().

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "shopml/parallel.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SHOPML_BF16_AVX2 1
#if defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define SHOPML_AMX_BF16 1
#endif
#endif

namespace shopml::simd::bf16 {

// float → bfloat16, round to nearest even; NaN stays a (quiet) NaN.
inline std::uint16_t to_bf16(float x) {
  const auto u = std::bit_cast<std::uint32_t>(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline float to_float(std::uint16_t h) { return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16); }

// x rounded to bf16 and back.
inline float round_trip(float x) { return to_float(to_bf16(x)); }

#if defined(SHOPML_BF16_AVX2)
// round_trip on 8 floats (the same bits): the road without AMX rounds every row of A per
// product, and one scalar pass cost 7 % of the encoder's time.
__attribute__((target("avx2"))) inline void round_trip_avx2(const float* in, float* out) {
  const __m256i u = _mm256_castps_si256(_mm256_loadu_ps(in));
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_and_si256(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), high);
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)), _mm256_set1_epi32(0x7f800000));
  const __m256i quiet = _mm256_and_si256(_mm256_or_si256(u, _mm256_set1_epi32(0x00400000)), high);
  _mm256_storeu_ps(out, _mm256_castsi256_ps(_mm256_blendv_epi8(rounded, quiet, nan)));
}
#endif

// Rows [first, last) of A (m × k, rows lda apart) rounded to bf16 and back into out (rows k apart).
inline void round_trip_rows(const float* a, std::size_t lda, std::size_t k, std::size_t first, std::size_t last, float* out) {
#if defined(SHOPML_BF16_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2");
#else
  constexpr bool avx2 = false;
#endif
  for (std::size_t r = first; r < last; ++r) {
    const float* src = a + r * lda;
    float* dst = out + r * k;
    std::size_t j = 0;
#if defined(SHOPML_BF16_AVX2)
    if (avx2)
      for (; j + 8 <= k; j += 8) round_trip_avx2(src + j, dst + j);
#endif
    for (; j < k; ++j) dst[j] = round_trip(src[j]);
  }
}

// n values of T, 64-byte aligned (tile loads want whole cache lines, and 32-byte vector loads
// must not straddle two).
template <class T>
struct aligned_array {
  struct free_aligned {
    void operator()(T* p) const { ::operator delete (p, std::align_val_t{64}); }
  };
  std::unique_ptr<T, free_aligned> data;
  explicit aligned_array(std::size_t n = 0) {
    if (n) data.reset(static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64})));
  }
  T* get() const { return data.get(); }
};

// op(B), k × n, in AMX's layout: k padded to kp (a multiple of 32), n to blocks of 16 columns
// (an even number of them); block j holds kp/2 rows of 16 column pairs (b(2p, c), b(2p+1, c)).
struct amx_matrix {
  std::size_t k = 0, n = 0, kp = 0, blocks = 0;
  aligned_array<std::uint16_t> values;
};

inline std::size_t round_up(std::size_t x, std::size_t to) { return (x + to - 1) / to * to; }

inline amx_matrix pack_amx(bool trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb) {
  amx_matrix p;
  p.k = k;
  p.n = n;
  p.kp = round_up(k, 32);
  p.blocks = round_up((n + 15) / 16, 2);
  const std::size_t size = p.blocks * p.kp * 16;
  p.values = aligned_array<std::uint16_t>(size);
  std::uint16_t* out = p.values.get();
  std::fill_n(out, size, std::uint16_t{0});
  for (std::size_t col = 0; col < n; ++col)
    for (std::size_t kk = 0; kk < k; ++kk) {
      const float v = trans_b ? b[col * ldb + kk] : b[kk * ldb + col];
      out[(col / 16) * p.kp * 16 + (kk / 2) * 32 + (col % 16) * 2 + kk % 2] = to_bf16(v);
    }
  return p;
}

#if defined(SHOPML_AMX_BF16)

// The CPU has AMX-BF16 (and AVX-512 BF16 for rounding A) and the kernel lets this process
// use the tile registers (arch_prctl ARCH_REQ_XCOMP_PERM for XTILEDATA, Linux 5.16+).
inline bool amx_bf16_usable() {
  static const bool usable = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool amx = (d >> 22 & 1u) && (d >> 24 & 1u);                                                // AMX-BF16, AMX-TILE
    const bool avx512 = (b >> 16 & 1u) && (b >> 30 & 1u) && (b >> 31 & 1u);                           // F, BW, VL
    if (!amx || !avx512 || !__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a >> 5 & 1u)) return false;  // AVX512_BF16
    constexpr long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
  }();
  return usable;
}

namespace detail {

struct tile_config {
  std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
  std::uint16_t bytes_per_row[16] = {};
  std::uint8_t rows[16] = {};
};

// The layout every AMX product here uses: all eight tiles 16 rows × 64 bytes (four of C, two
// of A, two of B). Per thread, before its first tile instruction; _tile_release after.
__attribute__((target("amx-tile"))) inline void configure_tiles() {
  tile_config config;
  for (int t = 0; t < 8; ++t) config.rows[t] = 16, config.bytes_per_row[t] = 64;
  // Not _tile_loadconfig: GCC 12's tells the compiler it reads one pointer's worth of the
  // configuration, so an optimised build (the -O3 Python extension) dropped the stores that
  // fill the rest, and the first tile instruction raised SIGILL. This reads the whole of it,
  // and the memory clobber puts every earlier store to A and B before the tile loads.
  __asm__ volatile("ldtilecfg\t%X0" ::"m"(config) : "memory");
}

// Tiles 0–3 (2 × 2 tiles of 16 × 16 four-byte sums) into a 32 × 32 row-major block.
__attribute__((target("amx-tile"))) inline void store_block(void* block) {
  auto* out = static_cast<std::uint32_t*>(block);
  _tile_stored(0, out, 128);
  _tile_stored(1, out + 16, 128);
  _tile_stored(2, out + std::size_t{16} * 32, 128);
  _tile_stored(3, out + std::size_t{16} * 32 + 16, 128);
}

// The lanes of the two 16-column halves of a 32-column block that hold columns (< cols).
struct column_masks {
  __mmask16 low, high;
  explicit column_masks(std::size_t cols)
      : low(static_cast<__mmask16>(cols >= 16 ? 0xffffu : (1u << cols) - 1u)),
        high(static_cast<__mmask16>(cols >= 32  ? 0xffffu
                                    : cols > 16 ? (1u << (cols - 16)) - 1u
                                                : 0u)) {}
};

// Rows [first, last) of A (fp32) into `out` as bf16, kp columns per row, zero beyond k.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) inline void round_rows(const float* a, std::size_t lda,
                                                                                       std::size_t k, std::size_t kp,
                                                                                       std::size_t first, std::size_t last,
                                                                                       std::uint16_t* out) {
  for (std::size_t r = first; r < last; ++r) {
    const float* src = a + r * lda;
    std::uint16_t* dst = out + r * kp;
    std::size_t j = 0;
    for (; j + 32 <= k; j += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + j + 16), _mm512_loadu_ps(src + j));
      _mm512_storeu_si512(dst + j, (__m512i)v);
    }
    for (; j < k; ++j) dst[j] = to_bf16(src[j]);
    for (; j < kp; ++j) dst[j] = 0;
  }
}

// Columns [32 cb, 32 cb + 32) of C for all rows, from the rounded A (mp × kp) and B.
__attribute__((target("amx-tile,amx-bf16,avx512f"))) inline void column_block(std::size_t cb, std::size_t m, std::size_t mp,
                                                                              const std::uint16_t* a16, const amx_matrix& b,
                                                                              float alpha, float beta, float* c, std::size_t ldc,
                                                                              const float* bias) {
  configure_tiles();
  alignas(64) float block[32 * 32];
  const std::size_t kp = b.kp, a_stride = kp * sizeof(std::uint16_t);
  const std::uint16_t* b0 = b.values.get() + (2 * cb) * kp * 16;
  const std::uint16_t* b1 = b0 + kp * 16;
  const std::size_t col0 = 32 * cb, cols = std::min<std::size_t>(32, b.n - col0);
  const column_masks masks(cols);
  const __mmask16 mask0 = masks.low, mask1 = masks.high;
  const __m512 scale = _mm512_set1_ps(alpha), keep = _mm512_set1_ps(beta);
  const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(mask0, bias + col0) : _mm512_setzero_ps();
  const __m512 bias1 = bias ? _mm512_maskz_loadu_ps(mask1, bias + col0 + 16) : _mm512_setzero_ps();
  for (std::size_t row0 = 0; row0 < mp; row0 += 32) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    const std::uint16_t* a0 = a16 + row0 * kp;
    for (std::size_t kc = 0; kc < kp; kc += 32) {
      _tile_loadd(4, a0 + kc, a_stride);
      _tile_loadd(5, a0 + 16 * kp + kc, a_stride);
      _tile_loadd(6, b0 + kc * 16, 64);
      _tile_loadd(7, b1 + kc * 16, 64);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
    store_block(block);
    // C = alpha · block + bias (+ beta · C), two masked vectors a row: with K in the
    // hundreds this epilogue costs as much as the tile products, so it must not be scalar.
    const std::size_t rows = std::min<std::size_t>(32, m - row0);
    for (std::size_t r = 0; r < rows; ++r) {
      float* out = c + (row0 + r) * ldc + col0;
      __m512 v0 = _mm512_fmadd_ps(scale, _mm512_load_ps(block + r * 32), bias0);
      __m512 v1 = _mm512_fmadd_ps(scale, _mm512_load_ps(block + r * 32 + 16), bias1);
      if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(keep, _mm512_maskz_loadu_ps(mask0, out), v0);
        v1 = _mm512_fmadd_ps(keep, _mm512_maskz_loadu_ps(mask1, out + 16), v1);
      }
      _mm512_mask_storeu_ps(out, mask0, v0);
      _mm512_mask_storeu_ps(out + 16, mask1, v1);
    }
  }
  _tile_release();
}

}  // namespace detail

// gemm with op(B) = b; beta = 0 never reads C. Needs amx_bf16_usable().
inline void gemm_amx(std::size_t m, float alpha, const float* a, std::size_t lda, const amx_matrix& b, float beta, float* c,
                     std::size_t ldc, const float* bias, int threads) {
  if (m == 0 || b.n == 0) return;
  const std::size_t mp = round_up(m, 32), kp = b.kp;
  aligned_array<std::uint16_t> a16(mp * kp);
  const std::size_t strips = (m + 63) / 64;
  parallel_for(0, static_cast<std::ptrdiff_t>(strips), threads, [&](std::ptrdiff_t s) {
    const std::size_t first = static_cast<std::size_t>(s) * 64;
    detail::round_rows(a, lda, b.k, kp, first, std::min(m, first + 64), a16.get());
  });
  std::fill(a16.get() + m * kp, a16.get() + mp * kp, std::uint16_t{0});
  parallel_for(0, static_cast<std::ptrdiff_t>((b.n + 31) / 32), threads, [&](std::ptrdiff_t cb) {
    detail::column_block(static_cast<std::size_t>(cb), m, mp, a16.get(), b, alpha, beta, c, ldc, bias);
  });
}

#else

inline bool amx_bf16_usable() { return false; }

#endif

}  // namespace shopml::simd::bf16
