#pragma once
// kernels<cpu>: the backend boundary (backend/kernels.hpp) on xsimd + OpenMP.
//
// Each kernel is an Arch-templated functor in simd/. Which Arch runs:
//  * by default, the best the consumer's own flags allow (xsimd::default_arch:
//    plain x86-64 gets SSE2, -march=native gets what the build machine has);
//  * with SHOPML_CPU_DISPATCH (set by shopml_enable_cpu_dispatch() in CMake), the
//    best of AVX-512, AVX2+FMA and that default for the CPU it runs on; the
//    AVX2/AVX-512 instances come from sources compiled with those flags.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "shopml/backend/kernels.hpp"
#include "shopml/error.hpp"
#include "shopml/simd/gemm_bf16.hpp"
#include "shopml/simd/gemm_int8.hpp"
#include "shopml/simd/instantiate.hpp"

#if defined(SHOPML_CPU_DISPATCH)
SHOPML_SIMD_DECLARE(xsimd::avx512bw)
SHOPML_SIMD_DECLARE(xsimd::fma3<xsimd::avx2>)
#endif

namespace shopml {

namespace simd {

#if defined(SHOPML_CPU_DISPATCH)
// The dispatched ISAs, best first, then the compile-time default as a fallback
// for CPUs without AVX2 (unless the default is already one of them).
using dispatched_archs = std::conditional_t<(xsimd::default_arch::version() < xsimd::fma3<xsimd::avx2>::version()),
                                            xsimd::arch_list<xsimd::avx512bw, xsimd::fma3<xsimd::avx2>, xsimd::default_arch>,
                                            xsimd::arch_list<xsimd::avx512bw, xsimd::fma3<xsimd::avx2>>>;

// The name of the instruction set the kernels run with on this CPU.
inline const char* active_arch_name() {
  return xsimd::dispatch<dispatched_archs>([](auto arch) { return decltype(arch)::name(); })();
}

template <class Kernel, class... Args>
auto run(Kernel kernel, Args... args) {
  return xsimd::dispatch<dispatched_archs>(kernel)(args...);
}
#else
inline const char* active_arch_name() { return xsimd::default_arch::name(); }

template <class Kernel, class... Args>
auto run(Kernel kernel, Args... args) {
  return kernel(xsimd::default_arch{}, args...);
}
#endif

}  // namespace simd

template <>
struct kernels<cpu> {
  static float dot(const float* x, const float* y, std::size_t n) { return simd::run(simd::dot_kernel{}, x, y, n); }

  static void axpy(std::size_t n, float a, const float* x, float* y) { simd::run(simd::axpy_kernel{}, n, a, x, y); }

  // Compact vectors (backend/kernels.hpp's scores_compact_vectors, simd/compact_dot.hpp).
  static float dot_i8(const float* q, const std::int8_t* x, std::size_t n) { return simd::run(simd::dot_i8_kernel{}, q, x, n); }
  static float dot_f16(const float* q, const std::uint16_t* x, std::size_t n) {
    return simd::run(simd::dot_f16_kernel{}, q, x, n);
  }
  static void widen_i8(const std::int8_t* x, std::size_t n, float* out) { simd::run(simd::widen_i8_kernel{}, x, n, out); }
  static void widen_f16(const std::uint16_t* x, std::size_t n, float* out) { simd::run(simd::widen_f16_kernel{}, x, n, out); }

  // Kernels outside kernel_set, for the CPU logistic loss only (simd/gemv.hpp,
  // simd/logistic.hpp): y += Aᵀ · x for A m × n (rows lda apart) ...
  static void gemv_t(std::size_t m, std::size_t n, const float* a, std::size_t lda, const float* x, float* y) {
    simd::run(simd::gemv_t_kernel{}, m, n, a, lda, x, y);
  }

