// The training kernels (backend/kernels.hpp's training_kernel_set):
//  (a) each backward formula, written once as a scalar reference templated on T,
//      against central finite differences in double (L = Σ out ⊙ R for the
//      operations with many outputs, as llm.c's tests do);
//  (b) each SIMD functor against those references on every ISA explicitly, with
//      sizes that leave tails, leading dimensions wider than the rows and
//      unaligned pointers;
//  (c) bitwise equal results for 1 and 2 threads;
//  (d) dropout's mask: Philox known answers, the fraction dropped, the same mask
//      for the same key and offset, suffixes, p = 0;
//  (e) AdamW against the scalar formula for three steps.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "reference.hpp"
#include "shopml/backend/cpu.hpp"

namespace {

using shopml::test::random_floats;
using shopml::test::same_bits;
namespace scalar = shopml::scalar;
namespace simd = shopml::simd;
using K = shopml::kernels<shopml::cpu>;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

std::vector<double> random_doubles(std::size_t n, std::uint32_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

// |a - b| relative to the larger magnitude, with a floor for values near 0.
double rel_err(double a, double b, double floor = 1e-2) { return std::abs(a - b) / std::max({std::abs(a), std::abs(b), floor}); }

// Central difference of f at x[i] (restored afterwards).
template <class F>
double central_difference(F f, std::vector<double>& x, std::size_t i, double h = 1e-6) {
  const double x0 = x[i];
  x[i] = x0 + h;
  const double up = f();
  x[i] = x0 - h;
  const double down = f();
  x[i] = x0;
  return (up - down) / (2 * h);
}

// ---- Scalar references, templated on T ------------------------------------

// y = LayerNorm(x) * gamma + beta per row.
template <class T>
void ref_layer_norm(const T* x, const T* gamma, const T* beta, std::size_t rows, std::size_t cols, T eps, T* y) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* in = x + r * cols;
    T mean = 0, var = 0;
    for (std::size_t j = 0; j < cols; ++j) mean += in[j];
    mean /= T(cols);
    for (std::size_t j = 0; j < cols; ++j) var += (in[j] - mean) * (in[j] - mean);
    const T rstd = T(1) / std::sqrt(var / T(cols) + eps);
    for (std::size_t j = 0; j < cols; ++j) y[r * cols + j] = (in[j] - mean) * rstd * gamma[j] + beta[j];
  }
}

// Its backward pass: dx = rstd (g - mean(g) - x̂ mean(g x̂)), dgamma += Σ dy x̂, dbeta += Σ dy.
// Also returns, per element of dx, the magnitude its rounding error scales with.
template <class T>
void ref_layer_norm_backward(const T* dy, const T* x, const T* gamma, std::size_t rows, std::size_t cols, T eps, T* dx, T* dgamma,
                             T* dbeta, T* dx_scale = nullptr) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* in = x + r * cols;
    const T* d = dy + r * cols;
    T mean = 0, var = 0;
    for (std::size_t j = 0; j < cols; ++j) mean += in[j];
    mean /= T(cols);
    for (std::size_t j = 0; j < cols; ++j) var += (in[j] - mean) * (in[j] - mean);
    const T rstd = T(1) / std::sqrt(var / T(cols) + eps);
    T mean_g = 0, mean_gx = 0, mag_g = 0, mag_gx = 0;
    for (std::size_t j = 0; j < cols; ++j) {
      const T xhat = (in[j] - mean) * rstd, g = d[j] * gamma[j];
      mean_g += g;
      mean_gx += g * xhat;
      mag_g += std::abs(g);
      mag_gx += std::abs(g * xhat);
      dgamma[j] += d[j] * xhat;
      dbeta[j] += d[j];
    }
    mean_g /= T(cols);
    mean_gx /= T(cols);
    for (std::size_t j = 0; j < cols; ++j) {
      const T xhat = (in[j] - mean) * rstd, g = d[j] * gamma[j];
      dx[r * cols + j] = rstd * (g - mean_g - xhat * mean_gx);
      if (dx_scale) dx_scale[r * cols + j] = rstd * (std::abs(g) + mag_g / T(cols) + (std::abs(xhat) + 1) * (mag_gx / T(cols)));
    }
  }
}

template <class T>
void ref_softmax(const T* x, std::size_t cols, T* p) {
  T mx = x[0];
  for (std::size_t j = 1; j < cols; ++j) mx = std::max(mx, x[j]);
  T sum = 0;
  for (std::size_t j = 0; j < cols; ++j) sum += p[j] = std::exp(x[j] - mx);
  for (std::size_t j = 0; j < cols; ++j) p[j] /= sum;
}

// dp = p ⊙ (dp - Σ dp p), one row.
template <class T>
void ref_softmax_backward(const T* p, const T* dp, std::size_t cols, T* dx) {
  T dot = 0;
  for (std::size_t j = 0; j < cols; ++j) dot += dp[j] * p[j];
  for (std::size_t j = 0; j < cols; ++j) dx[j] = p[j] * (dp[j] - dot);
}

