#pragma once
// Single-precision GEMM, C = alpha * A·op(B) + beta * C + bias, row-major.
//
// The classic blocked design (Goto/BLIS): for each block of KC rows of op(B),
// op(B) is packed into panels of NR columns and A into panels of MR rows, both
// laid out in the order the micro-kernel reads them; the micro-kernel keeps an
// MR×NR tile of C in registers (AVX-512: 12 rows × 32 columns = 24 zmm
// accumulators; AVX2: 6 × 16 = 12 ymm) and does one broadcast of A and one FMA
// per register per step of k. With many rows each thread owns a range of row
// blocks and packs what it needs; with few rows (one batch of tokens) A is packed
// whole and C is cut into column tasks that the threads take from a shared
// counter, each op(B) panel packed right before all the rows sweep it
// (parallel_blocked). Every element of C is accumulated in the same order
// whatever the thread count and split, so results do not depend on them.
// For few rows and a short-row B (no transpose), B is read in place; callers
// that multiply by the same matrix again and again pack it once
// (pack_b_kernel + gemm_packed_kernel).
//
// M = 1 is a matrix-vector product (memory bound): no packing, each thread
// streams its share of B once.
//
// gemm_at_kernel is the same product with A transposed, C = alpha * Aᵀ·B + beta *
// C for A stored k × m (the weight gradients of training): only the packing of A
// differs (a column of Aᵀ is then a contiguous run of a row of A), so blocked()
// and parallel_blocked() take a trans_a flag.

#include <atomic>
#include <cstddef>
#include <type_traits>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SHOPML_X86_TRANSPOSE 1
#endif

#include "shopml/parallel.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct gemm_kernel {
  template <class Arch>
  void operator()(Arch, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                  const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc, const float* bias, int threads) const;
};

// Packs op(B) (k × n) once for many products with gemm_packed_kernel, into
// `packed`, which holds packed_size(k, n) floats and is 64-byte aligned. Returns
// the name of the Arch, since the layout depends on it.
struct pack_b_kernel {
  template <class Arch>
  const char* operator()(Arch, bool trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb, float* packed) const;
};

// Floats a packed k × n matrix needs, for every Arch (panels of at most 32 columns).
constexpr std::size_t packed_size(std::size_t k, std::size_t n) { return k * ((n + 31) / 32 * 32); }

// gemm with op(B) pre-packed by pack_b_kernel for the same Arch.
struct gemm_packed_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                  const float* packed, float beta, float* c, std::size_t ldc, const float* bias, int threads) const;
};

struct gemm_batched_kernel {
  template <class Arch>
  void operator()(Arch, bool trans_b, std::size_t batch, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                  std::size_t lda, std::size_t stride_a, const float* b, std::size_t ldb, std::size_t stride_b, float beta,
                  float* c, std::size_t ldc, std::size_t stride_c, int threads) const;
};

// C[m×n] = alpha * Aᵀ·B + beta * C, A stored k × m (rows lda apart), B k × n.
struct gemm_at_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda, const float* b,
                  std::size_t ldb, float beta, float* c, std::size_t ldc, int threads) const;
};

// `batch` independent gemm_at, the i-th at A + i*stride_a, B + i*stride_b, C + i*stride_c.
struct gemm_at_batched_kernel {
  template <class Arch>
  void operator()(Arch, std::size_t batch, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                  std::size_t lda, std::size_t stride_a, const float* b, std::size_t ldb, std::size_t stride_b, float beta,
                  float* c, std::size_t ldc, std::size_t stride_c, int threads) const;
};

