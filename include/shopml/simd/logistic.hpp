#pragma once
// The losses of logistic regression over a block of rows, vectorised across rows (a
// scalar loop spends most of its time in exp and log). First the half binomial loss:
// with r = score[i] + intercept, y = target[i] in {0, 1} and s = weight[i] * weight_scale,
//
//   returns sum_i s * (log(1 + e^r) - y r),   residual[i] = s * (sigmoid(r) - y)
//
// in double precision from one exp and one log1p a row (xsimd's, within a few ulp of
// libm's). The stable form
// log(1 + e^r) = max(r, 0) + log1p(e^-|r|) never overflows.

#include <cstddef>
#include <limits>
#include <vector>

#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct binary_logistic_kernel {
  template <class Arch>
  double operator()(Arch, std::size_t n, const float* score, double intercept, const int* target, const double* weight,
                    double weight_scale, float* residual) const;
};

template <class Arch>
double binary_logistic_kernel::operator()(Arch, std::size_t n, const float* score, double intercept, const int* target,
                                          const double* weight, double weight_scale, float* residual) const {
  using d = xsimd::batch<double, Arch>;
  constexpr std::size_t w = d::size;
  // Lanes are staged through small buffers (float and int inputs widen to double); the
  // tail is the same code on zero-weight padding, so every row sees the same formula.
  alignas(64) double r_buf[w], y_buf[w], s_buf[w], out_buf[w];
  d total(0.0);
  for (std::size_t i = 0; i < n; i += w) {
    const std::size_t lanes = n - i < w ? n - i : w;
    for (std::size_t l = 0; l < w; ++l) {
      const bool live = l < lanes;
      r_buf[l] = live ? static_cast<double>(score[i + l]) + intercept : 0.0;
      y_buf[l] = live ? static_cast<double>(target[i + l]) : 0.0;
      s_buf[l] = live ? weight[i + l] * weight_scale : 0.0;
    }
    const d r = d::load_aligned(r_buf), y = d::load_aligned(y_buf), s = d::load_aligned(s_buf);
    const d e = xsimd::exp(-xsimd::abs(r));
    const d p = xsimd::select(r >= d(0.0), d(1.0), e) / (d(1.0) + e);
    total += s * (xsimd::max(r, d(0.0)) + xsimd::log1p(e) - y * r);
    (s * (p - y)).store_aligned(out_buf);
    for (std::size_t l = 0; l < lanes; ++l) residual[i + l] = static_cast<float>(out_buf[l]);
  }
  return xsimd::hadd(total);
}

// Then the half multinomial loss for k classes: with r_c = score[c * lds + i] + intercept[c]
// (scores transposed, k × rows), y = target[i] and s = weight[i] * weight_scale,
//
//   returns sum_i s * (logsumexp(r) - r_y),   residual[c * lds + i] = s * (softmax(r)_c - [c = y])
//
// max-subtracted, in double precision, one row per lane.
struct multinomial_logistic_kernel {
  template <class Arch>
  double operator()(Arch, std::size_t n, std::size_t k, const float* score, std::size_t lds, const double* intercept,
                    const int* target, const double* weight, double weight_scale, float* residual) const;
};

template <class Arch>
double multinomial_logistic_kernel::operator()(Arch, std::size_t n, std::size_t k, const float* score, std::size_t lds,
                                               const double* intercept, const int* target, const double* weight,
                                               double weight_scale, float* residual) const {
  using d = xsimd::batch<double, Arch>;
  constexpr std::size_t w = d::size;
  alignas(64) double buf[w], y_buf[w], s_buf[w];
  std::vector<d> r(k);
  d total(0.0);
  for (std::size_t i = 0; i < n; i += w) {
    const std::size_t lanes = n - i < w ? n - i : w;
    for (std::size_t l = 0; l < w; ++l) {
      y_buf[l] = l < lanes ? static_cast<double>(target[i + l]) : 0.0;
      s_buf[l] = l < lanes ? weight[i + l] * weight_scale : 0.0;
    }
    const d y = d::load_aligned(y_buf), s = d::load_aligned(s_buf);
    d top(-std::numeric_limits<double>::infinity()), raw_y(0.0);
    for (std::size_t c = 0; c < k; ++c) {
      for (std::size_t l = 0; l < w; ++l) buf[l] = l < lanes ? static_cast<double>(score[c * lds + i + l]) + intercept[c] : 0.0;
      r[c] = d::load_aligned(buf);
      top = xsimd::max(top, r[c]);
      raw_y = xsimd::select(y == d(static_cast<double>(c)), r[c], raw_y);
    }
    d sum(0.0);
    for (std::size_t c = 0; c < k; ++c) {
      r[c] = xsimd::exp(r[c] - top);
      sum += r[c];
    }
    total += s * (top + xsimd::log(sum) - raw_y);
    for (std::size_t c = 0; c < k; ++c) {
      const d onehot = xsimd::select(y == d(static_cast<double>(c)), d(1.0), d(0.0));
      (s * (r[c] / sum - onehot)).store_aligned(buf);
      for (std::size_t l = 0; l < lanes; ++l) residual[c * lds + i + l] = static_cast<float>(buf[l]);
    }
  }
  return xsimd::hadd(total);
}

}  // namespace shopml::simd