// Σ over kept rows of log Σ exp(x) - x[label]; d = scale (softmax - onehot), 0 on ignored rows.
template <class T>
T ref_cross_entropy(std::size_t rows, std::size_t classes, const T* x, std::size_t ld, const std::int64_t* labels, T scale,
                    T* d) {
  T loss = 0;
  std::vector<T> p(classes);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * ld;
    if (labels[r] == -100) {
      if (d)
        for (std::size_t j = 0; j < classes; ++j) d[r * ld + j] = 0;
      continue;
    }
    const auto y = static_cast<std::size_t>(labels[r]);
    T mx = row[0];
    for (std::size_t j = 1; j < classes; ++j) mx = std::max(mx, row[j]);
    T sum = 0;
    for (std::size_t j = 0; j < classes; ++j) sum += std::exp(row[j] - mx);
    loss += mx + std::log(sum) - row[y];
    if (d)
      for (std::size_t j = 0; j < classes; ++j) d[r * ld + j] = scale * (std::exp(row[j] - mx) / sum - (j == y ? T(1) : T(0)));
  }
  return loss;
}

template <class T>
T ref_mse(std::size_t n, const T* pred, const T* target, T scale, T* d) {
  T loss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    loss += (pred[i] - target[i]) * (pred[i] - target[i]);
    if (d) d[i] = T(2) * scale * (pred[i] - target[i]);
  }
  return loss;
}

// Σ out ⊙ R for random R: one scalar whose gradient w.r.t. out is R.
double weighted_sum(const std::vector<double>& out, const std::vector<double>& r) {
  return std::inner_product(out.begin(), out.end(), r.begin(), 0.0);
}

}  // namespace

// ---- (a) backward formulas against finite differences (double) --------------

TEST_CASE("finite differences: GELU (erf and tanh) and tanh derivatives") {
  auto xs = random_doubles(200, 1, -6.0, 6.0);
  for (double x : {0.0, -0.75, 0.5, 1e-3, -3.0, 4.0}) xs.push_back(x);
  for (double x0 : xs) {
    CAPTURE(x0);
    std::vector<double> x{x0};
    const double fd_erf = central_difference([&] { return scalar::gelu_erf(x[0]); }, x, 0);
    const double fd_tanh = central_difference([&] { return scalar::gelu_tanh(x[0]); }, x, 0);
    const double fd_th = central_difference([&] { return std::tanh(x[0]); }, x, 0);
    REQUIRE(rel_err(scalar::gelu_erf_grad(x0), fd_erf) <= 1e-6);
    REQUIRE(rel_err(scalar::gelu_tanh_grad(x0), fd_tanh) <= 1e-6);
    REQUIRE(rel_err(scalar::tanh_grad(std::tanh(x0)), fd_th) <= 1e-6);
  }
}

TEST_CASE("finite differences: LayerNorm backward (dx, dgamma, dbeta)") {
  const std::size_t rows = 3, cols = 7;
  const double eps = 1e-5;
  auto x = random_doubles(rows * cols, 2, -2.0, 2.0), gamma = random_doubles(cols, 3, 0.5, 1.5), beta = random_doubles(cols, 4);
  const auto r = random_doubles(rows * cols, 5);
  auto loss = [&] {
    std::vector<double> y(rows * cols);
    ref_layer_norm(x.data(), gamma.data(), beta.data(), rows, cols, eps, y.data());
    return weighted_sum(y, r);
  };
  std::vector<double> dx(rows * cols), dgamma(cols, 0.0), dbeta(cols, 0.0);
  ref_layer_norm_backward(r.data(), x.data(), gamma.data(), rows, cols, eps, dx.data(), dgamma.data(), dbeta.data());
  for (std::size_t i = 0; i < rows * cols; ++i) REQUIRE(rel_err(dx[i], central_difference(loss, x, i)) <= 1e-6);
  for (std::size_t j = 0; j < cols; ++j) {
    REQUIRE(rel_err(dgamma[j], central_difference(loss, gamma, j)) <= 1e-6);
    REQUIRE(rel_err(dbeta[j], central_difference(loss, beta, j)) <= 1e-6);
  }
}

TEST_CASE("finite differences: softmax backward") {
  const std::size_t cols = 9;
  auto x = random_doubles(cols, 6, -3.0, 3.0);
  const auto r = random_doubles(cols, 7);
  auto loss = [&] {
    std::vector<double> p(cols);
    ref_softmax(x.data(), cols, p.data());
    return weighted_sum(p, r);
  };
  std::vector<double> p(cols), dx(cols);
  ref_softmax(x.data(), cols, p.data());
  ref_softmax_backward(p.data(), r.data(), cols, dx.data());
  for (std::size_t j = 0; j < cols; ++j) REQUIRE(rel_err(dx[j], central_difference(loss, x, j)) <= 1e-6);
}

TEST_CASE("finite differences: cross-entropy and MSE gradients") {
  const std::size_t rows = 4, classes = 6, ld = 8;
  const double scale = 0.25;
  auto x = random_doubles(rows * ld, 8, -4.0, 4.0);
  const std::int64_t labels[rows] = {2, -100, 5, 0};
  std::vector<double> d(rows * ld, 0.0);
  ref_cross_entropy(rows, classes, x.data(), ld, labels, scale, d.data());
  auto ce = [&] { return scale * ref_cross_entropy<double>(rows, classes, x.data(), ld, labels, scale, nullptr); };
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < classes; ++j) {
      const double fd = central_difference(ce, x, r * ld + j);
      if (labels[r] == -100) REQUIRE(d[r * ld + j] == 0.0);
      REQUIRE(rel_err(d[r * ld + j], fd) <= 1e-6);
    }

  const std::size_t n = 11;
  auto pred = random_doubles(n, 9), target = random_doubles(n, 10);
  std::vector<double> dp(n);
  ref_mse(n, pred.data(), target.data(), scale, dp.data());
  auto mse = [&] { return scale * ref_mse<double>(n, pred.data(), target.data(), scale, nullptr); };
  for (std::size_t i = 0; i < n; ++i) REQUIRE(rel_err(dp[i], central_difference(mse, pred, i)) <= 1e-6);
}

