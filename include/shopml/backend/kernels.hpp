#pragma once
// The backend boundary, in one place: `kernels<Backend>` is declared here and
// specialised per backend (backend/cpu.hpp, backend/cuda.cuh). Algorithm code
// (encoder, recommenders) is written once against this interface.
//
// Conventions for every kernel:
//  * float32, row-major, leading dimensions in elements;
//  * `threads` = 0 means the library default (parallel.hpp);
//  * pointers may be unaligned; sizes may be 0 (then nothing is read or written);
//  * shapes are checked by the caller (the components), kernels trust them;
//  * kernels<cpu> gives bit-identical results for every thread count.
// Special values follow the scalar formulas (kernels/scalar.hpp): NaN propagates
// within its row (softmax, layer_norm, l2_normalize) or its dot products (gemm),
// gelu(-inf) = NaN (-inf · 0) as in PyTorch, gelu(+inf) = +inf (PyTorch's erf
// form says NaN); gemm with beta = 0 never reads C, so C may hold garbage.

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "shopml/backend/tags.hpp"

namespace shopml {

enum class gelu_form { erf, tanh };

template <class Backend>
struct kernels;  // specialised by each backend

// Names every operation a backend must provide, with its signature.
template <class K>
concept kernel_set = requires(const float* cx, float* x, std::uint32_t* idx, std::size_t n,
                              float a, bool flag, int threads, gelu_form form) {
  // sum_i x[i] * y[i]
  { K::dot(cx, cx, n) } -> std::same_as<float>;
  // y += a * x
  { K::axpy(n, a, cx, x) } -> std::same_as<void>;
  // C[m×n] = alpha * A[m×k] · op(B) + beta * C + bias[n] (bias may be null).
  // op(B) = B (k×n) or, with trans_b, Bᵀ where B is n×k: the layout of nn.Linear's
  // weight [out, in], so y = x Wᵀ + b needs no copy.
  { K::gemm(flag, n, n, n, a, cx, n, cx, n, a, x, n, cx, threads) } -> std::same_as<void>;
  // `batch` independent gemms, the i-th at A + i*stride_a, B + i*stride_b, C + i*stride_c
  // (attention: scores = Q·Kᵀ and context = P·V per (sequence, head)).
  { K::gemm_batched(flag, n, n, n, n, a, cx, n, n, cx, n, n, a, x, n, n, threads) } -> std::same_as<void>;
  // In place, per row: x = softmax(x + mask_row). Row r uses mask + (r / rows_per_mask) * cols
  // when mask is non-null (the additive padding mask shared by all rows of one sequence).
  // Max-subtracted, so large magnitudes do not overflow; a row that is all -inf becomes all 0,
  // a row holding a NaN or +inf becomes all NaN.
  { K::softmax_rows(x, n, n, n, cx, n, threads) } -> std::same_as<void>;
  // y = LayerNorm(x + residual) * gamma + beta, per row of `cols`; residual may be null;
  // y may alias x.
  { K::layer_norm(cx, cx, x, n, n, cx, cx, a, threads) } -> std::same_as<void>;
  // In place x = gelu(x), exact erf form or tanh approximation.
  { K::gelu(x, n, form, threads) } -> std::same_as<void>;
  // Each row x / max(||x||_2, 1e-12) (torch.nn.functional.normalize); zero rows stay zero.
  { K::l2_normalize(x, n, n, threads) } -> std::same_as<void>;
  // The k largest of x[0..n), descending; ties by lower index (-0 ties with +0); NaNs rank
  // below everything (among themselves by index); k > n is clamped to n; n < 2^32.
  { K::topk(cx, n, n, x, idx) } -> std::same_as<void>;
};

// Optional, for backends that can pack a matrix once and multiply by it many
// times (the encoder's nn.Linear weights: packing op(B) is otherwise redone by
// every gemm call). kernels<cpu> offers it; test with `if constexpr
// (packs_weights<K>)`. The packed matrix owns a copy: B may be freed after.
template <class K>
concept packs_weights =
    requires(const float* cx, float* x, std::size_t n, float a, bool flag, int threads,
             const typename K::packed_matrix& packed) {
      // op(B) of gemm, k × n: pack_b(trans_b, k, n, b, ldb)
      { K::pack_b(flag, n, n, cx, n) } -> std::same_as<typename K::packed_matrix>;
      { packed.rows() } -> std::same_as<std::size_t>;  // k
      { packed.cols() } -> std::same_as<std::size_t>;  // n
      // gemm(trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, threads) with
      // op(B) = packed: gemm_packed(m, alpha, a, lda, packed, beta, c, ldc, bias, threads)
      { K::gemm_packed(n, a, cx, n, packed, a, x, n, cx, threads) } -> std::same_as<void>;
    };

}  // namespace shopml