namespace gemm_detail {

// Register and cache blocking for one architecture.
template <class Arch>
struct shape {
  static constexpr std::size_t w = width<Arch>;
  static constexpr std::size_t nr = 2 * w;  // columns of the register tile
  static_assert(32 % nr == 0, "packed_size() assumes panels of at most 32 columns");
  static constexpr std::size_t mr = w >= 16 ? 12 : 6;  // rows of the register tile
  // Deep blocks: the micro-kernel streams a kc × nr panel of B and an mr × kc
  // panel of A from L2, and C is read and written once per kc (measured best on
  // Zen 4 for K ≤ 1536 against shallower L1-sized blocks).
  static constexpr std::size_t kc = 1536;           // depth of a packed block
  static constexpr std::size_t mc = mr * 4;         // rows of A per packed block (L2)
  static constexpr std::size_t nc = nr * 16;        // columns of op(B) per packed block (L3)
  static constexpr std::size_t direct_b_rows = 64;  // up to this M, a row-major B is not packed,
  static constexpr std::size_t direct_b_ld = 512;   // if its rows are at most this long
};

// Below this many multiply-adds a second thread costs more than it saves.
inline constexpr std::size_t parallel_min_work = std::size_t{1} << 20;

// (A template on Arch like everything the ISA objects compile, simd/arch.hpp.)
template <class Arch>
int threads_for(std::size_t work, int requested) {
  return work < parallel_min_work ? 1 : num_threads(requested);
}

// Writes one register tile: C = alpha * acc + c_scale * C + bias, where c_scale
// = 0 means C is not read (so NaNs in an uninitialised C do not leak in).
template <class Arch, std::size_t Rows>
void store_tile(const batch<Arch> (&acc)[Rows][2], float* c, std::size_t ldc, std::size_t cols, float alpha, float c_scale,
                const float* bias) {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  const b va(alpha), vs(c_scale);
  if (cols == 2 * w) {
    const b bias0 = bias ? b::load_unaligned(bias) : b(0.0f);
    const b bias1 = bias ? b::load_unaligned(bias + w) : b(0.0f);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r) {
      float* row = c + r * ldc;
      b v0 = xsimd::fma(va, acc[r][0], bias0), v1 = xsimd::fma(va, acc[r][1], bias1);
      if (c_scale != 0.0f) {
        v0 = xsimd::fma(vs, b::load_unaligned(row), v0);
        v1 = xsimd::fma(vs, b::load_unaligned(row + w), v1);
      }
      v0.store_unaligned(row);
      v1.store_unaligned(row + w);
    }
    return;
  }
  const std::size_t n0 = cols < w ? cols : w, n1 = cols - n0;
  const b bias0 = bias ? load_partial<Arch>(bias, n0, 0.0f) : b(0.0f);
  const b bias1 = bias && n1 ? load_partial<Arch>(bias + w, n1, 0.0f) : b(0.0f);
  for (std::size_t r = 0; r < Rows; ++r) {
    float* row = c + r * ldc;
    b v0 = xsimd::fma(va, acc[r][0], bias0), v1 = xsimd::fma(va, acc[r][1], bias1);
    if (c_scale != 0.0f) {
      v0 = xsimd::fma(vs, load_partial<Arch>(row, n0, 0.0f), v0);
      if (n1) v1 = xsimd::fma(vs, load_partial<Arch>(row + w, n1, 0.0f), v1);
    }
    store_partial<Arch>(row, n0, v0);
    if (n1) store_partial<Arch>(row + w, n1, v1);
  }
}

// Rows×NR tile of C from a packed A panel (kc × mr, row index fastest) and a
// B panel of kc rows of nr floats, b_stride apart (nr when packed, ldb when read
// in place from a row-major B).
template <class Arch, std::size_t Rows>
void micro_kernel(std::size_t kc, const float* ap, const float* bp, std::size_t b_stride, float* c, std::size_t ldc,
                  std::size_t cols, float alpha, float c_scale, const float* bias) {
  using b = batch<Arch>;
  using s = shape<Arch>;
  b acc[Rows][2];
#pragma GCC unroll 16
  for (std::size_t r = 0; r < Rows; ++r) acc[r][0] = acc[r][1] = b(0.0f);
  for (std::size_t p = 0; p < kc; ++p) {
    const b b0 = b::load_unaligned(bp), b1 = b::load_unaligned(bp + s::w);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r) {
      const b ar(ap[r]);
      acc[r][0] = xsimd::fma(ar, b0, acc[r][0]);
      acc[r][1] = xsimd::fma(ar, b1, acc[r][1]);
    }
    ap += s::mr;
    bp += b_stride;
  }
  store_tile<Arch, Rows>(acc, c, ldc, cols, alpha, c_scale, bias);
}

// Calls micro_kernel<Rows> with Rows = rows (1..mr) chosen at run time.
template <class Arch, std::size_t Rows = shape<Arch>::mr>
void micro_kernel_rows(std::size_t rows, std::size_t kc, const float* ap, const float* bp, std::size_t b_stride, float* c,
                       std::size_t ldc, std::size_t cols, float alpha, float c_scale, const float* bias) {
  if constexpr (Rows > 1) {
    if (rows < Rows) return micro_kernel_rows<Arch, Rows - 1>(rows, kc, ap, bp, b_stride, c, ldc, cols, alpha, c_scale, bias);
  }
  micro_kernel<Arch, Rows>(kc, ap, bp, b_stride, c, ldc, cols, alpha, c_scale, bias);
}