// ---- (b) SIMD functors against the references, every ISA -------------------

namespace {

// A stored k × m, transposed into an m × k copy (row-major, lda = k).
std::vector<float> transpose(const float* a, std::size_t lda, std::size_t k, std::size_t m) {
  std::vector<float> t(m * k);
  for (std::size_t p = 0; p < k; ++p)
    for (std::size_t i = 0; i < m; ++i) t[i * k + p] = a[p * lda + i];
  return t;
}

}  // namespace

TEST_CASE_TEMPLATE("gemm_at matches a double reference and gemm on the transposed copy, bit for bit", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  const std::size_t shapes[][3] = {{1, 1, 1},      {1, 37, 19},   {1, 70, 1600}, {2, 3, 4},     {7, 33, 17},
                                   {13, 65, 300},  {33, 47, 513}, {6, 16, 5},    {100, 70, 64}, {3, 33, 1600},
                                   {20, 70, 3100}, {4, 5, 0},     {0, 5, 3},     {5, 0, 3}};
  struct coeffs {
    float alpha, beta;
  };
  for (const auto& s : shapes)
    for (const coeffs co : {coeffs{1.0f, 0.0f}, coeffs{0.5f, 2.0f}, coeffs{-1.0f, 1.0f}}) {
      const std::size_t m = s[0], n = s[1], k = s[2];
      CAPTURE(m);
      CAPTURE(n);
      CAPTURE(k);
      CAPTURE(co.alpha);
      CAPTURE(co.beta);
      const std::size_t lda = m + 3, ldb = n + 2, ldc = n + 5;
      const auto a = random_floats(k * lda + 1, 11), b = random_floats(k * ldb + 1, 12);
      auto c = random_floats(m * ldc + 1, 13);
      if (co.beta == 0.0f)
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t j = 0; j < n; ++j) c[1 + i * ldc + j] = qnan;  // never read
      const auto c0 = c;
      simd::gemm_at_kernel{}(Arch{}, m, n, k, co.alpha, a.data() + 1, lda, b.data() + 1, ldb, co.beta, c.data() + 1, ldc, 1);
      const auto at = transpose(a.data() + 1, lda, k, m);
      const auto ref = shopml::test::reference_gemm(false, m, n, k, co.alpha, at.data(), k, b.data() + 1, ldb, co.beta,
                                                    c0.data() + 1, ldc, nullptr);
      auto c_gemm = c0;
      simd::gemm_kernel{}(Arch{}, false, m, n, k, co.alpha, at.data(), k, b.data() + 1, ldb, co.beta, c_gemm.data() + 1, ldc,
                          nullptr, 1);
      REQUIRE(same_bits(c, c_gemm));
      REQUIRE(c[0] == c0[0]);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          const double tol = 1e-6 * (ref.scale[i * n + j] + 1.0) * (1.0 + std::sqrt(double(k)));
          REQUIRE(std::abs(c[1 + i * ldc + j] - ref.value[i * n + j]) <= tol);
        }
        for (std::size_t j = n; j < ldc && 1 + i * ldc + j < c.size(); ++j) REQUIRE(c[1 + i * ldc + j] == c0[1 + i * ldc + j]);
      }
    }
}

TEST_CASE_TEMPLATE("gemm_at_batched computes each strided problem", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  const std::size_t batch = 3, m = 9, n = 13, k = 21, lda = m + 1, ldb = n + 2, ldc = n + 3;
  const std::size_t sa = k * lda + 5, sb = k * ldb + 7, sc = m * ldc + 2;
  const auto a = random_floats(batch * sa, 14), b = random_floats(batch * sb, 15);
  const auto c0 = random_floats(batch * sc, 16);
  for (std::size_t count : {std::size_t{1}, batch}) {
    auto c = c0, want = c0;
    simd::gemm_at_batched_kernel{}(Arch{}, count, m, n, k, 0.5f, a.data(), lda, sa, b.data(), ldb, sb, 1.0f, c.data(), ldc, sc,
                                   2);
    for (std::size_t i = 0; i < count; ++i)
      simd::gemm_at_kernel{}(Arch{}, m, n, k, 0.5f, a.data() + i * sa, lda, b.data() + i * sb, ldb, 1.0f, want.data() + i * sc,
                             ldc, 1);
    REQUIRE(same_bits(c, want));
  }
}

TEST_CASE_TEMPLATE("add_column_sums", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t rows : {0, 1, 5, 64, 65, 300})
    for (std::size_t cols : {0, 1, 7, 16, 17, 33, 100, 257}) {
      CAPTURE(rows);
      CAPTURE(cols);
      const std::size_t ld = cols + 3;
      const auto x = random_floats(rows * ld + 1, 17);
      const auto s0 = random_floats(cols + 2, 18);
      auto s = s0;
      simd::add_column_sums_kernel{}(Arch{}, rows, cols, x.data() + 1, ld, s.data() + 1, 1);
      REQUIRE(s[0] == s0[0]);
      REQUIRE(s[cols + 1] == s0[cols + 1]);
      for (std::size_t j = 0; j < cols; ++j) {
        double want = s0[j + 1], mag = std::abs(s0[j + 1]);
        for (std::size_t i = 0; i < rows; ++i) want += x[1 + i * ld + j], mag += std::abs(x[1 + i * ld + j]);
        REQUIRE(std::abs(s[j + 1] - want) <= 4e-6 * mag + 1e-7);
      }
    }
}