  // ... S = W · Aᵀ for the m rows of A and the k rows of W (S is k × m, rows lds apart) ...
  static void dot_rows(std::size_t m, std::size_t n, const float* a, std::size_t lda, std::size_t k, const float* w,
                       std::size_t ldw, float* s, std::size_t lds) {
    simd::run(simd::dot_rows_kernel{}, m, n, a, lda, k, w, ldw, s, lds);
  }

  // ... and the binary and multinomial logistic losses and residuals of n rows.
  static double binary_logistic(std::size_t n, const float* score, double intercept, const int* target, const double* weight,
                                double weight_scale, float* residual) {
    return simd::run(simd::binary_logistic_kernel{}, n, score, intercept, target, weight, weight_scale, residual);
  }

  static double multinomial_logistic(std::size_t n, std::size_t k, const float* score, std::size_t lds, const double* intercept,
                                     const int* target, const double* weight, double weight_scale, float* residual) {
    return simd::run(simd::multinomial_logistic_kernel{}, n, k, score, lds, intercept, target, weight, weight_scale, residual);
  }

  static void gemm(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                   const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc, const float* bias, int threads) {
    simd::run(simd::gemm_kernel{}, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, threads);
  }

  // op(B) packed once for gemm_packed (see packs_weights in backend/kernels.hpp).
  // The layout belongs to the instruction set that packed it.
  class packed_matrix {
   public:
    packed_matrix() = default;
    std::size_t rows() const { return k_; }
    std::size_t cols() const { return n_; }

   private:
    friend struct kernels<cpu>;
    struct free_aligned {
      void operator()(float* p) const { ::operator delete (p, std::align_val_t{64}); }
    };
    std::unique_ptr<float, free_aligned> data_;
    std::size_t k_ = 0, n_ = 0;
    const char* arch_ = nullptr;
  };

  static packed_matrix pack_b(bool trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb) {
    packed_matrix p;
    p.k_ = k;
    p.n_ = n;
    const std::size_t size = simd::packed_size(k, n);
    if (size) p.data_.reset(static_cast<float*>(::operator new (size * sizeof(float), std::align_val_t{64})));
    p.arch_ = simd::run(simd::pack_b_kernel{}, trans_b, k, n, b, ldb, p.data_.get());
    return p;
  }

  static void gemm_packed(std::size_t m, float alpha, const float* a, std::size_t lda, const packed_matrix& b, float beta,
                          float* c, std::size_t ldc, const float* bias, int threads) {
    if (b.arch_ && std::strcmp(b.arch_, simd::active_arch_name()) != 0)
      throw value_error(std::string("gemm_packed: the matrix was packed for ") + b.arch_ + " but the kernels run " +
                        simd::active_arch_name());
    simd::run(simd::gemm_packed_kernel{}, m, b.n_, b.k_, alpha, a, lda, static_cast<const float*>(b.data_.get()), beta, c, ldc,
              bias, threads);
  }

  // op(B) rounded to bf16 and packed once for gemm_packed_bf16 (packs_weights_bf16): in AMX's
  // layout where the CPU has AMX-BF16 (unless allow_amx is false), else widened back to fp32
  // and packed as pack_b does (simd/gemm_bf16.hpp).
  class packed_matrix_bf16 {
   public:
    packed_matrix_bf16() = default;
    std::size_t rows() const { return k_; }
    std::size_t cols() const { return n_; }
    bool amx() const { return amx_; }

   private:
    friend struct kernels<cpu>;
    std::size_t k_ = 0, n_ = 0;
    bool amx_ = false;
    simd::bf16::amx_matrix tiles_;
    packed_matrix widened_;
  };