// Packs rows [0, rows) × depth [0, kc) of A into one panel: ap[p * mr + r].
template <class Arch>
void pack_a(const float* a, std::size_t lda, std::size_t rows, std::size_t kc, float* ap) {
  constexpr std::size_t mr = shape<Arch>::mr;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t p = 0; p < kc; ++p) ap[p * mr + r] = a[r * lda + p];
}

// The same for op(A) = Aᵀ, A stored k × m: rows [0, rows) of op(A) are columns
// of A, a contiguous run of each of its rows. All the panels of a block of rows
// (panel i at ap + i * kc, as blocked() lays them out) are packed in one sweep
// down A, so each row of A is visited once per block rather than once per panel.
template <class Arch>
void pack_a_transposed(const float* a, std::size_t lda, std::size_t rows, std::size_t kc, float* ap) {
  constexpr std::size_t mr = shape<Arch>::mr;
  const std::size_t whole = rows / mr * mr;
  for (std::size_t p = 0; p < kc; ++p) {
    const float* src = a + p * lda;
    for (std::size_t i = 0; i < whole; i += mr)
#pragma GCC unroll 16
      for (std::size_t r = 0; r < mr; ++r) ap[i * kc + p * mr + r] = src[i + r];
    for (std::size_t r = whole; r < rows; ++r) ap[whole * kc + p * mr + r - whole] = src[r];
  }
}