TEST_CASE_TEMPLATE("layer_norm_backward", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t cols : {1, 2, 7, 16, 17, 100, 385})
    for (float eps : {1e-5f, 1e-12f}) {
      const std::size_t rows = 37;  // two blocks of partial sums
      CAPTURE(cols);
      CAPTURE(eps);
      auto x = random_floats(rows * cols, 19, -2.0f, 2.0f);
      for (std::size_t j = 0; j < cols; ++j) x[j] += 3.0f;  // an offset row
      const auto dy = random_floats(rows * cols, 20), gamma = random_floats(cols, 21, 0.5f, 1.5f);
      const auto dg0 = random_floats(cols, 22), db0 = random_floats(cols, 23);
      std::vector<float> dx(rows * cols, qnan);
      auto dg = dg0, db = db0;
      simd::layer_norm_backward_kernel{}(Arch{}, dy.data(), x.data(), gamma.data(), rows, cols, eps, dx.data(), dg.data(),
                                         db.data(), 1);

      const std::vector<double> xd(x.begin(), x.end()), dyd(dy.begin(), dy.end()), gd(gamma.begin(), gamma.end());
      std::vector<double> want(rows * cols), scale(rows * cols), wg(cols, 0.0), wb(cols, 0.0);
      ref_layer_norm_backward(dyd.data(), xd.data(), gd.data(), rows, cols, double(eps), want.data(), wg.data(), wb.data(),
                              scale.data());
      for (std::size_t i = 0; i < rows * cols; ++i) REQUIRE(std::abs(dx[i] - want[i]) <= 2e-5 * scale[i] + 1e-30);
      for (std::size_t j = 0; j < cols; ++j) {
        double mg = std::abs(dg0[j]), mb = std::abs(db0[j]);
        for (std::size_t r = 0; r < rows; ++r) mg += 4 * std::abs(dy[r * cols + j]), mb += std::abs(dy[r * cols + j]);
        REQUIRE(std::abs(dg[j] - (dg0[j] + wg[j])) <= 1e-5 * mg + 1e-7);
        REQUIRE(std::abs(db[j] - (db0[j] + wb[j])) <= 4e-6 * mb + 1e-7);
      }

      // dx may be dy itself.
      auto inplace = dy;
      auto dg2 = dg0, db2 = db0;
      simd::layer_norm_backward_kernel{}(Arch{}, inplace.data(), x.data(), gamma.data(), rows, cols, eps, inplace.data(),
                                         dg2.data(), db2.data(), 1);
      REQUIRE(same_bits(inplace, dx));
      REQUIRE(same_bits(dg2, dg));
      REQUIRE(same_bits(db2, db));
    }
}

TEST_CASE_TEMPLATE("gelu_backward, both forms", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : {0, 1, 3, 8, 17, 100, 4097, 5000}) {
    CAPTURE(n);
    auto x = random_floats(n + 1, 24, -8.0f, 8.0f);
    if (n > 6) x[1] = 0.0f, x[2] = -0.75f, x[3] = 30.0f, x[4] = -30.0f, x[5] = 1e-20f, x[6] = -5.5f;
    const auto dy0 = random_floats(n + 2, 25, -2.0f, 2.0f);
    for (auto form : {shopml::gelu_form::erf, shopml::gelu_form::tanh}) {
      auto dy = dy0;
      simd::gelu_backward_kernel{}(Arch{}, x.data() + 1, dy.data() + 1, n, form, 1);
      REQUIRE(dy[0] == dy0[0]);
      REQUIRE(dy[n + 1] == dy0[n + 1]);
      for (std::size_t i = 1; i <= n; ++i) {
        const double v = x[i];
        double want, mag;
        if (form == shopml::gelu_form::erf) {
          // (1 + erf) cancels for x << 0: its error scales with 1, not with the result.
          const double e = std::erf(v / std::sqrt(2.0)), xpdf = v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
          want = 0.5 * (1.0 + e) + xpdf, mag = 0.5 * (1.0 + std::abs(e)) + std::abs(xpdf);
        } else {
          const double k = std::sqrt(2 / M_PI), c = 0.044715, t = std::tanh(k * (v + c * v * v * v));
          const double left = 0.5 * (1 + t), right = 0.5 * v * (1 - t * t) * k * (1 + 3 * c * v * v);
          want = left + right, mag = 0.5 * (1 + std::abs(t)) + std::abs(right) * (1 + 4 * std::abs(v));
        }
        REQUIRE(std::abs(dy[i] - dy0[i] * want) <= 4e-6 * std::abs(dy0[i]) * mag + 1e-30);
      }
    }
  }
}

TEST_CASE_TEMPLATE("softmax_backward", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t cols : {1, 2, 7, 16, 17, 63, 200}) {
    CAPTURE(cols);
    const std::size_t rows = 5, ld = cols + 3;
    auto p = random_floats(rows * ld, 26, -3.0f, 3.0f);
    for (std::size_t r = 0; r < rows; ++r) {
      std::vector<double> row(p.begin() + r * ld, p.begin() + r * ld + cols), out(cols);
      ref_softmax(row.data(), cols, out.data());
      for (std::size_t j = 0; j < cols; ++j) p[r * ld + j] = static_cast<float>(out[j]);
    }
    const auto dp0 = random_floats(rows * ld, 27);
    auto dp = dp0;
    simd::softmax_backward_kernel{}(Arch{}, p.data(), dp.data(), rows, cols, ld, 1);
    for (std::size_t r = 0; r < rows; ++r) {
      std::vector<double> pr(p.begin() + r * ld, p.begin() + r * ld + cols),
          dr(dp0.begin() + r * ld, dp0.begin() + r * ld + cols), want(cols);
      ref_softmax_backward(pr.data(), dr.data(), cols, want.data());
      double dot_mag = 0;
      for (std::size_t j = 0; j < cols; ++j) dot_mag += std::abs(pr[j] * dr[j]);
      for (std::size_t j = 0; j < cols; ++j)
        REQUIRE(std::abs(dp[r * ld + j] - want[j]) <= 2e-6 * pr[j] * (std::abs(dr[j]) + dot_mag) + 1e-30);
      for (std::size_t j = cols; j < ld; ++j) REQUIRE(dp[r * ld + j] == dp0[r * ld + j]);
    }
  }
}

