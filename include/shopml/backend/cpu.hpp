#pragma once
// kernels<cpu>: baseline implementation of the backend boundary.
// (The SIMD/OpenMP kernels replace these loops one family at a time; the
// semantics documented in backend/kernels.hpp do not change.)

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "shopml/backend/kernels.hpp"
#include "shopml/kernels/scalar.hpp"
#include "shopml/parallel.hpp"

namespace shopml {

template <>
struct kernels<cpu> {
  static float dot(const float* x, const float* y, std::size_t n) {
    float s = 0.0f;
    for (std::size_t i = 0; i < n; ++i) s += x[i] * y[i];
    return s;
  }

  static void axpy(std::size_t n, float a, const float* x, float* y) {
    for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
  }

  static void gemm(bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
                   const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta,
                   float* c, std::size_t ldc, const float* bias, int threads) {
    parallel_for(0, static_cast<std::ptrdiff_t>(m), threads, [&](std::ptrdiff_t i) {
      float* crow = c + i * ldc;
      const float* arow = a + i * lda;
      for (std::size_t j = 0; j < n; ++j) {
        float s = 0.0f;
        for (std::size_t p = 0; p < k; ++p) s += arow[p] * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
        const float prior = beta == 0.0f ? 0.0f : beta * crow[j];
        crow[j] = alpha * s + prior + (bias ? bias[j] : 0.0f);
      }
    });
  }

  static void gemm_batched(bool trans_b, std::size_t batch, std::size_t m, std::size_t n,
                           std::size_t k, float alpha, const float* a, std::size_t lda,
                           std::size_t stride_a, const float* b, std::size_t ldb,
                           std::size_t stride_b, float beta, float* c, std::size_t ldc,
                           std::size_t stride_c, int threads) {
    parallel_for(0, static_cast<std::ptrdiff_t>(batch), threads, [&](std::ptrdiff_t i) {
      gemm(trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
           c + i * stride_c, ldc, nullptr, 1);
    });
  }

  static void softmax_rows(float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                           const float* mask, std::size_t rows_per_mask, int threads) {
    parallel_for(0, static_cast<std::ptrdiff_t>(rows), threads, [&](std::ptrdiff_t r) {
      float* row = x + r * ld;
      const float* m = mask ? mask + (r / rows_per_mask) * cols : nullptr;
      float mx = -std::numeric_limits<float>::infinity();
      for (std::size_t j = 0; j < cols; ++j) {
        if (m) row[j] += m[j];
        mx = std::max(mx, row[j]);
      }
      if (mx == -std::numeric_limits<float>::infinity()) {
        std::fill(row, row + cols, 0.0f);
        return;
      }
      float sum = 0.0f;
      for (std::size_t j = 0; j < cols; ++j) sum += row[j] = std::exp(row[j] - mx);
      for (std::size_t j = 0; j < cols; ++j) row[j] /= sum;
    });
  }

  static void layer_norm(const float* x, const float* residual, float* y, std::size_t rows,
                         std::size_t cols, const float* gamma, const float* beta, float eps,
                         int threads) {
    parallel_for(0, static_cast<std::ptrdiff_t>(rows), threads, [&](std::ptrdiff_t r) {
      const float* in = x + r * cols;
      const float* res = residual ? residual + r * cols : nullptr;
      float* out = y + r * cols;
      float mean = 0.0f;
      for (std::size_t j = 0; j < cols; ++j) mean += out[j] = in[j] + (res ? res[j] : 0.0f);
      mean /= static_cast<float>(cols);
      float var = 0.0f;
      for (std::size_t j = 0; j < cols; ++j) var += (out[j] - mean) * (out[j] - mean);
      const float inv = 1.0f / std::sqrt(var / static_cast<float>(cols) + eps);
      for (std::size_t j = 0; j < cols; ++j) out[j] = (out[j] - mean) * inv * gamma[j] + beta[j];
    });
  }

  static void gelu(float* x, std::size_t n, gelu_form form, int threads) {
    parallel_for(0, static_cast<std::ptrdiff_t>(n), threads, [&](std::ptrdiff_t i) {
      x[i] = form == gelu_form::erf ? scalar::gelu_erf(x[i]) : scalar::gelu_tanh(x[i]);
    });
  }

  static void l2_normalize(float* x, std::size_t rows, std::size_t cols, int threads) {
    parallel_for(0, static_cast<std::ptrdiff_t>(rows), threads, [&](std::ptrdiff_t r) {
      float* row = x + r * cols;
      const float norm = std::max(std::sqrt(dot(row, row, cols)), 1e-12f);
      for (std::size_t j = 0; j < cols; ++j) row[j] /= norm;
    });
  }

  static void topk(const float* x, std::size_t n, std::size_t k, float* values,
                   std::uint32_t* indices) {
    k = std::min(k, n);
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    auto better = [x](std::uint32_t i, std::uint32_t j) {
      if (std::isnan(x[i]) || std::isnan(x[j])) return !std::isnan(x[i]) && std::isnan(x[j]) ? true : (std::isnan(x[i]) == std::isnan(x[j]) && i < j);
      return x[i] > x[j] || (x[i] == x[j] && i < j);
    };
    std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
    for (std::size_t i = 0; i < k; ++i) {
      values[i] = x[order[i]];
      indices[i] = order[i];
    }
  }
};

static_assert(kernel_set<kernels<cpu>>);

}  // namespace shopml