// dst[p * ld_dst + j] = src[j * ld_src + p] for a w × w tile. Shuffle networks
// for AVX-512 and AVX (xsimd 8 has no transpose, and its zip_lo/zip_hi interleave
// within 128-bit lanes on some ISAs and across the register on others); the
// branch not taken is never instantiated, so plain builds compile no AVX code.
template <class Arch>
void transpose_tile(const float* src, std::size_t ld_src, float* dst, std::size_t ld_dst) {
  constexpr std::size_t w = width<Arch>;
#if defined(SHOPML_X86_TRANSPOSE)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch> && w == 16) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ld_src);
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
      r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
      r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
      r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    for (int h = 0; h < 16; h += 8)
      for (int i = 0; i < 4; ++i) {
        t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
        t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
      }
    for (int i = 0; i < 8; ++i) {
      r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
    for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ld_dst, r[i]);
    return;
  } else if constexpr (std::is_base_of_v<xsimd::avx, Arch> && w == 8) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld_src);
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; ++i) {
      _mm256_storeu_ps(dst + i * ld_dst, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
      _mm256_storeu_ps(dst + (i + 4) * ld_dst, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
    return;
  }
#endif
  for (std::size_t j = 0; j < w; ++j)
    for (std::size_t p = 0; p < w; ++p) dst[p * ld_dst + j] = src[j * ld_src + p];
}

// Packs columns [0, cols) × depth [0, kc) of op(B) into one panel bp[p * nr + j],
// zero-padding columns cols..nr. `b` points at op(B)(0, 0).
template <class Arch>
void pack_b(bool trans_b, const float* b, std::size_t ldb, std::size_t cols, std::size_t kc, float* bp) {
  using v = batch<Arch>;
  constexpr std::size_t w = width<Arch>, nr = shape<Arch>::nr;
  if (trans_b) {
    // op(B)(p, j) = B(j, p): a transpose, w × w tiles at a time.
    std::size_t p0 = 0;
    if (cols == nr)
      for (; p0 + w <= kc; p0 += w) {
        transpose_tile<Arch>(b + p0, ldb, bp + p0 * nr, nr);
        transpose_tile<Arch>(b + w * ldb + p0, ldb, bp + p0 * nr + w, nr);
      }
    for (std::size_t p = p0; p < kc; ++p) {
      for (std::size_t j = 0; j < cols; ++j) bp[p * nr + j] = b[j * ldb + p];
      for (std::size_t j = cols; j < nr; ++j) bp[p * nr + j] = 0.0f;
    }
    return;
  }
  for (std::size_t p = 0; p < kc; ++p) {
    const float* src = b + p * ldb;
    float* dst = bp + p * nr;
    if (cols == nr) {
      v::load_unaligned(src).store_aligned(dst);
      v::load_unaligned(src + w).store_aligned(dst + w);
    } else {
      const std::size_t n0 = cols < w ? cols : w;
      load_partial<Arch>(src, n0, 0.0f).store_aligned(dst);
      load_partial<Arch>(src + n0, cols - n0, 0.0f).store_aligned(dst + w);
    }
  }
}

// Packs `panels` whole panels of a row-major B (no transpose), panel q at
// bp + q * kc * nr, in one pass down its rows: each row is visited once for all
// of them rather than once per panel.
template <class Arch>
void pack_b_rows(const float* b, std::size_t ldb, std::size_t panels, std::size_t kc, float* bp) {
  using v = batch<Arch>;
  constexpr std::size_t w = width<Arch>, nr = shape<Arch>::nr;
  for (std::size_t p = 0; p < kc; ++p) {
    const float* src = b + p * ldb;
    for (std::size_t q = 0; q < panels; ++q) {
      float* dst = bp + q * kc * nr + p * nr;
      v::load_unaligned(src + q * nr).store_aligned(dst);
      v::load_unaligned(src + q * nr + w).store_aligned(dst + w);
    }
  }
}

// y = alpha * a·op(B) + beta * y + bias for a single row a (M = 1), whose
// elements are inc_a apart (inc_a = 1 unless trans_b is false: gemm_at's single
// column of A).
template <class Arch>
void gemv(bool trans_b, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t inc_a, const float* b,
          std::size_t ldb, float beta, float* y, const float* bias, int threads) {
  using v = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  const std::size_t tail = k % w, body = k - tail;
  auto finish = [&](std::size_t j, float dot) {
    const float prior = beta == 0.0f ? 0.0f : beta * y[j];
    y[j] = alpha * dot + prior + (bias ? bias[j] : 0.0f);
  };
  if (trans_b) {
    // y_j = <a, B_j>: rows of B are contiguous. w rows at a time share each load
    // of a, one accumulator each; the rows left at the end of a chunk go one by
    // one. Which way a row goes depends only on j and n,
    // so results do not depend on the thread count.
    constexpr std::size_t chunk = 4 * w;
    const auto chunks = static_cast<std::ptrdiff_t>((n + chunk - 1) / chunk);
    parallel_for(0, chunks, threads_for<Arch>(n * k, threads), [&](std::ptrdiff_t t) {
      const std::size_t j0 = static_cast<std::size_t>(t) * chunk;
      const std::size_t j1 = j0 + chunk < n ? j0 + chunk : n;
      std::size_t j = j0;
      for (; j + w <= j1; j += w) {
        v acc[w];
#pragma GCC unroll 16
        for (std::size_t r = 0; r < w; ++r) acc[r] = v(0.0f);
        for (std::size_t p = 0; p < body; p += w) {
          const v av = v::load_unaligned(a + p);
#pragma GCC unroll 16
          for (std::size_t r = 0; r < w; ++r) acc[r] = xsimd::fma(av, v::load_unaligned(b + (j + r) * ldb + p), acc[r]);
        }
        if (tail) {
          const v av = load_partial<Arch>(a + body, tail, 0.0f);
          for (std::size_t r = 0; r < w; ++r)
            acc[r] = xsimd::fma(av, load_partial<Arch>(b + (j + r) * ldb + body, tail, 0.0f), acc[r]);
        }
        // (Not xsimd::haddp: xsimd 8.1's AVX-512 version returns the sums permuted.)
        for (std::size_t r = 0; r < w; ++r) finish(j + r, xsimd::hadd(acc[r]));
      }
      for (; j < j1; ++j) {
        v acc(0.0f);
        for (std::size_t p = 0; p < body; p += w)
          acc = xsimd::fma(v::load_unaligned(a + p), v::load_unaligned(b + j * ldb + p), acc);
        if (tail)
          acc = xsimd::fma(load_partial<Arch>(a + body, tail, 0.0f), load_partial<Arch>(b + j * ldb + body, tail, 0.0f), acc);
        finish(j, xsimd::hadd(acc));
      }
    });
    return;
  }
  // y = sum_p a_p B(p, :): each task owns a strip of columns and walks down B.
  constexpr std::size_t strip = 4 * w;
  const auto strips = static_cast<std::ptrdiff_t>((n + strip - 1) / strip);
  parallel_for(0, strips, threads_for<Arch>(n * k, threads), [&](std::ptrdiff_t t) {
    const std::size_t j0 = static_cast<std::size_t>(t) * strip;
    const std::size_t cols = n - j0 < strip ? n - j0 : strip;
    v acc[4] = {v(0.0f), v(0.0f), v(0.0f), v(0.0f)};
    if (cols == strip) {
      for (std::size_t p = 0; p < k; ++p) {
        const v ap(a[p * inc_a]);
        const float* row = b + p * ldb + j0;
#pragma GCC unroll 4
        for (std::size_t q = 0; q < 4; ++q) acc[q] = xsimd::fma(ap, v::load_unaligned(row + q * w), acc[q]);
      }
    } else {
      for (std::size_t p = 0; p < k; ++p) {
        const v ap(a[p * inc_a]);
        const float* row = b + p * ldb + j0;
        for (std::size_t q = 0; q * w < cols; ++q) {
          const std::size_t len = cols - q * w < w ? cols - q * w : w;
          acc[q] = xsimd::fma(ap, load_partial<Arch>(row + q * w, len, 0.0f), acc[q]);
        }
      }
    }
    alignas(64) float out[strip];
    for (std::size_t q = 0; q < 4; ++q) acc[q].store_aligned(out + q * w);
    for (std::size_t j = 0; j < cols; ++j) finish(j0 + j, out[j]);
  });
}

// C = beta * C + bias (k = 0: the product is empty).
template <class Arch>
void scale_rows(std::size_t m, std::size_t n, float beta, float* c, std::size_t ldc, const float* bias) {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const float prior = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
      c[i * ldc + j] = prior + (bias ? bias[j] : 0.0f);
    }
}