  static packed_matrix_bf16 pack_b_bf16(bool trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb,
                                        bool allow_amx = true) {
    packed_matrix_bf16 p;
    p.k_ = k;
    p.n_ = n;
    p.amx_ = allow_amx && simd::bf16::amx_bf16_usable();
    if (p.amx_) {
      p.tiles_ = simd::bf16::pack_amx(trans_b, k, n, b, ldb);
    } else {
      std::vector<float> rounded(k * n);  // op(B) as k × n
      for (std::size_t kk = 0; kk < k; ++kk)
        for (std::size_t col = 0; col < n; ++col)
          rounded[kk * n + col] = simd::bf16::round_trip(trans_b ? b[col * ldb + kk] : b[kk * ldb + col]);
      p.widened_ = pack_b(false, k, n, rounded.data(), n);
    }
    return p;
  }

  static void gemm_packed_bf16(std::size_t m, float alpha, const float* a, std::size_t lda, const packed_matrix_bf16& b,
                               float beta, float* c, std::size_t ldc, const float* bias, int threads) {
#if defined(SHOPML_AMX_BF16)
    if (b.amx_) return simd::bf16::gemm_amx(m, alpha, a, lda, b.tiles_, beta, c, ldc, bias, threads);
#endif
    const std::unique_ptr<float[]> rounded(new float[m * b.k_]);  // every element written below
    const std::size_t strips = (m + 63) / 64;
    parallel_for(0, static_cast<std::ptrdiff_t>(strips), threads, [&](std::ptrdiff_t s) {
      const std::size_t first = static_cast<std::size_t>(s) * 64;
      simd::bf16::round_trip_rows(a, lda, b.k_, first, std::min(m, first + 64), rounded.get());
    });
    gemm_packed(m, alpha, rounded.get(), b.k_, b.widened_, beta, c, ldc, bias, threads);
  }

  // op(B) quantised per output channel to s8 for gemm_packed_int8 (packs_weights_int8;
  // simd/gemm_int8.hpp), laid out for one of its roads: by default the fastest this CPU
  // allows (AMX tiles, else AVX2), else as floats holding the integers, packed as pack_b does.
  class packed_matrix_int8 {
   public:
    packed_matrix_int8() = default;
    std::size_t rows() const { return blocked_.weights.k; }
    std::size_t cols() const { return blocked_.weights.n; }
    simd::int8::road road() const { return road_; }

   private:
    friend struct kernels<cpu>;
    simd::int8::road road_ = simd::int8::road::fp32;
    simd::int8::blocked_matrix blocked_;  // on the fp32 road: only its scales and sizes
    packed_matrix integers_;
  };

  static packed_matrix_int8 pack_b_int8(bool trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb,
                                        simd::int8::road road = simd::int8::best_road()) {
    if (!simd::int8::usable(road))
      throw value_error(std::string("pack_b_int8: this CPU cannot run the int8 road ") + simd::int8::road_name(road));
    packed_matrix_int8 p;
    p.road_ = road;
    auto q = simd::int8::quantize_weights(trans_b, k, n, b, ldb);
    if (road != simd::int8::road::fp32) {
      p.blocked_ = simd::int8::pack_blocked(std::move(q));
    } else {
      const std::vector<float> integers(q.values.begin(), q.values.end());
      p.integers_ = pack_b(false, k, n, integers.data(), n);
      q.values = {};
      p.blocked_.weights = std::move(q);
    }
    return p;
  }

