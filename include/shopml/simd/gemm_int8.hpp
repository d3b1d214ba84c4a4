#pragma once
// INT8 GEMM for dynamically quantised dense layers (the encoder at precision int8), with the
// zero point handled as ONNX Runtime's dynamic quantisation does (MatMulInteger of a u8
// activation with its zero point and an s8 weight), per row and per output channel:
//  * weights, once: per output channel c, symmetric s8, s_w[c] = max_k |w[c][k]| / 127,
//    w_q = round(w / s_w[c]) (half to even);
//  * activations, per call and row r: asymmetric u8 over [min(0, min a_r), max(0, max a_r)]
//    (DynamicQuantizeLinear's range), s_a[r] = (max − min) / 255, z_a[r] = round(−min / s_a[r]),
//    a_q = clamp(round(a / s_a[r]) + z_a[r], 0, 255); a row of zeros gets s_a = 1, z_a = 0;
//  * C[r][c] = alpha · s_a[r] · s_w[c] · (Σ_k a_q·w_q − z_a[r] · Σ_k w_q[c]) + bias[c] (+ beta · C),
//    the bracket an exact integer.
//
// Three roads, fastest first (best_road() picks the fastest this CPU allows):
//  * amx: AMX-INT8 tiles (TDPBUSD, u8 × s8 → int32) where the CPU and Linux allow them;
//  * avx2: VPMADDUBSW (u8 × s8, adjacent pairs summed in 16 bits) then VPMADDWD into int32
//    lanes, on any x86-64 with AVX2 (AVX-512 machines without AMX too). A pair of u8 up to 255
//    times s8 up to ±127 can pass 32767, where VPMADDUBSW saturates (ONNX Runtime accepts
//    that on AVX2): here the row is stored shifted, s = a_q − 128, and multiplied as |s| ≤ 128
//    (unsigned) by sign(s)·w_q (|·| ≤ 127), so a pair stays within ±32512 and every sum is
//    exact; Σ a_q·w_q = Σ s·w_q + 128 · Σ w_q;
//  * fp32: the fp32 GEMM on the integer values (a_q − z_a) and w_q, exact while the sums stay
//    below 2^24 (a few ulps of them beyond).
// The amx and avx2 roads give the same bits (the same integers, the same fp32 epilogue).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "shopml/parallel.hpp"
#include "shopml/simd/gemm_bf16.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SHOPML_INT8_AVX2 1
#endif

namespace shopml::simd::int8 {

// The per-channel weight quantisation of op(B) (k × n): w_q (k × n, row-major), scales, column sums.
struct quantized_weights {
  std::size_t k = 0, n = 0;
  std::vector<std::int8_t> values;
  std::vector<float> scales;
  std::vector<std::int32_t> column_sums;
};

inline quantized_weights quantize_weights(bool trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb) {
  quantized_weights q;
  q.k = k;
  q.n = n;
  q.values.resize(k * n);
  q.scales.resize(n);
  q.column_sums.assign(n, 0);
  const auto at = [&](std::size_t kk, std::size_t col) { return trans_b ? b[col * ldb + kk] : b[kk * ldb + col]; };
  for (std::size_t col = 0; col < n; ++col) {
    float largest = 0.0f;
    for (std::size_t kk = 0; kk < k; ++kk) largest = std::max(largest, std::abs(at(kk, col)));
    const float scale = largest > 0.0f ? largest / 127.0f : 1.0f;
    q.scales[col] = scale;
    for (std::size_t kk = 0; kk < k; ++kk) {
      const auto v = static_cast<std::int8_t>(std::clamp(std::nearbyint(at(kk, col) / scale), -127.0f, 127.0f));
      q.values[kk * n + col] = v;
      q.column_sums[col] += v;
    }
  }
  return q;
}

// One row of activations as u8 with its scale and zero point (DynamicQuantizeLinear per row).
// Every road derives it with `over` and quantises with `apply` (or the same operations in
// SIMD lanes), so all produce the same bytes.
struct row_quantization {
  float scale = 1.0f;
  std::int32_t zero_point = 0;