// Columns of op(B) rounded up to whole panels.
template <class Arch>
std::size_t padded_cols(std::size_t n) {
  return (n + shape<Arch>::nr - 1) / shape<Arch>::nr * shape<Arch>::nr;
}

// Packs all of op(B) (k × n) the way blocked() reads it: blocks of kc rows one
// after the other, each holding the nr-column panels of that block.
template <class Arch>
void pack_whole_b(bool trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb, float* out) {
  using s = shape<Arch>;
  const std::size_t padded_n = padded_cols<Arch>(n);
  for (std::size_t pc = 0; pc < k; pc += s::kc) {
    const std::size_t kc = k - pc < s::kc ? k - pc : s::kc;
    for (std::size_t col = 0; col < n; col += s::nr)
      pack_b<Arch>(trans_b, trans_b ? b + col * ldb + pc : b + pc * ldb + col, ldb, n - col < s::nr ? n - col : s::nr, kc,
                   out + pc * padded_n + col * kc);
  }
}

// Packs rows [ic, ic + mc) × depth [pc, pc + kc) of op(A) into the panels of one
// block, panel i (of mr rows) at ap + i * kc.
template <class Arch>
void pack_a_block(bool trans_a, const float* a, std::size_t lda, std::size_t ic, std::size_t mc, std::size_t pc, std::size_t kc,
                  float* ap) {
  constexpr std::size_t mr = shape<Arch>::mr;
  if (trans_a) return pack_a_transposed<Arch>(a + pc * lda + ic, lda, mc, kc, ap);
  for (std::size_t i = 0; i < mc; i += mr) pack_a<Arch>(a + (ic + i) * lda + pc, lda, mc - i < mr ? mc - i : mr, kc, ap + i * kc);
}

// Rows of op(A) rounded up to whole panels.
template <class Arch>
std::size_t padded_rows(std::size_t m) {
  return (m + shape<Arch>::mr - 1) / shape<Arch>::mr * shape<Arch>::mr;
}

// Packs all of op(A) (m × k) the way blocked() reads it when handed `a_whole`:
// for each block of kc columns, at out + pc * padded_rows(m), the panels of its
// rows, panel i (of mr rows) at + i * kc.
template <class Arch>
void pack_whole_a(bool trans_a, std::size_t m, std::size_t k, const float* a, std::size_t lda, float* out) {
  using s = shape<Arch>;
  const std::size_t rows = padded_rows<Arch>(m);
  for (std::size_t pc = 0; pc < k; pc += s::kc) {
    const std::size_t kc = k - pc < s::kc ? k - pc : s::kc;
    for (std::size_t ic = 0; ic < m; ic += s::mc)
      pack_a_block<Arch>(trans_a, a, lda, ic, m - ic < s::mc ? m - ic : s::mc, pc, kc, out + pc * rows + ic * kc);
  }
}

