#pragma once
// The list of SIMD kernels compiled once per ISA when run-time dispatch is on
// (cmake/ShopmlDispatch.cmake): the ISA sources instantiate them, and
// backend/cpu.hpp declares those instantiations `extern`.

#include <cstddef>
#include <cstdint>

#include "shopml/scalar.hpp"
#include "shopml/simd/adamw.hpp"
#include "shopml/simd/compact_dot.hpp"
#include "shopml/simd/dot.hpp"
#include "shopml/simd/dropout.hpp"
#include "shopml/simd/embedding.hpp"
#include "shopml/simd/gelu.hpp"
#include "shopml/simd/gemm.hpp"
#include "shopml/simd/gemv.hpp"
#include "shopml/simd/l2_normalize.hpp"
#include "shopml/simd/layer_norm.hpp"
#include "shopml/simd/logistic.hpp"
#include "shopml/simd/loss.hpp"
#include "shopml/simd/mean_pool.hpp"
#include "shopml/simd/reduce.hpp"
#include "shopml/simd/softmax.hpp"
#include "shopml/simd/tanh.hpp"
#include "shopml/simd/topk.hpp"

// X(arch, functor, return type, parameters after the Arch tag)
#define SHOPML_SIMD_KERNEL_LIST(X, A)                                                                                         \
  X(A, dot_kernel, float, (const float*, const float*, std::size_t))                                                          \
  X(A, axpy_kernel, void, (std::size_t, float, const float*, float*))                                                         \
  X(A, dot_i8_kernel, float, (const float*, const std::int8_t*, std::size_t))                                                 \
  X(A, dot_f16_kernel, float, (const float*, const std::uint16_t*, std::size_t))                                              \
  X(A, widen_i8_kernel, void, (const std::int8_t*, std::size_t, float*))                                                      \
  X(A, widen_f16_kernel, void, (const std::uint16_t*, std::size_t, float*))                                                   \
  X(A, binary_logistic_kernel, double, (std::size_t, const float*, double, const int*, const double*, double, float*))        \
  X(A, multinomial_logistic_kernel, double,                                                                                   \
    (std::size_t, std::size_t, const float*, std::size_t, const double*, const int*, const double*, double, float*))          \
  X(A, dot_rows_kernel, void,                                                                                                 \
    (std::size_t, std::size_t, const float*, std::size_t, std::size_t, const float*, std::size_t, float*, std::size_t))       \
  X(A, gemv_t_kernel, void, (std::size_t, std::size_t, const float*, std::size_t, const float*, float*))                      \
  X(A, gemm_kernel, void,                                                                                                     \
    (bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, const float*, std::size_t, float, float*, \
     std::size_t, const float*, int))                                                                                         \
  X(A, pack_b_kernel, const char*, (bool, std::size_t, std::size_t, const float*, std::size_t, float*))                       \
  X(A, gemm_packed_kernel, void,                                                                                              \
    (std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, const float*, float, float*, std::size_t,       \
     const float*, int))                                                                                                      \
  X(A, gemm_batched_kernel, void,                                                                                             \
    (bool, std::size_t, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, std::size_t, const float*,   \
     std::size_t, std::size_t, float, float*, std::size_t, std::size_t, int))                                                 \
  X(A, softmax_rows_kernel, void, (float*, std::size_t, std::size_t, std::size_t, const float*, std::size_t, int))            \
  X(A, layer_norm_kernel, void,                                                                                               \
    (const float*, const float*, float*, std::size_t, std::size_t, const float*, const float*, float, int))                   \
  X(A, gelu_kernel, void, (float*, std::size_t, ::shopml::gelu_form, int))                                                    \
  X(A, l2_normalize_kernel, void, (float*, std::size_t, std::size_t, int))                                                    \
  X(A, topk_kernel, void, (const float*, std::size_t, std::size_t, float*, std::uint32_t*))                                   \
  /* training (backend/kernels.hpp's training_kernel_set) */                                                                  \
  X(A, gemm_at_kernel, void,                                                                                                  \
    (std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, const float*, std::size_t, float, float*,       \
     std::size_t, int))                                                                                                       \
  X(A, gemm_at_batched_kernel, void,                                                                                          \
    (std::size_t, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, std::size_t, const float*,         \
     std::size_t, std::size_t, float, float*, std::size_t, std::size_t, int))                                                 \
  X(A, add_column_sums_kernel, void, (std::size_t, std::size_t, const float*, std::size_t, float*, int))                      \
  X(A, layer_norm_backward_kernel, void,                                                                                      \
    (const float*, const float*, const float*, std::size_t, std::size_t, float, float*, float*, float*, int))                 \
  X(A, gelu_backward_kernel, void, (const float*, float*, std::size_t, ::shopml::gelu_form, int))                             \
  X(A, softmax_backward_kernel, void, (const float*, float*, std::size_t, std::size_t, std::size_t, int))                     \
  X(A, tanh_kernel, void, (float*, std::size_t, int))                                                                         \
  X(A, tanh_backward_kernel, void, (const float*, float*, std::size_t, int))                                                  \
  X(A, dropout_kernel, void, (float*, std::size_t, float, std::uint64_t, std::size_t, int))                                   \
  X(A, scatter_add_rows_kernel, void,                                                                                         \
    (std::size_t, std::size_t, const float*, std::size_t, const std::int64_t*, float*, std::size_t, int))                     \
  X(A, mean_pool_kernel, void,                                                                                                \
    (std::size_t, std::size_t, const float*, std::size_t, const std::size_t*, const std::uint8_t*, float*, int))              \
  X(A, mean_pool_backward_kernel, void,                                                                                       \
    (std::size_t, std::size_t, const float*, const std::size_t*, const std::uint8_t*, float*, std::size_t, int))              \
  X(A, cross_entropy_kernel, double,                                                                                          \
    (std::size_t, std::size_t, const float*, std::size_t, const std::int64_t*, float, float*, int))                           \
  X(A, mse_kernel, double, (std::size_t, const float*, const float*, float, float*))                                          \
  X(A, sum_squares_kernel, double, (const float*, std::size_t, int))                                                          \
  X(A, scale_kernel, void, (float*, std::size_t, float, int))                                                                 \
  X(A, adamw_kernel, void, (std::size_t, float*, const float*, float*, float*, const ::shopml::scalar::adamw_factors&, int))

#define SHOPML_SIMD_UNPARENTHESISE(...) __VA_ARGS__
#define SHOPML_SIMD_INSTANTIATE_ONE(A, F, R, P) \
  template R ::shopml::simd::F::operator()<A>(A, SHOPML_SIMD_UNPARENTHESISE P) const;
#define SHOPML_SIMD_DECLARE_ONE(A, F, R, P) \
  extern template R ::shopml::simd::F::operator()<A>(A, SHOPML_SIMD_UNPARENTHESISE P) const;

// Explicit instantiation definitions for one architecture (in the ISA sources).
#define SHOPML_SIMD_INSTANTIATE(A) SHOPML_SIMD_KERNEL_LIST(SHOPML_SIMD_INSTANTIATE_ONE, A)
// Explicit instantiation declarations for one architecture (everywhere else).
#define SHOPML_SIMD_DECLARE(A) SHOPML_SIMD_KERNEL_LIST(SHOPML_SIMD_DECLARE_ONE, A)
