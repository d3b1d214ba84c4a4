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
// Special values follow the scalar formulas and rules (scalar.hpp): NaN propagates
// within its row (softmax, layer_norm, l2_normalize) or its dot products (gemm),
// gelu(-inf) = NaN (-inf · 0) as in PyTorch, gelu(+inf) = +inf (PyTorch's erf
// form says NaN); gemm with beta = 0 never reads C, so C may hold garbage.

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "shopml/backend/tags.hpp"
#include "shopml/scalar.hpp"

namespace shopml {

template <class Backend>
struct kernels;  // specialised by each backend

// Names every operation a backend must provide, with its signature.
template <class K>
concept kernel_set = requires(const float* cx, float* x, std::uint32_t* idx, std::size_t n, float a, bool flag, int threads,
                              gelu_form form) {
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
concept packs_weights = requires(const float* cx, float* x, std::size_t n, float a, bool flag, int threads,
                                 const typename K::packed_matrix& packed) {
  // op(B) of gemm, k × n: pack_b(trans_b, k, n, b, ldb)
  { K::pack_b(flag, n, n, cx, n) } -> std::same_as<typename K::packed_matrix>;
  { packed.rows() } -> std::same_as<std::size_t>;  // k
  { packed.cols() } -> std::same_as<std::size_t>;  // n
  // gemm(trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, threads) with
  // op(B) = packed: gemm_packed(m, alpha, a, lda, packed, beta, c, ldc, bias, threads)
  { K::gemm_packed(n, a, cx, n, packed, a, x, n, cx, threads) } -> std::same_as<void>;
};

// Optional: dense layers in bfloat16 (the encoder's precision bf16). pack_b_bf16 rounds
// op(B) to bf16 (to nearest even) and packs it; gemm_packed_bf16 is gemm_packed with A
// rounded to bf16 too and the exact products summed in fp32, so results differ from
// fp32's by the rounding of the operands and the order of the sums only.
template <class K>
concept packs_weights_bf16 = requires(const float* cx, float* x, std::size_t n, float a, bool flag, int threads,
                                      const typename K::packed_matrix_bf16& packed) {
  { K::pack_b_bf16(flag, n, n, cx, n) } -> std::same_as<typename K::packed_matrix_bf16>;
  { packed.rows() } -> std::same_as<std::size_t>;
  { packed.cols() } -> std::same_as<std::size_t>;
  { K::gemm_packed_bf16(n, a, cx, n, packed, a, x, n, cx, threads) } -> std::same_as<void>;
};

// Optional: dense layers in int8 (the encoder's precision int8), dynamically quantised as
// ONNX Runtime does: pack_b_int8 quantises op(B) per output channel to s8 (symmetric) and
// packs it; gemm_packed_int8 quantises each row of A to u8 with its own scale and zero point
// and computes C = alpha · s_a[r] · s_w[c] · (Σ a_q·w_q − z_a[r]·Σ w_q[c]) + bias (+ beta · C)
// with the bracket exact (simd/gemm_int8.hpp).
template <class K>
concept packs_weights_int8 = requires(const float* cx, float* x, std::size_t n, float a, bool flag, int threads,
                                      const typename K::packed_matrix_int8& packed) {
  { K::pack_b_int8(flag, n, n, cx, n) } -> std::same_as<typename K::packed_matrix_int8>;
  { packed.rows() } -> std::same_as<std::size_t>;
  { packed.cols() } -> std::same_as<std::size_t>;
  { K::gemm_packed_int8(n, a, cx, n, packed, a, x, n, cx, threads) } -> std::same_as<void>;
};

// Optional: embeddings stored compactly (the indexes' float16 and int8 storage), scored
// against a float32 query with float32 sums; int8 rows are scaled by the caller.
// dot_i8(q, x, n) = Σ q[i]·x[i], dot_f16(q, h, n) = Σ q[i]·float(h[i]) (h finite IEEE
// half bits); widen_i8 / widen_f16(x, n, out) write out[i] = float(x[i]).
template <class K>
concept scores_compact_vectors = requires(const float* cx, const std::int8_t* i8, const std::uint16_t* f16, float* x,
                                          std::size_t n) {
  { K::dot_i8(cx, i8, n) } -> std::same_as<float>;
  { K::dot_f16(cx, f16, n) } -> std::same_as<float>;
  { K::widen_i8(i8, n, x) } -> std::same_as<void>;
  { K::widen_f16(f16, n, x) } -> std::same_as<void>;
};

// The parameters of one torch.optim.AdamW step (the adamw kernel below). Doubles, as
// torch's Python floats: the factors derived from them (1 − β1, lr / bias_correction1,
// ...) are computed in double and rounded to float once, as torch does.
struct adamw_step {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
  // 1 - beta1^t and 1 - beta2^t for step t (counting from 1).
  double bias_correction1 = 1.0, bias_correction2 = 1.0;
};

// What training needs beyond inference: the backward passes of the encoder's
// operations, the losses, and the optimiser. Conventions as above; in addition
//  * "+=" outputs accumulate (gradients summed over a batch and over accumulation
//    steps), "=" outputs are written;
//  * reductions over rows (column sums, LayerNorm's dgamma/dbeta, sum_squares,
//    the losses) are summed in a fixed order, so kernels<cpu> stays bitwise
//    reproducible for a given thread count (and, where it costs nothing, for all).
template <class K>
concept training_kernel_set = kernel_set<K> &&
    requires(const float* cx, float* x, const std::int64_t* index, const std::size_t* offsets, const std::uint8_t* mask,
             std::size_t n, float a, std::uint64_t key, int threads, gelu_form form, const adamw_step& step) {
  // C[m×n] (=) alpha · Aᵀ · B + beta · C, A stored k × m (rows lda apart), B k × n:
  // gemm_at(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads). nn.Linear's weight
  // gradient dW += dYᵀ·X, attention's dV = Pᵀ·dC and dK = dSᵀ·Q.
  { K::gemm_at(n, n, n, a, cx, n, cx, n, a, x, n, threads) } -> std::same_as<void>;
  // `batch` independent gemm_at, strided as gemm_batched:
  // gemm_at_batched(batch, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc, stride_c, threads)
  { K::gemm_at_batched(n, n, n, n, a, cx, n, n, cx, n, n, a, x, n, n, threads) } -> std::same_as<void>;
  // sums[j] += Σ_i x[i·ld + j], j < cols: add_column_sums(rows, cols, x, ld, sums, threads) (bias gradients).
  { K::add_column_sums(n, n, cx, n, x, threads) } -> std::same_as<void>;
  // Backward of y = LayerNorm(x)·gamma + beta per row of `cols`, x the input of the
  // normalisation (residual included; mean and variance recomputed from it):
  // layer_norm_backward(dy, x, gamma, rows, cols, eps, dx, dgamma, dbeta, threads) with
  // dx (=) rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma; dgamma += Σ_rows dy·x̂; dbeta += Σ_rows dy.
  // dx may alias dy.
  { K::layer_norm_backward(cx, cx, cx, n, n, a, x, x, x, threads) } -> std::same_as<void>;
  // dy[i] (=) dy[i] · gelu'(x[i]) of the given form, x being GELU's input:
  // gelu_backward(x, dy, n, form, threads).
  { K::gelu_backward(cx, x, n, form, threads) } -> std::same_as<void>;
  // Softmax backward per row, in place on dp: dp (=) p ⊙ (dp − Σ_j dp_j·p_j), p the softmax
  // output: softmax_backward(p, dp, rows, cols, ld, threads).
  { K::softmax_backward(cx, x, n, n, n, threads) } -> std::same_as<void>;
  // In place y = tanh(x) (BERT's pooler), and dy (=) dy · (1 − y²) from tanh's output y.
  { K::tanh(x, n, threads) } -> std::same_as<void>;
  { K::tanh_backward(cx, x, n, threads) } -> std::same_as<void>;
  // Inverted dropout in place: x[i] (=) keep ? x[i] / (1 − p) : 0, where keep =
  // scalar::dropout_keep(key, first + i, p) comes from a counter-based generator, so one
  // key and index give one mask on every backend and thread count and the backward pass
  // re-applies the forward mask by calling dropout again: dropout(x, n, p, key, first, threads).
  { K::dropout(x, n, a, key, n, threads) } -> std::same_as<void>;
  // table[index[r]·ldt + j] += x[r·ld + j] for r < rows, j < cols (embedding gradients;
  // indices checked by the caller): scatter_add_rows(rows, cols, x, ld, index, table, ldt, threads).
  { K::scatter_add_rows(n, n, cx, n, index, x, n, threads) } -> std::same_as<void>;
  // Mean pooling of packed sequences (sentence-transformers' Pooling(mean)): segment s is rows
  // [offsets[s], offsets[s+1]) of x (ld apart); rows with mask 0 are left out:
  // out[s·cols + j] (=) Σ_{t kept} x[t·ld + j] / max(count_s, 1e-9):
  // mean_pool(segments, cols, x, ld, offsets, mask, out, threads), and its backward
  // dx[t·ld + j] (=) mask[t] · dout[s·cols + j] / max(count_s, 1e-9), every row of every
  // segment written: mean_pool_backward(segments, cols, dout, offsets, mask, dx, ld, threads).
  { K::mean_pool(n, n, cx, n, offsets, mask, x, threads) } -> std::same_as<void>;
  { K::mean_pool_backward(n, n, cx, offsets, mask, x, n, threads) } -> std::same_as<void>;
  // Softmax cross-entropy of rows × classes logits (rows ld apart) against labels, -100 =
  // ignored: returns Σ over kept rows of −log softmax(row)[label] in double, and writes
  // dlogits (=) scale · (softmax(row) − onehot(label)), 0 on ignored rows, its rows ld
  // apart as the logits' (dlogits may be logits):
  // cross_entropy(rows, classes, logits, ld, labels, scale, dlogits, threads).
  { K::cross_entropy(n, n, cx, n, index, a, x, threads) } -> std::same_as<double>;
  // Squared error of n predictions: returns Σ (pred − target)² in double and writes
  // dpred (=) 2·scale·(pred − target): mse(n, pred, target, scale, dpred).
  { K::mse(n, cx, cx, a, x) } -> std::same_as<double>;
  // Σ x[i]² in double (gradient norms): sum_squares(x, n, threads).
  { K::sum_squares(cx, n, threads) } -> std::same_as<double>;
  // x (=) a · x: scale(x, n, a, threads) (gradient clipping).
  { K::scale(x, n, a, threads) } -> std::same_as<void>;
  // torch.optim.AdamW (decoupled decay) on n parameters, in this order per element:
  //   p ← p·(1 − lr·wd);  m ← m + (1 − β1)(g − m);  v ← β2·v + (1 − β2)·g²;
  //   p ← p − (lr / bias_correction1) · m / (√v / √bias_correction2 + eps)
  // adamw(n, param, grad, m, v, step, threads).
  { K::adamw(n, x, cx, x, x, step, threads) } -> std::same_as<void>;
};

}  // namespace shopml
