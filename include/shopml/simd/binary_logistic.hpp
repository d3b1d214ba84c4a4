#pragma once
// The half binomial loss of logistic regression over a block of rows, vectorised:
// with r = score[i] + intercept, y = target[i] in {0, 1} and s = weight[i] * weight_scale,
//
//   returns sum_i s * (log(1 + e^r) - y r),   residual[i] = s * (sigmoid(r) - y)
//
// in double precision from one exp and one log1p a row (xsimd's, within a few ulp of
// libm's; a scalar loop spends most of its time in those two calls). The stable form
// log(1 + e^r) = max(r, 0) + log1p(e^-|r|) never overflows.

#include <cstddef>

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

}  // namespace shopml::simd