  // The quantisation of a row whose range, 0 included, is [lo, hi].
  static row_quantization over(float lo, float hi) {
    row_quantization q;
    if (hi > lo) {
      q.scale = (hi - lo) / 255.0f;
      q.zero_point = static_cast<std::int32_t>(std::clamp(std::nearbyint(-lo / q.scale), 0.0f, 255.0f));
    }
    return q;
  }
  // a_q of one value, 0..255.
  std::uint8_t apply(float a) const {
    return static_cast<std::uint8_t>(std::clamp(std::nearbyint(a / scale) + static_cast<float>(zero_point), 0.0f, 255.0f));
  }
};

inline row_quantization quantize_row(const float* a, std::size_t k, std::uint8_t* out) {
  float lo = 0.0f, hi = 0.0f;
  for (std::size_t j = 0; j < k; ++j) lo = std::min(lo, a[j]), hi = std::max(hi, a[j]);
  const auto q = row_quantization::over(lo, hi);
  for (std::size_t j = 0; j < k; ++j) out[j] = q.apply(a[j]);
  return q;
}

// w_q in blocks of 16 columns with k in quads, the layout AMX-INT8 tiles and the AVX2 kernel
// both read: k padded to kp (a multiple of 64), an even number of blocks; block j holds kp/4
// rows of 16 column quads (w(4p..4p+3, c)), 64 bytes a row, zeros in the padding.
struct blocked_matrix {
  quantized_weights weights;  // scales and column sums (values kept for nothing else: cleared)
  std::size_t kp = 0, blocks = 0;
  bf16::aligned_array<std::int8_t> tiles;
};

inline blocked_matrix pack_blocked(quantized_weights q) {
  blocked_matrix p;
  p.kp = bf16::round_up(q.k, 64);
  p.blocks = bf16::round_up((q.n + 15) / 16, 2);
  const std::size_t size = p.blocks * p.kp * 16;
  p.tiles = bf16::aligned_array<std::int8_t>(size);
  std::fill_n(p.tiles.get(), size, std::int8_t{0});
  for (std::size_t kk = 0; kk < q.k; ++kk)
    for (std::size_t col = 0; col < q.n; ++col)
      p.tiles.get()[(col / 16) * p.kp * 16 + (kk / 4) * 64 + (col % 16) * 4 + kk % 4] = q.values[kk * q.n + col];
  q.values.clear();
  q.values.shrink_to_fit();
  p.weights = std::move(q);
  return p;
}

enum class road { amx, avx2, fp32 };

inline const char* road_name(road r) { return r == road::amx ? "amx_int8" : r == road::avx2 ? "avx2_int8" : "fp32"; }

#if defined(SHOPML_AMX_BF16)

// AMX-INT8 and AMX-TILE on the CPU, and the tile state granted (as amx_bf16_usable).
inline bool amx_int8_usable() {
  static const bool usable = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool amx = (d >> 25 & 1u) && (d >> 24 & 1u);                       // AMX-INT8, AMX-TILE
    const bool avx512 = (b >> 16 & 1u) && (b >> 30 & 1u) && (b >> 31 & 1u);  // F, BW, VL
    constexpr long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    return amx && avx512 && syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
  }();
  return usable;
}