// The serial blocked product on rows [i_begin, i_end) × columns [j_begin,
// j_end) of C: op(B) is packed kc × nc at a time (unless `prepacked` holds all of
// it, pack_whole_b's layout for padded_n columns), A mc × kc at a time (unless
// `a_whole` holds all of it, pack_whole_a's layout, for i_begin = 0: then op(B)
// goes one panel at a time through all the rows), and the micro-kernel sweeps
// the register tiles.
template <class Arch>
void blocked(bool trans_a, bool trans_b, std::size_t i_begin, std::size_t i_end, std::size_t j_begin, std::size_t j_end,
             std::size_t k, float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb, const float* prepacked,
             std::size_t padded_n, float beta, float* c, std::size_t ldc, const float* bias, const float* a_whole = nullptr) {
  using s = shape<Arch>;
  const std::size_t depth = k < s::kc ? k : s::kc;
  // Panels are whole: mr rows of A, nr columns of B, even at the edges.
  const std::size_t rows = padded_rows<Arch>(i_end - i_begin);
  const std::size_t cols = (j_end - j_begin + s::nr - 1) / s::nr * s::nr;
  scratch<Arch> a_packed(a_whole ? 0 : (rows < s::mc ? rows : s::mc) * depth);
  // For few rows of A, packing a row-major B costs more than it saves: the
  // micro-kernel then reads its full panels in place (edge panels are still
  // packed), as long as its rows are short enough to share TLB pages.
  const bool direct = !prepacked && !trans_b && i_end - i_begin <= s::direct_b_rows && ldb <= s::direct_b_ld;
  // (With a_whole, room for two panels only where they are packed in pairs, below:
  // a larger buffer than needed is a page fault or two per call for small products.)
  const std::size_t panel_room = !prepacked && !trans_b && !direct ? 2 * s::nr : s::nr;
  scratch<Arch> b_packed(prepacked ? 0 : (a_whole ? panel_room : cols < s::nc ? cols : s::nc) * depth);
  if (a_whole) {
    // All of op(A) is packed (few rows): each panel of op(B) is packed once into
    // one small buffer and swept by every register tile of rows while it is in
    // L1/L2, so B is read from memory once and never written out in full.
    for (std::size_t pc = 0; pc < k; pc += s::kc) {
      const std::size_t kc = k - pc < s::kc ? k - pc : s::kc;
      const float c_scale = pc == 0 ? beta : 1.0f;
      const float* block_bias = pc == 0 ? bias : nullptr;
      for (std::size_t col = j_begin; col < j_end;) {
        const std::size_t cols = j_end - col < s::nr ? j_end - col : s::nr;
        const bool in_place = direct && cols == s::nr;
        // A row-major B is packed two whole panels at a time, in one pass down its
        // rows (one panel at a time, each of its kc rows was a separate cache line
        // and, for long rows, page: half the time of these products went there).
        const bool pair = !prepacked && !in_place && !trans_b && j_end - col >= 2 * s::nr;
        const float* panel = prepacked ? prepacked + pc * padded_n + col * kc : in_place ? b + pc * ldb + col : b_packed.get();
        if (pair)
          pack_b_rows<Arch>(b + pc * ldb + col, ldb, 2, kc, b_packed.get());
        else if (!prepacked && !in_place)
          pack_b<Arch>(trans_b, trans_b ? b + col * ldb + pc : b + pc * ldb + col, ldb, cols, kc, b_packed.get());
        for (std::size_t q = 0; q < (pair ? 2 : 1); ++q, col += s::nr, panel += s::nr * kc)
          for (std::size_t i = i_begin; i < i_end; i += s::mr)
            micro_kernel_rows<Arch>(i_end - i < s::mr ? i_end - i : s::mr, kc, a_whole + pc * rows + (i - i_begin) * kc, panel,
                                    in_place ? ldb : s::nr, c + i * ldc + col, ldc, cols, alpha, c_scale,
                                    block_bias ? block_bias + col : nullptr);
      }
    }
    return;
  }
  for (std::size_t jc = j_begin; jc < j_end; jc += s::nc) {
    const std::size_t nc = j_end - jc < s::nc ? j_end - jc : s::nc;
    for (std::size_t pc = 0; pc < k; pc += s::kc) {
      const std::size_t kc = k - pc < s::kc ? k - pc : s::kc;
      // The first block of k applies beta and the bias; later ones accumulate.
      const float c_scale = pc == 0 ? beta : 1.0f;
      const float* block_bias = pc == 0 ? bias : nullptr;
      // Panel j of this block of op(B) is at bp + j * kc (pack_whole_b's layout).
      const float* bp = prepacked ? prepacked + pc * padded_n + jc * kc : b_packed.get();
      if (!prepacked)
        for (std::size_t j = 0; j < nc; j += s::nr) {
          const std::size_t col = jc + j, cols = nc - j < s::nr ? nc - j : s::nr;
          if (direct && cols == s::nr) continue;
          pack_b<Arch>(trans_b, trans_b ? b + col * ldb + pc : b + pc * ldb + col, ldb, cols, kc, b_packed.get() + j * kc);
        }
      for (std::size_t ic = i_begin; ic < i_end; ic += s::mc) {
        const std::size_t mc = i_end - ic < s::mc ? i_end - ic : s::mc;
        float* const ap = a_packed.get();
        pack_a_block<Arch>(trans_a, a, lda, ic, mc, pc, kc, ap);
        for (std::size_t j = 0; j < nc; j += s::nr) {
          const std::size_t col = jc + j, cols = nc - j < s::nr ? nc - j : s::nr;
          const bool in_place = direct && cols == s::nr;
          const float* panel = in_place ? b + pc * ldb + col : bp + j * kc;
          for (std::size_t i = 0; i < mc; i += s::mr)
            micro_kernel_rows<Arch>(mc - i < s::mr ? mc - i : s::mr, kc, ap + i * kc, panel, in_place ? ldb : s::nr,
                                    c + (ic + i) * ldc + col, ldc, cols, alpha, c_scale, block_bias ? block_bias + col : nullptr);
        }
      }
    }
  }
}