  static void gemm_packed_int8(std::size_t m, float alpha, const float* a, std::size_t lda, const packed_matrix_int8& b,
                               float beta, float* c, std::size_t ldc, const float* bias, int threads) {
#if defined(SHOPML_AMX_BF16)
    if (b.road_ == simd::int8::road::amx) return simd::int8::gemm_amx(m, alpha, a, lda, b.blocked_, beta, c, ldc, bias, threads);
#endif
#if defined(SHOPML_INT8_AVX2)
    if (b.road_ == simd::int8::road::avx2)
      return simd::int8::gemm_avx2(m, alpha, a, lda, b.blocked_, beta, c, ldc, bias, threads);
#endif
    // The same integers through the fp32 GEMM: (a_q − z_a) · w_q, then the scales.
    const auto& w = b.blocked_.weights;
    const std::size_t k = w.k, n = w.n;
    std::vector<float> shifted(m * k), sums(m * n);
    std::vector<std::uint8_t> quantized(m * k);
    std::vector<simd::int8::row_quantization> rows_q(m);
    parallel_for(0, static_cast<std::ptrdiff_t>(m), threads, [&](std::ptrdiff_t r) {
      const auto row = static_cast<std::size_t>(r);
      const std::uint8_t* q = quantized.data() + row * k;
      rows_q[row] = simd::int8::quantize_row(a + row * lda, k, quantized.data() + row * k);
      for (std::size_t j = 0; j < k; ++j)
        shifted[row * k + j] = static_cast<float>(static_cast<std::int32_t>(q[j]) - rows_q[row].zero_point);
    });
    gemm_packed(m, 1.0f, shifted.data(), k, b.integers_, 0.0f, sums.data(), n, nullptr, threads);
    parallel_for(0, static_cast<std::ptrdiff_t>(m), threads, [&](std::ptrdiff_t r) {
      const auto row = static_cast<std::size_t>(r);
      float* out = c + row * ldc;
      for (std::size_t j = 0; j < n; ++j) {
        const float v = alpha * rows_q[row].scale * w.scales[j] * sums[row * n + j] + (bias ? bias[j] : 0.0f);
        out[j] = beta == 0.0f ? v : v + beta * out[j];
      }
    });
  }

  static void gemm_batched(bool trans_b, std::size_t batch, std::size_t m, std::size_t n, std::size_t k, float alpha,
                           const float* a, std::size_t lda, std::size_t stride_a, const float* b, std::size_t ldb,
                           std::size_t stride_b, float beta, float* c, std::size_t ldc, std::size_t stride_c, int threads) {
    simd::run(simd::gemm_batched_kernel{}, trans_b, batch, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc,
              stride_c, threads);
  }

  static void softmax_rows(float* x, std::size_t rows, std::size_t cols, std::size_t ld, const float* mask,
                           std::size_t rows_per_mask, int threads) {
    simd::run(simd::softmax_rows_kernel{}, x, rows, cols, ld, mask, rows_per_mask, threads);
  }

  static void layer_norm(const float* x, const float* residual, float* y, std::size_t rows, std::size_t cols, const float* gamma,
                         const float* beta, float eps, int threads) {
    simd::run(simd::layer_norm_kernel{}, x, residual, y, rows, cols, gamma, beta, eps, threads);
  }

  static void gelu(float* x, std::size_t n, gelu_form form, int threads) { simd::run(simd::gelu_kernel{}, x, n, form, threads); }

  static void l2_normalize(float* x, std::size_t rows, std::size_t cols, int threads) {
    simd::run(simd::l2_normalize_kernel{}, x, rows, cols, threads);
  }

  static void topk(const float* x, std::size_t n, std::size_t k, float* values, std::uint32_t* indices) {
    simd::run(simd::topk_kernel{}, x, n, k, values, indices);
  }

  // ---- training_kernel_set (semantics in backend/kernels.hpp) ----