namespace detail {

// quantize_row, 16 lanes at a time (the same divisions and roundings, so the same bytes):
// scalar, this pass cost as much as the tile products.
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline row_quantization quantize_row_avx512(const float* a, std::size_t k,
                                                                                                 std::uint8_t* out) {
  __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
  std::size_t j = 0;
  for (; j + 16 <= k; j += 16) {
    const __m512 v = _mm512_loadu_ps(a + j);
    lo = _mm512_min_ps(lo, v);
    hi = _mm512_max_ps(hi, v);
  }
  if (j < k) {
    const auto tail = static_cast<__mmask16>((1u << (k - j)) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(tail, a + j);  // zeros never widen a range that holds 0
    lo = _mm512_min_ps(lo, v);
    hi = _mm512_max_ps(hi, v);
  }
  const auto q = row_quantization::over(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi));
  const __m512 scale = _mm512_set1_ps(q.scale), zero_point = _mm512_set1_ps(static_cast<float>(q.zero_point));
  const __m512 zero = _mm512_setzero_ps(), top = _mm512_set1_ps(255.0f);
  for (j = 0; j < k; j += 16) {
    const auto lanes = static_cast<__mmask16>(k - j >= 16 ? 0xffffu : (1u << (k - j)) - 1u);
    const __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(lanes, a + j), scale);
    const __m512 rounded = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 clamped = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(rounded, zero_point), zero), top);
    _mm_mask_storeu_epi8(out + j, lanes, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(clamped)));
  }
  return q;
}