TEST_CASE_TEMPLATE("tanh and tanh_backward", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : {0, 1, 5, 16, 33, 4100}) {
    CAPTURE(n);
    auto x = random_floats(n + 2, 28, -5.0f, 5.0f);
    if (n > 4) x[1] = 0.0f, x[2] = 1e-6f, x[3] = 20.0f, x[4] = -20.0f;
    const auto x0 = x;
    simd::tanh_kernel{}(Arch{}, x.data() + 1, n, 1);
    REQUIRE(x[0] == x0[0]);
    REQUIRE(x[n + 1] == x0[n + 1]);
    for (std::size_t i = 1; i <= n; ++i)
      REQUIRE(std::abs(x[i] - std::tanh(double(x0[i]))) <= 1e-6 * std::abs(std::tanh(double(x0[i]))) + 1e-38);

    const auto dy0 = random_floats(n + 2, 29);
    auto dy = dy0;
    simd::tanh_backward_kernel{}(Arch{}, x.data() + 1, dy.data() + 1, n, 1);
    REQUIRE(dy[n + 1] == dy0[n + 1]);
    for (std::size_t i = 1; i <= n; ++i) {
      const double y = x[i];
      REQUIRE(std::abs(dy[i] - dy0[i] * (1 - y * y)) <= 2.5e-7 * std::abs(dy0[i]) * (1 + y * y));
    }
  }
}

TEST_CASE("Philox-4x32-10 known answers (Random123 kat_vectors)") {
  struct kat {
    std::uint32_t ctr[4], key[2], out[4];
  };
  const kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& t : kats) {
    std::uint32_t c[4] = {t.ctr[0], t.ctr[1], t.ctr[2], t.ctr[3]};
    scalar::philox4x32_10(c, t.key[0], t.key[1]);
    for (int i = 0; i < 4; ++i) CHECK(c[i] == t.out[i]);
  }
  // dropout_keep reads the counter index / 4 and word index % 4 of key (low word, high word).
  const std::uint64_t key = 0x299f31d0a4093822ull;
  for (std::uint64_t index : {0ull, 1ull, 6ull, 0x123456789ull}) {
    std::uint32_t c[4] = {static_cast<std::uint32_t>(index / 4), static_cast<std::uint32_t>((index / 4) >> 32), 0, 0};
    scalar::philox4x32_10(c, 0xa4093822u, 0x299f31d0u);
    const float u = float(c[index % 4] >> 8) / 16777216.0f;
    CHECK(scalar::dropout_keep(key, index, 0.5f) == (u >= 0.5f));
    CHECK(scalar::dropout_keep(key, index, u) == true);
    CHECK(scalar::dropout_keep(key, index, std::nextafter(u, 2.0f)) == false);
  }
}

TEST_CASE_TEMPLATE("dropout equals scalar::dropout_keep element by element", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  const std::uint64_t key = 0x0123456789abcdefull;
  // Offsets that are not multiples of 4, and counters whose low word wraps inside a batch.
  const std::uint64_t firsts[] = {0, 1, 3, 6, 4 * 0xFFFFFFFDull + 2, (std::uint64_t{1} << 40) + 5};
  for (std::size_t n : {1, 2, 5, 16, 63, 64, 65, 257, 1000})
    for (std::uint64_t first : firsts)
      for (float p : {0.1f, 0.5f, 1.0f}) {
        CAPTURE(n);
        CAPTURE(first);
        CAPTURE(p);
        auto x = random_floats(n + 2, 30);
        x[1] = qnan;  // dropped NaNs become 0, kept ones stay NaN
        const auto x0 = x;
        simd::dropout_kernel{}(Arch{}, x.data() + 1, n, p, key, first, 1);
        REQUIRE(x[0] == x0[0]);
        REQUIRE(x[n + 1] == x0[n + 1]);
        for (std::size_t i = 0; i < n; ++i) {
          const float want = scalar::dropout_keep(key, first + i, p) ? x0[i + 1] / (1.0f - p) : 0.0f;
          REQUIRE(std::bit_cast<std::uint32_t>(x[i + 1]) == std::bit_cast<std::uint32_t>(want));
        }
      }
}