// Largest op(A), in floats, that each thread packs whole for the column split.
inline constexpr std::size_t whole_a_max = std::size_t{1} << 20;

// Splits C among threads and runs blocked() on each share; each C element is
// computed by the same sequence of operations whichever thread owns it, so the
// result does not depend on the split.
//  * Many rows (at least 4 row blocks per thread): each thread owns a contiguous
//    range of whole row blocks, packing op(B) itself.
//  * Few rows (the products of one batch of tokens): C is cut into about 4 column
//    tasks per thread, all rows each, which the threads take one at a time from a
//    shared counter. Each thread packs op(A) whole once, when it takes its first
//    task (A was repacked for every nc columns before), and blocked() then packs
//    each op(B) panel into a small buffer that all the rows sweep at once, so B is
//    read once from memory (it used to be packed kc × nc at a time, up to 3 MB,
//    and read back from L3 by every row block: with both threads doing so, the
//    second thread barely helped). A thread that starts late or runs slowly (a
//    busy machine, a sibling hyperthread, a worker woken from sleep) leaves its
//    tasks to the other instead of holding up the product, as a fixed half each
//    did. No barrier inside either way.
template <class Arch>
void parallel_blocked(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                      std::size_t lda, const float* b, std::size_t ldb, const float* prepacked, float beta, float* c,
                      std::size_t ldc, const float* bias, int threads) {
  using s = shape<Arch>;
  const int nt = threads_for<Arch>(m * n * k, threads);
  const std::size_t m_blocks = (m + s::mc - 1) / s::mc;
  const std::size_t n_panels = (n + s::nr - 1) / s::nr;
  const auto t = static_cast<std::size_t>(nt);
  const std::size_t padded_n = padded_cols<Arch>(n);
  if (m_blocks >= 4 * t || n_panels < t) {
    const std::size_t parts = m_blocks < t ? m_blocks : t;
    parallel_for(0, static_cast<std::ptrdiff_t>(parts), static_cast<int>(parts), [&](std::ptrdiff_t part) {
      const std::size_t begin = m_blocks * static_cast<std::size_t>(part) / parts * s::mc;
      const std::size_t end = m_blocks * (static_cast<std::size_t>(part) + 1) / parts * s::mc;
      blocked<Arch>(trans_a, trans_b, begin, end < m ? end : m, 0, n, k, alpha, a, lda, b, ldb, prepacked, padded_n, beta, c, ldc,
                    bias);
    });
    return;
  }
  const std::size_t a_size = padded_rows<Arch>(m) * k;
  const bool whole_a = a_size <= whole_a_max;
  // Without a whole op(A) each task packs its own: one task per thread then.
  const std::size_t wanted = t == 1 ? 1 : whole_a ? 4 * t : t;
  const std::size_t per_task = (n_panels + wanted - 1) / wanted;
  const std::size_t tasks = (n_panels + per_task - 1) / per_task;
  std::atomic<std::size_t> next{0};
  parallel_for(0, nt, nt, [&](std::ptrdiff_t) {
    scratch<Arch> a_packed(whole_a ? a_size : 0);
    bool a_ready = false;
    for (std::size_t task; (task = next.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
      if (whole_a && !a_ready) {
        pack_whole_a<Arch>(trans_a, m, k, a, lda, a_packed.get());
        a_ready = true;
      }
      const std::size_t begin = task * per_task * s::nr, end = (task + 1) * per_task * s::nr;
      blocked<Arch>(trans_a, trans_b, 0, m, begin, end < n ? end : n, k, alpha, a, lda, b, ldb, prepacked, padded_n, beta, c, ldc,
                    bias, whole_a ? a_packed.get() : nullptr);
    }
  });
}

}  // namespace gemm_detail