// Columns [32 cb, 32 cb + 32) of C for all rows, from the quantised A (mp × kp u8).
__attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl"))) inline void column_block(
    std::size_t cb, std::size_t m, std::size_t mp, const std::uint8_t* aq, const row_quantization* rows_q,
    const blocked_matrix& b, float alpha, float beta, float* c, std::size_t ldc, const float* bias) {
  bf16::detail::configure_tiles();
  alignas(64) std::int32_t block[32 * 32];
  const std::size_t kp = b.kp;
  const std::int8_t* b0 = b.tiles.get() + (2 * cb) * kp * 16;
  const std::int8_t* b1 = b0 + kp * 16;
  const auto& w = b.weights;
  const std::size_t col0 = 32 * cb, cols = std::min<std::size_t>(32, w.n - col0);
  const bf16::detail::column_masks masks(cols);
  const __mmask16 mask0 = masks.low, mask1 = masks.high;
  const __m512 scale0 = _mm512_mul_ps(_mm512_set1_ps(alpha), _mm512_maskz_loadu_ps(mask0, w.scales.data() + col0));
  const __m512 scale1 = _mm512_mul_ps(_mm512_set1_ps(alpha), _mm512_maskz_loadu_ps(mask1, w.scales.data() + col0 + 16));
  const __m512i sums0 = _mm512_maskz_loadu_epi32(mask0, w.column_sums.data() + col0);
  const __m512i sums1 = _mm512_maskz_loadu_epi32(mask1, w.column_sums.data() + col0 + 16);
  const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(mask0, bias + col0) : _mm512_setzero_ps();
  const __m512 bias1 = bias ? _mm512_maskz_loadu_ps(mask1, bias + col0 + 16) : _mm512_setzero_ps();
  const __m512 keep = _mm512_set1_ps(beta);
  for (std::size_t row0 = 0; row0 < mp; row0 += 32) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    const std::uint8_t* a0 = aq + row0 * kp;
    for (std::size_t kc = 0; kc < kp; kc += 64) {
      _tile_loadd(4, a0 + kc, kp);
      _tile_loadd(5, a0 + 16 * kp + kc, kp);
      _tile_loadd(6, b0 + kc * 16, 64);
      _tile_loadd(7, b1 + kc * 16, 64);
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    }
    bf16::detail::store_block(block);
    const std::size_t rows = std::min<std::size_t>(32, m - row0);
    for (std::size_t r = 0; r < rows; ++r) {
      const auto& q = rows_q[row0 + r];
      const __m512i zero_point = _mm512_set1_epi32(q.zero_point);
      const __m512 row_scale = _mm512_set1_ps(q.scale);
      const __m512i exact0 = _mm512_sub_epi32(_mm512_load_si512(block + r * 32), _mm512_mullo_epi32(zero_point, sums0));
      const __m512i exact1 = _mm512_sub_epi32(_mm512_load_si512(block + r * 32 + 16), _mm512_mullo_epi32(zero_point, sums1));
      float* out = c + (row0 + r) * ldc + col0;
      __m512 v0 = _mm512_fmadd_ps(_mm512_mul_ps(row_scale, scale0), _mm512_cvtepi32_ps(exact0), bias0);
      __m512 v1 = _mm512_fmadd_ps(_mm512_mul_ps(row_scale, scale1), _mm512_cvtepi32_ps(exact1), bias1);
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

// gemm with op(B) = b; beta = 0 never reads C. Needs amx_int8_usable().
inline void gemm_amx(std::size_t m, float alpha, const float* a, std::size_t lda, const blocked_matrix& b, float beta, float* c,
                     std::size_t ldc, const float* bias, int threads) {
  if (m == 0 || b.weights.n == 0) return;
  const std::size_t mp = bf16::round_up(m, 32), kp = b.kp, k = b.weights.k;
  std::vector<std::uint8_t> aq(mp * kp, 0);
  std::vector<row_quantization> rows_q(m);
  parallel_for(0, static_cast<std::ptrdiff_t>(m), threads, [&](std::ptrdiff_t r) {
    const auto row = static_cast<std::size_t>(r);
    rows_q[row] = detail::quantize_row_avx512(a + row * lda, k, aq.data() + row * kp);
  });
  parallel_for(0, static_cast<std::ptrdiff_t>((b.weights.n + 31) / 32), threads, [&](std::ptrdiff_t cb) {
    detail::column_block(static_cast<std::size_t>(cb), m, mp, aq.data(), rows_q.data(), b, alpha, beta, c, ldc, bias);
  });
}

#else

inline bool amx_int8_usable() { return false; }

#endif

#if defined(SHOPML_INT8_AVX2)

inline bool avx2_int8_usable() {
  static const bool usable = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return usable;
}

namespace detail {

// quantize_row with AVX2 (the same divisions and roundings, so the same bytes), storing for
// the AVX2 kernel s = a_q − 128 (a_q ^ 0x80) in out[0, kp) and |s| in out[kp, 2 kp) (the
// kernel would otherwise take |s| once per row and quad of k: 10 % of its instructions),
// zeros from k to kp in both.
__attribute__((target("avx2,fma"))) inline row_quantization quantize_row_shifted_avx2(const float* a, std::size_t k,
                                                                                      std::size_t kp, std::int8_t* out) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  std::size_t j = 0;
  for (; j + 8 <= k; j += 8) {
    const __m256 v = _mm256_loadu_ps(a + j);
    lo = _mm256_min_ps(v, lo);  // (v, lo): a NaN v keeps lo, as std::min(lo, v) does
    hi = _mm256_max_ps(v, hi);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, lo);
  float min = *std::min_element(lanes, lanes + 8);
  _mm256_store_ps(lanes, hi);
  float max = *std::max_element(lanes, lanes + 8);
  for (std::size_t t = j; t < k; ++t) min = std::min(min, a[t]), max = std::max(max, a[t]);
  const auto q = row_quantization::over(min, max);
  const __m256 scale = _mm256_set1_ps(q.scale), zero_point = _mm256_set1_ps(static_cast<float>(q.zero_point));
  const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
  const __m128i shift = _mm_set1_epi8(static_cast<char>(0x80));
  for (j = 0; j + 8 <= k; j += 8) {
    const __m256 v = _mm256_div_ps(_mm256_loadu_ps(a + j), scale);
    const __m256 rounded = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256i q32 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_add_ps(rounded, zero_point), zero), top));
    const __m128i q16 = _mm_packus_epi32(_mm256_castsi256_si128(q32), _mm256_extracti128_si256(q32, 1));
    const __m128i shifted = _mm_xor_si128(_mm_packus_epi16(q16, q16), shift);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + j), shifted);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + kp + j), _mm_abs_epi8(shifted));
  }
  for (; j < k; ++j) {
    const int shifted = static_cast<int>(q.apply(a[j])) - 128;
    out[j] = static_cast<std::int8_t>(shifted);
    out[kp + j] = static_cast<std::int8_t>(std::abs(shifted));  // |−128| = 128: the byte 0x80, read unsigned
  }
  std::fill(out + k, out + kp, std::int8_t{0});
  std::fill(out + kp + k, out + 2 * kp, std::int8_t{0});
  return q;
}