TEST_CASE_TEMPLATE("dropout: mask fraction, same key same mask, suffixes, p = 0", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  const std::size_t n = 1'000'000;
  const std::vector<float> ones(n, 1.0f);
  for (float p : {0.1f, 0.5f}) {
    auto x = ones;
    simd::dropout_kernel{}(Arch{}, x.data(), n, p, 42, 0, 2);
    const auto dropped = static_cast<double>(std::count(x.begin(), x.end(), 0.0f));
    CHECK(std::abs(dropped / n - p) <= 5 * std::sqrt(p * (1 - p) / n));
    for (float v : x) REQUIRE((v == 0.0f || v == 1.0f / (1.0f - p)));

    auto again = ones;
    simd::dropout_kernel{}(Arch{}, again.data(), n, p, 42, 0, 1);
    REQUIRE(same_bits(x, again));
    auto other = ones;
    simd::dropout_kernel{}(Arch{}, other.data(), n, p, 43, 0, 1);
    REQUIRE(!same_bits(x, other));
  }

  const std::size_t m = 5000, first = 12345;
  const auto x0 = random_floats(m, 31);
  auto whole = x0;
  simd::dropout_kernel{}(Arch{}, whole.data(), m, 0.3f, 7, first, 1);
  for (std::size_t s : {1, 2, 3, 4, 77, 4096}) {
    auto suffix = std::vector<float>(x0.begin() + s, x0.end());
    simd::dropout_kernel{}(Arch{}, suffix.data(), m - s, 0.3f, 7, first + s, 1);
    REQUIRE(same_bits(suffix, std::vector<float>(whole.begin() + s, whole.end())));
  }

  auto x = x0;
  x[3] = qnan;
  const auto before = x;
  simd::dropout_kernel{}(Arch{}, x.data(), m, 0.0f, 7, 0, 1);
  REQUIRE(same_bits(x, before));
}

TEST_CASE_TEMPLATE("scatter_add_rows accumulates repeated indices in row order", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t cols : {1, 7, 16, 33, 100, 300}) {
    CAPTURE(cols);
    const std::size_t rows = 50, vocab = 11, ld = cols + 2, ldt = cols + 5;
    const auto x = random_floats(rows * ld, 32);
    std::vector<std::int64_t> index(rows);
    for (std::size_t r = 0; r < rows; ++r) index[r] = static_cast<std::int64_t>((r * 7) % vocab);
    const auto t0 = random_floats(vocab * ldt, 33);
    auto table = t0, want = t0;
    simd::scatter_add_rows_kernel{}(Arch{}, rows, cols, x.data(), ld, index.data(), table.data(), ldt, 1);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < cols; ++j) want[index[r] * ldt + j] += x[r * ld + j];
    REQUIRE(same_bits(table, want));
  }
}

// Segments of lengths 3, 1, 0 (empty), 7, 2 (all masked) and 5, a few masked rows inside.
struct pooling_case {
  std::vector<std::size_t> offsets{0, 3, 4, 4, 11, 13, 18};
  std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 0};
  std::size_t segments() const { return offsets.size() - 1; }
  std::size_t rows() const { return offsets.back(); }
  double count(std::size_t s) const {
    double c = 0;
    for (std::size_t t = offsets[s]; t < offsets[s + 1]; ++t) c += mask[t];
    return std::max(c, 1e-9);
  }
};

TEST_CASE_TEMPLATE("mean_pool: masked mean of each segment, and its backward", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  const pooling_case pc;
  for (std::size_t cols : {1, 7, 16, 33, 384}) {
    CAPTURE(cols);
    const std::size_t ld = cols + 3, S = pc.segments(), T = pc.rows();
    const auto x = random_floats(T * ld + 1, 70);
    std::vector<float> out(S * cols, qnan);
    simd::mean_pool_kernel{}(Arch{}, S, cols, x.data() + 1, ld, pc.offsets.data(), pc.mask.data(), out.data(), 1);
    for (std::size_t s = 0; s < S; ++s)
      for (std::size_t j = 0; j < cols; ++j) {
        double sum = 0;
        for (std::size_t t = pc.offsets[s]; t < pc.offsets[s + 1]; ++t)
          if (pc.mask[t]) sum += x[1 + t * ld + j];
        REQUIRE(std::abs(out[s * cols + j] - sum / pc.count(s)) <= 1e-6);
      }
    // The backward pass is the adjoint of the (linear) forward: <dout, pool(x)> = <backward(dout), x>,
    // and it writes every row (masked and padding-free rows alike).
    const auto dout = random_floats(S * cols, 71);
    std::vector<float> dx(T * ld, qnan);
    simd::mean_pool_backward_kernel{}(Arch{}, S, cols, dout.data(), pc.offsets.data(), pc.mask.data(), dx.data(), ld, 1);
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < S * cols; ++i) lhs += double(dout[i]) * out[i];
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t j = 0; j < cols; ++j) {
        REQUIRE(!std::isnan(dx[t * ld + j]));
        if (!pc.mask[t]) REQUIRE(dx[t * ld + j] == 0.0f);
        rhs += double(dx[t * ld + j]) * x[1 + t * ld + j];
      }
    REQUIRE(std::abs(lhs - rhs) <= 1e-5 * (1 + std::abs(lhs)));
  }
}