template <class Arch>
void gemm_kernel::operator()(Arch, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                             std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
                             const float* bias, int threads) const {
  if (m == 0 || n == 0) return;
  if (k == 0) return gemm_detail::scale_rows<Arch>(m, n, beta, c, ldc, bias);
  if (m == 1) return gemm_detail::gemv<Arch>(trans_b, n, k, alpha, a, 1, b, ldb, beta, c, bias, threads);
  gemm_detail::parallel_blocked<Arch>(false, trans_b, m, n, k, alpha, a, lda, b, ldb, nullptr, beta, c, ldc, bias, threads);
}

template <class Arch>
const char* pack_b_kernel::operator()(Arch, bool trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb,
                                      float* packed) const {
  gemm_detail::pack_whole_b<Arch>(trans_b, k, n, b, ldb, packed);
  return Arch::name();
}

template <class Arch>
void gemm_packed_kernel::operator()(Arch, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                                    std::size_t lda, const float* packed, float beta, float* c, std::size_t ldc,
                                    const float* bias, int threads) const {
  if (m == 0 || n == 0) return;
  if (k == 0) return gemm_detail::scale_rows<Arch>(m, n, beta, c, ldc, bias);
  gemm_detail::parallel_blocked<Arch>(false, false, m, n, k, alpha, a, lda, nullptr, 0, packed, beta, c, ldc, bias, threads);
}

template <class Arch>
void gemm_batched_kernel::operator()(Arch, bool trans_b, std::size_t batch, std::size_t m, std::size_t n, std::size_t k,
                                     float alpha, const float* a, std::size_t lda, std::size_t stride_a, const float* b,
                                     std::size_t ldb, std::size_t stride_b, float beta, float* c, std::size_t ldc,
                                     std::size_t stride_c, int threads) const {
  if (batch == 1) return gemm_kernel{}(Arch{}, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nullptr, threads);
  parallel_for(0, static_cast<std::ptrdiff_t>(batch), threads, [&](std::ptrdiff_t t) {
    const auto i = static_cast<std::size_t>(t);
    gemm_kernel{}(Arch{}, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta, c + i * stride_c, ldc,
                  nullptr, 1);
  });
}

template <class Arch>
void gemm_at_kernel::operator()(Arch, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                                const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc, int threads) const {
  if (m == 0 || n == 0) return;
  if (k == 0) return gemm_detail::scale_rows<Arch>(m, n, beta, c, ldc, nullptr);
  // One column of A (k × 1): its elements are lda apart.
  if (m == 1) return gemm_detail::gemv<Arch>(false, n, k, alpha, a, lda, b, ldb, beta, c, nullptr, threads);
  gemm_detail::parallel_blocked<Arch>(true, false, m, n, k, alpha, a, lda, b, ldb, nullptr, beta, c, ldc, nullptr, threads);
}

template <class Arch>
void gemm_at_batched_kernel::operator()(Arch, std::size_t batch, std::size_t m, std::size_t n, std::size_t k, float alpha,
                                        const float* a, std::size_t lda, std::size_t stride_a, const float* b, std::size_t ldb,
                                        std::size_t stride_b, float beta, float* c, std::size_t ldc, std::size_t stride_c,
                                        int threads) const {
  if (batch == 1) return gemm_at_kernel{}(Arch{}, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
  parallel_for(0, static_cast<std::ptrdiff_t>(batch), threads, [&](std::ptrdiff_t t) {
    const auto i = static_cast<std::size_t>(t);
    gemm_at_kernel{}(Arch{}, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta, c + i * stride_c, ldc, 1);
  });
}

}  // namespace shopml::simd