// Rows [row0, row0 + Rows) (Rows ≤ 3) × the 16 columns of block `blk`: Σ s·w_q in two int32 vectors a
// row, then the epilogue of the AMX road (the same fp32 operations in the same order).
template <std::size_t Rows>
__attribute__((target("avx2,fma"))) inline void tile(std::size_t row0, std::size_t blk, const std::int8_t* s,
                                                     const row_quantization* rows_q, const blocked_matrix& b, float alpha,
                                                     float beta, float* c, std::size_t ldc, const float* bias) {
  const std::size_t kp = b.kp;
  const std::int8_t* panel = b.tiles.get() + blk * kp * 16;
  const std::int8_t* a = s + row0 * 2 * kp;
  const __m256i ones = _mm256_set1_epi16(1);
  // Every loop over the rows is unrolled, so that the accumulators live in registers only
  // (a loop left rolled makes GCC keep the array in memory too: a store per row and step).
  __m256i acc[Rows][2];
#pragma GCC unroll 3
  for (std::size_t r = 0; r < Rows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (std::size_t kq = 0; kq < kp; kq += 4) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + kq * 16));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + kq * 16 + 32));
#pragma GCC unroll 3
    for (std::size_t r = 0; r < Rows; ++r) {
      std::int32_t quad, magnitudes;
      std::memcpy(&quad, a + r * 2 * kp + kq, 4);
      std::memcpy(&magnitudes, a + r * 2 * kp + kp + kq, 4);
      const __m256i sv = _mm256_set1_epi32(quad), magnitude = _mm256_set1_epi32(magnitudes);
      const __m256i p0 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(b0, sv));
      const __m256i p1 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(b1, sv));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(p0, ones));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(p1, ones));
    }
  }
  const auto& w = b.weights;
  const std::size_t col0 = 16 * blk, cols = std::min<std::size_t>(16, w.n - col0);
  alignas(32) std::int32_t lane_masks[16];
  for (std::size_t j = 0; j < 16; ++j) lane_masks[j] = j < cols ? -1 : 0;
  const __m256i mask0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lane_masks));
  const __m256i mask1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lane_masks + 8));
  const __m256 scale0 = _mm256_mul_ps(_mm256_set1_ps(alpha), _mm256_maskload_ps(w.scales.data() + col0, mask0));
  const __m256 scale1 = _mm256_mul_ps(_mm256_set1_ps(alpha), _mm256_maskload_ps(w.scales.data() + col0 + 8, mask1));
  const __m256i sums0 = _mm256_maskload_epi32(w.column_sums.data() + col0, mask0);
  const __m256i sums1 = _mm256_maskload_epi32(w.column_sums.data() + col0 + 8, mask1);
  const __m256 bias0 = bias ? _mm256_maskload_ps(bias + col0, mask0) : _mm256_setzero_ps();
  const __m256 bias1 = bias ? _mm256_maskload_ps(bias + col0 + 8, mask1) : _mm256_setzero_ps();
  const __m256 keep = _mm256_set1_ps(beta);