TEST_CASE_TEMPLATE("cross_entropy: loss and gradient", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t classes : {1, 2, 7, 16, 17, 100, 1000}) {
    CAPTURE(classes);
    const std::size_t rows = 9, ld = classes + 3;
    auto logits = random_floats(rows * ld, 34, -10.0f, 10.0f);
    if (classes > 1) logits[ld] = 1e4f, logits[ld + 1] = 1e4f - 2.0f;  // no overflow
    std::vector<std::int64_t> labels(rows);
    for (std::size_t r = 0; r < rows; ++r) labels[r] = static_cast<std::int64_t>((r * 5 + 1) % classes);
    labels[2] = labels[7] = -100;
    const float scale = 1.0f / 7.0f;
    std::vector<float> d(rows * ld, 5.0f);
    const double loss = simd::cross_entropy_kernel{}(Arch{}, rows, classes, logits.data(), ld, labels.data(), scale, d.data(), 1);
    const std::vector<double> xd(logits.begin(), logits.end());
    std::vector<double> want(rows * ld, 5.0);
    const double want_loss = ref_cross_entropy<double>(rows, classes, xd.data(), ld, labels.data(), double(scale), want.data());
    double mag = 0;
    for (std::size_t r = 0; r < rows; ++r)
      if (labels[r] != -100) mag += 1 + std::abs(*std::max_element(xd.begin() + r * ld, xd.begin() + r * ld + classes));
    REQUIRE(std::abs(loss - want_loss) <= 1e-6 * mag);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < classes; ++j) {
        // softmax - 1 on the label cancels in float: its error scales with scale * 1.
        const double w = want[r * ld + j];
        const double mag = std::abs(w) + (labels[r] == static_cast<std::int64_t>(j) ? scale : 0.0);
        REQUIRE(std::abs(d[r * ld + j] - w) <= 4e-6 * mag + 1e-30);
      }
      for (std::size_t j = classes; j < ld; ++j) REQUIRE(d[r * ld + j] == 5.0f);
    }

    // In place: the gradient overwrites the logits.
    auto inplace = logits;
    const double loss2 =
        simd::cross_entropy_kernel{}(Arch{}, rows, classes, inplace.data(), ld, labels.data(), scale, inplace.data(), 1);
    REQUIRE(loss2 == loss);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < classes; ++j) REQUIRE(inplace[r * ld + j] == d[r * ld + j]);
  }
}

TEST_CASE_TEMPLATE("mse", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : {0, 1, 7, 16, 33, 1000}) {
    CAPTURE(n);
    const auto pred = random_floats(n + 1, 35, -3.0f, 3.0f), target = random_floats(n + 1, 36, -3.0f, 3.0f);
    std::vector<float> d(n + 2, 9.0f);
    const float scale = 0.3f;
    const double loss = simd::mse_kernel{}(Arch{}, n, pred.data(), target.data(), scale, d.data());
    const std::vector<double> pd(pred.begin(), pred.end()), td(target.begin(), target.end());
    const double want = ref_mse<double>(n, pd.data(), td.data(), scale, nullptr);
    REQUIRE(std::abs(loss - want) <= 1e-12 * (want + 1));
    for (std::size_t i = 0; i < n; ++i) REQUIRE(d[i] == 2.0f * scale * (pred[i] - target[i]));
    REQUIRE(d[n] == 9.0f);
  }
}

TEST_CASE_TEMPLATE("sum_squares and scale", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : {0, 1, 7, 16, 65, 8191, 8193, 100000}) {
    CAPTURE(n);
    auto x = random_floats(n + 1, 37, -2.0f, 2.0f);
    double want = 0;
    for (std::size_t i = 1; i <= n; ++i) want += double(x[i]) * x[i];
    const double got = simd::sum_squares_kernel{}(Arch{}, x.data() + 1, n, 1);
    REQUIRE(std::abs(got - want) <= 1e-6 * want);

    const auto x0 = x;
    simd::scale_kernel{}(Arch{}, x.data() + 1, n, -0.37f, 1);
    REQUIRE(x[0] == x0[0]);
    for (std::size_t i = 1; i <= n; ++i) REQUIRE(x[i] == x0[i] * -0.37f);
  }
}

TEST_CASE_TEMPLATE("adamw follows the scalar formula for three steps", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : {1, 7, 16, 100, 4099}) {
    CAPTURE(n);
    auto param = random_floats(n, 38), m = std::vector<float>(n, 0.0f), v = std::vector<float>(n, 0.0f);
    shopml::adamw_step step{.lr = 2e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01};
    for (int t = 1; t <= 3; ++t) {
      CAPTURE(t);
      const auto grad = random_floats(n, 39 + t, -0.1f, 0.1f);
      step.bias_correction1 = 1.0 - std::pow(double(step.beta1), t);
      step.bias_correction2 = 1.0 - std::pow(double(step.beta2), t);
      const auto f = scalar::adamw_prepare(step.lr, step.beta1, step.beta2, step.eps, step.weight_decay, step.bias_correction1,
                                           step.bias_correction2);
      CHECK(f.neg_step_size == static_cast<float>(-(double(step.lr) / step.bias_correction1)));
      auto wp = param, wm = m, wv = v;
      for (std::size_t i = 0; i < n; ++i) scalar::adamw_update(wp[i], wm[i], wv[i], grad[i], f);
      simd::adamw_kernel{}(Arch{}, n, param.data(), grad.data(), m.data(), v.data(), f, 1);
      // Bit for bit: the kernel keeps the compiler from fusing products into sums.
      REQUIRE(same_bits(m, wm));
      REQUIRE(same_bits(v, wv));
      REQUIRE(same_bits(param, wp));
    }
  }
  // Against a double evaluation of the update, one step from a nonzero state.
  const float p0 = 0.3f, m0 = 0.01f, v0 = 1e-4f, g = -0.05f;
  float p = p0, m = m0, v = v0;
  const auto f = scalar::adamw_prepare(1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 1 - 0.9 * 0.9, 1 - 0.999 * 0.999);
  scalar::adamw_update(p, m, v, g, f);
  const double wm = m0 + (1 - 0.9) * (g - double(m0)), wv = 0.999 * v0 + (1 - 0.999) * double(g) * g;
  const double wp = p0 * (1 - 1e-3 * 0.1) - 1e-3 / (1 - 0.81) * wm / (std::sqrt(wv) / std::sqrt(1 - 0.999 * 0.999) + 1e-8);
  CHECK(std::abs(m - wm) <= 1e-6 * std::abs(wm));
  CHECK(std::abs(v - wv) <= 1e-6 * wv);
  CHECK(std::abs(p - wp) <= 1e-6 * std::abs(wp));
}

