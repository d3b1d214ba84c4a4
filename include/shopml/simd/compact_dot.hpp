#pragma once
// Scoring compact vectors: a float32 query against rows stored as IEEE float16 or int8,
// each element widened to float32 and the products summed in float32 (the exact and the
// approximate embedding indexes' f16 and i8 storage). int8 rows carry a scale that the
// caller applies to the sum, once per row.
//
// The AVX2 road uses VPMOVSXBD / VPMOVZXWD and integer shifts (no F16C, which -mavx2
// does not imply): a finite half h widens to bits((h & 0x7fff) << 13) · 2^112 with its
// sign put back, exact for normal and subnormal halves alike. Stored halves are finite
// (the indexes refuse values that overflow float16), so infinities need no case. Other
// ISAs take the portable loop, which computes the same products.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "shopml/simd/arch.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace shopml::simd {

// sum_i q[i] * x[i] for x int8.
struct dot_i8_kernel {
  template <class Arch>
  float operator()(Arch, const float* q, const std::int8_t* x, std::size_t n) const;
};

// sum_i q[i] * half_to_float(x[i]) for x IEEE float16 bits (finite).
struct dot_f16_kernel {
  template <class Arch>
  float operator()(Arch, const float* q, const std::uint16_t* x, std::size_t n) const;
};

// out[i] = x[i] (int8 widened), and out[i] = half_to_float(x[i]) (finite halves).
struct widen_i8_kernel {
  template <class Arch>
  void operator()(Arch, const std::int8_t* x, std::size_t n, float* out) const;
};
struct widen_f16_kernel {
  template <class Arch>
  void operator()(Arch, const std::uint16_t* x, std::size_t n, float* out) const;
};

namespace compact_detail {

#if defined(__AVX2__) && defined(__FMA__)
// The dispatched AVX2 and AVX-512 instances (compiled with -mavx2 -mfma or more).
template <class Arch>
constexpr bool avx2_road = std::is_base_of_v<xsimd::avx2, Arch> || std::is_base_of_v<xsimd::avx512f, Arch>;
#endif

// A finite half to float, exactly (the portable road and the tails).
template <class Arch>
float half_to_float(Arch, std::uint16_t h) {
  const float magnitude = std::bit_cast<float>(static_cast<std::uint32_t>(h & 0x7fffu) << 13) * 0x1p112f;
  return (h & 0x8000u) ? -magnitude : magnitude;
}

#if defined(__AVX2__) && defined(__FMA__)
template <class Arch>
__m256 widen8_i8(Arch, const std::int8_t* x) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x))));
}
template <class Arch>
__m256 widen8_f16(Arch, const std::uint16_t* x) {
  const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
  const __m256i magnitude = _mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x7fff)), 13);
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x8000)), 16);
  const __m256 value = _mm256_mul_ps(_mm256_castsi256_ps(magnitude), _mm256_set1_ps(0x1p112f));
  return _mm256_or_ps(value, _mm256_castsi256_ps(sign));
}
template <class Arch>
float hsum8(Arch, __m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}
// Four independent accumulators over 32 elements a step, then 8 at a time, then scalar.
template <class Arch, class T, class Widen>
float dot_avx2(Arch arch, const float* q, const T* x, std::size_t n, Widen widen8) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), widen8(arch, x + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), widen8(arch, x + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), widen8(arch, x + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), widen8(arch, x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), widen8(arch, x + i), a0);
  float sum = hsum8(arch, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) {
    if constexpr (std::is_same_v<T, std::int8_t>)
      sum += q[i] * static_cast<float>(x[i]);
    else
      sum += q[i] * half_to_float(arch, x[i]);
  }
  return sum;
}
#endif

}  // namespace compact_detail

template <class Arch>
float dot_i8_kernel::operator()(Arch arch, const float* q, const std::int8_t* x, std::size_t n) const {
#if defined(__AVX2__) && defined(__FMA__)
  if constexpr (compact_detail::avx2_road<Arch>)
    return compact_detail::dot_avx2(arch, q, x, n, [](Arch a, const std::int8_t* p) { return compact_detail::widen8_i8(a, p); });
#endif
  (void)arch;
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += q[i] * static_cast<float>(x[i]);
  return sum;
}

template <class Arch>
float dot_f16_kernel::operator()(Arch arch, const float* q, const std::uint16_t* x, std::size_t n) const {
#if defined(__AVX2__) && defined(__FMA__)
  if constexpr (compact_detail::avx2_road<Arch>)
    return compact_detail::dot_avx2(arch, q, x, n,
                                    [](Arch a, const std::uint16_t* p) { return compact_detail::widen8_f16(a, p); });
#endif
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += q[i] * compact_detail::half_to_float(arch, x[i]);
  return sum;
}

template <class Arch>
void widen_i8_kernel::operator()(Arch arch, const std::int8_t* x, std::size_t n, float* out) const {
  std::size_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
  if constexpr (compact_detail::avx2_road<Arch>)
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, compact_detail::widen8_i8(arch, x + i));
#endif
  (void)arch;
  for (; i < n; ++i) out[i] = static_cast<float>(x[i]);
}

template <class Arch>
void widen_f16_kernel::operator()(Arch arch, const std::uint16_t* x, std::size_t n, float* out) const {
  std::size_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
  if constexpr (compact_detail::avx2_road<Arch>)
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, compact_detail::widen8_f16(arch, x + i));
#endif
  for (; i < n; ++i) out[i] = compact_detail::half_to_float(arch, x[i]);
}

}  // namespace shopml::simd