#pragma GCC unroll 3
  for (std::size_t r = 0; r < Rows; ++r) {
    const auto& q = rows_q[row0 + r];
    const __m256i shift = _mm256_set1_epi32(128 - q.zero_point);  // Σ (a_q − z)·w = Σ s·w + (128 − z)·Σ w
    const __m256i exact0 = _mm256_add_epi32(acc[r][0], _mm256_mullo_epi32(shift, sums0));
    const __m256i exact1 = _mm256_add_epi32(acc[r][1], _mm256_mullo_epi32(shift, sums1));
    const __m256 row_scale = _mm256_set1_ps(q.scale);
    float* out = c + (row0 + r) * ldc + col0;
    __m256 v0 = _mm256_fmadd_ps(_mm256_mul_ps(row_scale, scale0), _mm256_cvtepi32_ps(exact0), bias0);
    __m256 v1 = _mm256_fmadd_ps(_mm256_mul_ps(row_scale, scale1), _mm256_cvtepi32_ps(exact1), bias1);
    if (beta != 0.0f) {
      v0 = _mm256_fmadd_ps(keep, _mm256_maskload_ps(out, mask0), v0);
      v1 = _mm256_fmadd_ps(keep, _mm256_maskload_ps(out + 8, mask1), v1);
    }
    _mm256_maskstore_ps(out, mask0, v0);
    _mm256_maskstore_ps(out + 8, mask1, v1);
  }
}

}  // namespace detail

// gemm with op(B) = b; beta = 0 never reads C. Needs avx2_int8_usable().
//
// Work is cut into rows × columns tasks of 63 × 64: a task's rows of s and |s| (at most 194 KB
// for K = 1536) and its four column blocks (96 KB) stay in L2 while its tiles sweep them. Tiles
// are 3 rows × 16 columns: with 4 rows the sixteen ymm registers do not hold the eight
// accumulators, both B vectors and the operands, and GCC's spills cost 10 % of the product.
inline void gemm_avx2(std::size_t m, float alpha, const float* a, std::size_t lda, const blocked_matrix& b, float beta, float* c,
                      std::size_t ldc, const float* bias, int threads) {
  const auto& w = b.weights;
  if (m == 0 || w.n == 0) return;
  const std::size_t kp = b.kp;
  const std::unique_ptr<std::int8_t[]> shifted(new std::int8_t[m * 2 * kp]);  // every byte written below
  const std::int8_t* s = shifted.get();
  std::vector<row_quantization> rows_q(m);
  parallel_for(0, static_cast<std::ptrdiff_t>(m), threads, [&](std::ptrdiff_t r) {
    const auto row = static_cast<std::size_t>(r);
    rows_q[row] = detail::quantize_row_shifted_avx2(a + row * lda, w.k, kp, shifted.get() + row * 2 * kp);
  });
  constexpr std::size_t task_rows = 63, task_blocks = 4;
  const std::size_t blocks = (w.n + 15) / 16;
  const std::size_t row_tasks = (m + task_rows - 1) / task_rows, column_tasks = (blocks + task_blocks - 1) / task_blocks;
  parallel_for(0, static_cast<std::ptrdiff_t>(row_tasks * column_tasks), threads, [&](std::ptrdiff_t t) {
    const std::size_t first_row = static_cast<std::size_t>(t) / column_tasks * task_rows;
    const std::size_t first_block = static_cast<std::size_t>(t) % column_tasks * task_blocks;
    const std::size_t last_row = std::min(m, first_row + task_rows);
    for (std::size_t blk = first_block; blk < std::min(blocks, first_block + task_blocks); ++blk) {
      std::size_t row = first_row;
      for (; row + 3 <= last_row; row += 3) detail::tile<3>(row, blk, s, rows_q.data(), b, alpha, beta, c, ldc, bias);
      switch (last_row - row) {
        case 2:
          detail::tile<2>(row, blk, s, rows_q.data(), b, alpha, beta, c, ldc, bias);
          break;
        case 1:
          detail::tile<1>(row, blk, s, rows_q.data(), b, alpha, beta, c, ldc, bias);
          break;
        default:
          break;
      }
    }
  });
}

#else

inline bool avx2_int8_usable() { return false; }

#endif

inline bool usable(road r) { return r == road::amx ? amx_int8_usable() : r == road::avx2 ? avx2_int8_usable() : true; }

inline road best_road() { return amx_int8_usable() ? road::amx : avx2_int8_usable() ? road::avx2 : road::fp32; }

}  // namespace shopml::simd::int8