  static void gemm_at(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda, const float* b,
                      std::size_t ldb, float beta, float* c, std::size_t ldc, int threads) {
    simd::run(simd::gemm_at_kernel{}, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
  }

  static void gemm_at_batched(std::size_t batch, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                              std::size_t lda, std::size_t stride_a, const float* b, std::size_t ldb, std::size_t stride_b,
                              float beta, float* c, std::size_t ldc, std::size_t stride_c, int threads) {
    simd::run(simd::gemm_at_batched_kernel{}, batch, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc, stride_c,
              threads);
  }

  static void add_column_sums(std::size_t rows, std::size_t cols, const float* x, std::size_t ld, float* sums, int threads) {
    simd::run(simd::add_column_sums_kernel{}, rows, cols, x, ld, sums, threads);
  }

  static void layer_norm_backward(const float* dy, const float* x, const float* gamma, std::size_t rows, std::size_t cols,
                                  float eps, float* dx, float* dgamma, float* dbeta, int threads) {
    simd::run(simd::layer_norm_backward_kernel{}, dy, x, gamma, rows, cols, eps, dx, dgamma, dbeta, threads);
  }

  static void gelu_backward(const float* x, float* dy, std::size_t n, gelu_form form, int threads) {
    simd::run(simd::gelu_backward_kernel{}, x, dy, n, form, threads);
  }

  static void softmax_backward(const float* p, float* dp, std::size_t rows, std::size_t cols, std::size_t ld, int threads) {
    simd::run(simd::softmax_backward_kernel{}, p, dp, rows, cols, ld, threads);
  }

  static void tanh(float* x, std::size_t n, int threads) { simd::run(simd::tanh_kernel{}, x, n, threads); }

  static void tanh_backward(const float* y, float* dy, std::size_t n, int threads) {
    simd::run(simd::tanh_backward_kernel{}, y, dy, n, threads);
  }

  static void dropout(float* x, std::size_t n, float p, std::uint64_t key, std::size_t first, int threads) {
    simd::run(simd::dropout_kernel{}, x, n, p, key, first, threads);
  }

  static void scatter_add_rows(std::size_t rows, std::size_t cols, const float* x, std::size_t ld, const std::int64_t* index,
                               float* table, std::size_t ldt, int threads) {
    simd::run(simd::scatter_add_rows_kernel{}, rows, cols, x, ld, index, table, ldt, threads);
  }

  static void mean_pool(std::size_t segments, std::size_t cols, const float* x, std::size_t ld, const std::size_t* offsets,
                        const std::uint8_t* mask, float* out, int threads) {
    simd::run(simd::mean_pool_kernel{}, segments, cols, x, ld, offsets, mask, out, threads);
  }

  static void mean_pool_backward(std::size_t segments, std::size_t cols, const float* dout, const std::size_t* offsets,
                                 const std::uint8_t* mask, float* dx, std::size_t ld, int threads) {
    simd::run(simd::mean_pool_backward_kernel{}, segments, cols, dout, offsets, mask, dx, ld, threads);
  }

  // dlogits' rows are ld apart like the logits', and dlogits may be logits (simd/loss.hpp).
  static double cross_entropy(std::size_t rows, std::size_t classes, const float* logits, std::size_t ld,
                              const std::int64_t* labels, float scale, float* dlogits, int threads) {
    return simd::run(simd::cross_entropy_kernel{}, rows, classes, logits, ld, labels, scale, dlogits, threads);
  }

  static double mse(std::size_t n, const float* pred, const float* target, float scale, float* dpred) {
    return simd::run(simd::mse_kernel{}, n, pred, target, scale, dpred);
  }

  static double sum_squares(const float* x, std::size_t n, int threads) {
    return simd::run(simd::sum_squares_kernel{}, x, n, threads);
  }

  static void scale(float* x, std::size_t n, float a, int threads) { simd::run(simd::scale_kernel{}, x, n, a, threads); }

  static void adamw(std::size_t n, float* param, const float* grad, float* m, float* v, const adamw_step& step, int threads) {
    const scalar::adamw_factors f = scalar::adamw_prepare(step.lr, step.beta1, step.beta2, step.eps, step.weight_decay,
                                                          step.bias_correction1, step.bias_correction2);
    simd::run(simd::adamw_kernel{}, n, param, grad, m, v, f, threads);
  }
};

static_assert(kernel_set<kernels<cpu>>);
static_assert(packs_weights<kernels<cpu>>);
static_assert(packs_weights_bf16<kernels<cpu>>);
static_assert(packs_weights_int8<kernels<cpu>>);
static_assert(training_kernel_set<kernels<cpu>>);

}  // namespace shopml