// ---- (c) thread-count independence -----------------------------------------

TEST_CASE_TEMPLATE("training kernels: 1 and 2 threads give bitwise identical results", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  const std::size_t rows = 301, cols = 385, ld = cols + 1;
  const auto x = random_floats(rows * ld, 50), dy = random_floats(rows * ld, 51), gamma = random_floats(cols, 52);
  auto for_threads = [&](int threads) {
    std::vector<float> out;
    auto append = [&](const std::vector<float>& v) { out.insert(out.end(), v.begin(), v.end()); };
    std::vector<float> sums(cols, 0.5f);
    simd::add_column_sums_kernel{}(Arch{}, rows, cols, x.data(), ld, sums.data(), threads);
    append(sums);
    std::vector<float> dx(rows * cols), dg(cols, 0.0f), db(cols, 0.0f);
    simd::layer_norm_backward_kernel{}(Arch{}, dy.data(), x.data(), gamma.data(), rows, cols, 1e-5f, dx.data(), dg.data(),
                                       db.data(), threads);
    append(dx);
    append(dg);
    append(db);
    const double ss = simd::sum_squares_kernel{}(Arch{}, x.data(), x.size(), threads);
    append({static_cast<float>(ss), static_cast<float>(ss - static_cast<float>(ss))});
    std::vector<std::int64_t> labels(rows);
    for (std::size_t r = 0; r < rows; ++r) labels[r] = r % 13 == 0 ? -100 : static_cast<std::int64_t>(r % cols);
    std::vector<float> dl(rows * ld);
    const double ce = simd::cross_entropy_kernel{}(Arch{}, rows, cols, x.data(), ld, labels.data(), 0.5f, dl.data(), threads);
    append(dl);
    append({static_cast<float>(ce), static_cast<float>(ce - static_cast<float>(ce))});
    auto drop = x;
    simd::dropout_kernel{}(Arch{}, drop.data(), drop.size(), 0.1f, 99, 3, threads);
    append(drop);
    std::vector<float> c(cols * cols, 0.0f);
    simd::gemm_at_kernel{}(Arch{}, cols, cols, rows, 1.0f, dy.data(), ld, x.data(), ld, 0.0f, c.data(), cols, threads);
    append(c);
    std::vector<std::int64_t> index(rows);
    for (std::size_t r = 0; r < rows; ++r) index[r] = static_cast<std::int64_t>(r % 17);
    std::vector<float> table(17 * cols, 0.0f);
    simd::scatter_add_rows_kernel{}(Arch{}, rows, cols, x.data(), ld, index.data(), table.data(), cols, threads);
    append(table);
    const std::vector<std::size_t> offsets{0, rows / 3, rows / 3, rows};
    const std::vector<std::uint8_t> mask(rows, 1);
    std::vector<float> pooled(3 * cols);
    simd::mean_pool_kernel{}(Arch{}, 3, cols, x.data(), ld, offsets.data(), mask.data(), pooled.data(), threads);
    append(pooled);
    std::vector<float> dpooled(rows * ld);
    simd::mean_pool_backward_kernel{}(Arch{}, 3, cols, pooled.data(), offsets.data(), mask.data(), dpooled.data(), ld, threads);
    append(dpooled);
    return out;
  };
  REQUIRE(same_bits(for_threads(1), for_threads(2)));
}

// ---- kernels<cpu> routes to the functors -------------------------------------

TEST_CASE("kernels<cpu> training kernels equal the functors of the active ISA") {
  const std::size_t n = 1000;
  const auto x = random_floats(n, 60), g = random_floats(n, 61);
  // Through the boundary ...
  auto a = x;
  K::dropout(a.data(), n, 0.25f, 5, 17, 0);
  K::tanh(a.data(), n, 0);
  K::scale(a.data(), n, 3.0f, 0);
  auto pa = x, ma = g, va = std::vector<float>(n, 0.01f);
  shopml::adamw_step step{};
  step.bias_correction1 = 0.1, step.bias_correction2 = 0.001;
  K::adamw(n, pa.data(), g.data(), ma.data(), va.data(), step, 0);
  const double ss = K::sum_squares(a.data(), n, 0);
  // ... and each element against the scalar definitions it promises.
  for (std::size_t i = 0; i < n; ++i) {
    const float kept = scalar::dropout_keep(5, 17 + i, 0.25f) ? x[i] / 0.75f : 0.0f;
    REQUIRE(std::abs(a[i] - std::tanh(kept) * 3.0f) <= 1e-6f * (1 + std::abs(a[i])));
  }
  const auto f = scalar::adamw_prepare(step.lr, step.beta1, step.beta2, step.eps, step.weight_decay, step.bias_correction1,
                                       step.bias_correction2);
  for (std::size_t i = 0; i < n; ++i) {
    float p = x[i], m = g[i], v = 0.01f;
    scalar::adamw_update(p, m, v, g[i], f);
    REQUIRE(std::bit_cast<std::uint32_t>(pa[i]) == std::bit_cast<std::uint32_t>(p));
  }
  double want = 0;
  for (float v : a) want += double(v) * v;
  REQUIRE(std::abs(ss - want) <= 1e-6 * want);
}
