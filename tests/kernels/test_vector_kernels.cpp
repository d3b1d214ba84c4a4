// dot, axpy, softmax, layer_norm, gelu, l2_normalize and top-k against scalar
// references: sizes 0, 1 and not multiples of any SIMD width, unaligned
// pointers, special values, and thread-count independence.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "reference.hpp"
#include "shopml/backend/cpu.hpp"

namespace {

using shopml::test::random_floats;
using shopml::test::same_bits;
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
const std::size_t sizes[] = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 384, 1000, 1023};

}  // namespace

TEST_CASE_TEMPLATE("dot and axpy", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : sizes) {
    CAPTURE(n);
    const auto x = random_floats(n + 1, 1), y0 = random_floats(n + 3, 2);
    double want = 0, mag = 0;
    for (std::size_t i = 0; i < n; ++i) {
      want += double(x[i + 1]) * y0[i + 3];
      mag += std::abs(double(x[i + 1]) * y0[i + 3]);
    }
    // Unaligned on purpose: x + 1, y + 3.
    const float got = shopml::simd::dot_kernel{}(Arch{}, x.data() + 1, y0.data() + 3, n);
    REQUIRE(std::abs(got - want) <= 1e-6 * (mag + 1));

    auto y = y0;
    shopml::simd::axpy_kernel{}(Arch{}, n, -0.75f, x.data() + 1, y.data() + 3);
    for (std::size_t i = 0; i < 3; ++i) REQUIRE(y[i] == y0[i]);
    for (std::size_t i = 0; i < n; ++i)
      REQUIRE(std::abs(y[i + 3] - (y0[i + 3] - 0.75 * x[i + 1])) <= 1e-6 * (std::abs(y0[i + 3]) + std::abs(x[i + 1])));
  }
}

TEST_CASE_TEMPLATE("gemv_t", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : sizes) {
    for (std::size_t m : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{128}}) {
      CAPTURE(n);
      CAPTURE(m);
      const std::size_t lda = n + 3;  // padded rows, unaligned starts
      const auto a = random_floats(m * lda + 1, 5), x = random_floats(m + 1, 6), y0 = random_floats(n + 2, 7);
      auto y = y0;
      shopml::simd::gemv_t_kernel{}(Arch{}, m, n, a.data() + 1, lda, x.data() + 1, y.data() + 1);
      REQUIRE(y[0] == y0[0]);
      REQUIRE(y[n + 1] == y0[n + 1]);
      for (std::size_t j = 0; j < n; ++j) {
        double want = y0[j + 1], mag = std::abs(y0[j + 1]);
        for (std::size_t i = 0; i < m; ++i) {
          want += double(x[i + 1]) * a[1 + i * lda + j];
          mag += std::abs(double(x[i + 1]) * a[1 + i * lda + j]);
        }
        REQUIRE(std::abs(y[j + 1] - want) <= 1e-6 * (mag + 1));
      }
    }
  }
}

TEST_CASE_TEMPLATE("binary_logistic", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : sizes) {
    CAPTURE(n);
    auto score = random_floats(n + 1, 8, -30.0f, 30.0f);
    if (n > 3) score[1] = 800.0f, score[2] = -800.0f, score[3] = 0.0f;  // saturated sigmoid, exp(-|r|) underflows
    const auto w = random_floats(n + 1, 9, 0.0f, 2.0f);
    std::vector<int> target(n + 1);
    std::vector<double> weight(n + 1);
    for (std::size_t i = 0; i <= n; ++i) target[i] = static_cast<int>(i % 3 == 0), weight[i] = w[i];
    const double intercept = -0.25, scale = 0.5;
    std::vector<float> residual(n + 2, 7.0f);
    const double got = shopml::simd::binary_logistic_kernel{}(Arch{}, n, score.data() + 1, intercept, target.data() + 1,
                                                              weight.data() + 1, scale, residual.data() + 1);
    double want = 0.0;
    for (std::size_t i = 1; i <= n; ++i) {
      const double r = double(score[i]) + intercept, s = weight[i] * scale, y = target[i];
      want += s * (std::max(r, 0.0) + std::log1p(std::exp(-std::abs(r))) - y * r);
      const double p = 1.0 / (1.0 + std::exp(-r));
      REQUIRE(std::abs(residual[i] - s * (p - y)) <= 1e-6 * (s + 1e-30));
    }
    REQUIRE(residual[0] == 7.0f);
    REQUIRE(residual[n + 1] == 7.0f);
    REQUIRE(std::abs(got - want) <= 1e-12 * (std::abs(want) + 1));
  }
}

TEST_CASE_TEMPLATE("dot_rows", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : sizes) {
    for (std::size_t k : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{10}, std::size_t{17}}) {
      CAPTURE(n);
      CAPTURE(k);
      const std::size_t m = 7, lda = n + 1, ldw = n + 2, lds = m + 3;
      const auto a = random_floats(m * lda + 1, 10), w = random_floats(k * ldw + 1, 11);
      std::vector<float> s(k * lds + 1, 5.0f);
      shopml::simd::dot_rows_kernel{}(Arch{}, m, n, a.data() + 1, lda, k, w.data() + 1, ldw, s.data() + 1, lds);
      for (std::size_t c = 0; c < k; ++c)
        for (std::size_t i = 0; i < lds; ++i) {
          if (i >= m) {
            REQUIRE(s[1 + c * lds + i] == 5.0f);  // the gap between output rows is left alone
            continue;
          }
          double want = 0, mag = 0;
          for (std::size_t j = 0; j < n; ++j) {
            want += double(a[1 + i * lda + j]) * w[1 + c * ldw + j];
            mag += std::abs(double(a[1 + i * lda + j]) * w[1 + c * ldw + j]);
          }
          REQUIRE(std::abs(s[1 + c * lds + i] - want) <= 1e-6 * (mag + 1));
        }
    }
  }
}

TEST_CASE_TEMPLATE("multinomial_logistic", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : sizes) {
    CAPTURE(n);
    const std::size_t k = 5, lds = n + 2;
    auto score = random_floats(k * lds, 12, -40.0f, 40.0f);
    if (n > 1) score[0] = 700.0f, score[lds] = -700.0f;  // exp would overflow without the max shift
    const auto w = random_floats(n + 1, 13, 0.0f, 2.0f);
    const std::vector<double> intercept{0.5, -0.25, 0.0, 1.0, -2.0};
    std::vector<int> target(n + 1);
    std::vector<double> weight(n + 1);
    for (std::size_t i = 0; i <= n; ++i) target[i] = static_cast<int>(i % k), weight[i] = w[i];
    const double scale = 0.75;
    std::vector<float> residual(k * lds, 9.0f);
    const double got = shopml::simd::multinomial_logistic_kernel{}(Arch{}, n, k, score.data(), lds, intercept.data(),
                                                                   target.data(), weight.data(), scale, residual.data());
    double want = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      double top = -INFINITY, sum = 0.0;
      for (std::size_t c = 0; c < k; ++c) top = std::max(top, double(score[c * lds + i]) + intercept[c]);
      for (std::size_t c = 0; c < k; ++c) sum += std::exp(double(score[c * lds + i]) + intercept[c] - top);
      const double s = weight[i] * scale;
      const auto y = static_cast<std::size_t>(target[i]);
      want += s * (top + std::log(sum) - (double(score[y * lds + i]) + intercept[y]));
      for (std::size_t c = 0; c < k; ++c) {
        const double p = std::exp(double(score[c * lds + i]) + intercept[c] - top) / sum;
        REQUIRE(std::abs(residual[c * lds + i] - s * (p - (c == y ? 1.0 : 0.0))) <= 1e-6 * (s + 1e-30));
      }
    }
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t i = n; i < lds; ++i) REQUIRE(residual[c * lds + i] == 9.0f);
    REQUIRE(std::abs(got - want) <= 1e-12 * (std::abs(want) + 1));
  }
}

TEST_CASE_TEMPLATE("softmax_rows", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  shopml::simd::softmax_rows_kernel softmax;

  SUBCASE("random rows, padded leading dimension, per-sequence mask") {
    for (std::size_t cols : sizes) {
      CAPTURE(cols);
      const std::size_t rows = 6, ld = cols + 5, rows_per_mask = 3;
      auto x = random_floats(rows * ld + 1, 3, -20.0f, 20.0f);
      auto mask = random_floats(2 * cols + 1, 4, -5.0f, 0.0f);
      if (cols > 2) mask[1 + cols + 1] = -1e30f;  // a padded position of sequence 1
      const auto x0 = x;
      for (bool with_mask : {false, true}) {
        x = x0;
        softmax(Arch{}, x.data() + 1, rows, cols, ld, with_mask ? mask.data() + 1 : nullptr, rows_per_mask, 1);
        for (std::size_t r = 0; r < rows; ++r) {
          std::vector<double> want(cols);
          for (std::size_t j = 0; j < cols; ++j)
            want[j] = double(x0[1 + r * ld + j]) + (with_mask ? mask[1 + (r / rows_per_mask) * cols + j] : 0.0f);
          shopml::test::reference_softmax(want);
          for (std::size_t j = 0; j < cols; ++j) REQUIRE(std::abs(x[1 + r * ld + j] - want[j]) <= 4e-6 * want[j] + 1e-12);
          for (std::size_t j = cols; j < ld && r * ld + j + 1 < x.size(); ++j) REQUIRE(x[1 + r * ld + j] == x0[1 + r * ld + j]);
        }
      }
    }
  }

  SUBCASE("large magnitudes do not overflow") {
    std::vector<float> x = {1e4f, 1e4f - 1.0f, -1e4f, 3e38f, 3e38f};
    softmax(Arch{}, x.data(), 1, 3, 3, nullptr, 1, 1);
    REQUIRE(x[0] == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-6));
    REQUIRE(x[1] == doctest::Approx(std::exp(-1.0) / (1.0 + std::exp(-1.0))).epsilon(1e-6));
    REQUIRE(x[2] == 0.0f);
    softmax(Arch{}, x.data() + 3, 1, 2, 2, nullptr, 1, 1);
    REQUIRE(x[3] == 0.5f);
    REQUIRE(x[4] == 0.5f);
  }

  SUBCASE("special values: fully masked rows become 0, NaN or +inf make the row NaN") {
    for (std::size_t cols : {1, 5, 17, 40}) {
      CAPTURE(cols);
      std::vector<float> mask(cols, -inf);
      auto x = random_floats(4 * cols, 5);
      x[2 * cols + cols / 2] = qnan;
      x[3 * cols + cols - 1] = inf;
      // Rows 0-1 share the all -inf mask, rows 2-3 have none.
      softmax(Arch{}, x.data(), 2, cols, cols, mask.data(), 2, 1);
      softmax(Arch{}, x.data() + 2 * cols, 2, cols, cols, nullptr, 1, 1);
      for (std::size_t j = 0; j < 2 * cols; ++j) REQUIRE(x[j] == 0.0f);
      for (std::size_t j = 2 * cols; j < 4 * cols; ++j) REQUIRE(std::isnan(x[j]));
    }
  }

  SUBCASE("thread count does not change results") {
    auto x1 = random_floats(50 * 77, 6, -8.0f, 8.0f), x2 = x1;
    softmax(Arch{}, x1.data(), 50, 77, 77, nullptr, 1, 1);
    softmax(Arch{}, x2.data(), 50, 77, 77, nullptr, 1, 2);
    REQUIRE(same_bits(x1, x2));
  }
}

TEST_CASE_TEMPLATE("layer_norm, with and without residual, in place", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  shopml::simd::layer_norm_kernel layer_norm;
  for (std::size_t cols : sizes) {
    CAPTURE(cols);
    const std::size_t rows = 5;
    const auto x = random_floats(rows * cols + 1, 7, -3.0f, 5.0f), res = random_floats(rows * cols + 1, 8);
    const auto gamma = random_floats(cols + 1, 9, 0.5f, 1.5f), beta = random_floats(cols + 1, 10);
    for (bool with_residual : {false, true}) {
      const float* r = with_residual ? res.data() + 1 : nullptr;
      std::vector<float> y(rows * cols + 1, 0.0f);
      layer_norm(Arch{}, x.data() + 1, r, y.data() + 1, rows, cols, gamma.data() + 1, beta.data() + 1, 1e-12f, 1);
      auto in_place = x;
      layer_norm(Arch{}, in_place.data() + 1, r, in_place.data() + 1, rows, cols, gamma.data() + 1, beta.data() + 1, 1e-12f, 2);
      for (std::size_t i = 0; i < rows; ++i) {
        const auto want = shopml::test::reference_layer_norm(x.data() + 1 + i * cols, r ? r + i * cols : nullptr, cols,
                                                             gamma.data() + 1, beta.data() + 1, 1e-12f);
        for (std::size_t j = 0; j < cols; ++j) {
          REQUIRE(std::abs(y[1 + i * cols + j] - want[j]) <= 2e-5 * (std::abs(want[j]) + 1));
          REQUIRE(in_place[1 + i * cols + j] == y[1 + i * cols + j]);
        }
      }
    }
  }
  SUBCASE("a constant row normalises to beta; NaN poisons only its row") {
    std::vector<float> x = {2, 2, 2, 1, qnan, 3}, g = {1, 1, 1}, b = {0.5f, -1, 0};
    layer_norm(Arch{}, x.data(), nullptr, x.data(), 2, 3, g.data(), b.data(), 1e-5f, 1);
    REQUIRE(x[0] == 0.5f);
    REQUIRE(x[1] == -1.0f);
    REQUIRE(x[2] == 0.0f);
    for (std::size_t j = 3; j < 6; ++j) REQUIRE(std::isnan(x[j]));
  }
}

TEST_CASE_TEMPLATE("gelu, erf and tanh forms, against the scalar formulas in double", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (auto form : {shopml::gelu_form::erf, shopml::gelu_form::tanh}) {
    CAPTURE(static_cast<int>(form));
    for (std::size_t n : sizes) {
      auto x = random_floats(n + 1, 11, -10.0f, 10.0f);
      const auto x0 = x;
      shopml::simd::gelu_kernel{}(Arch{}, x.data() + 1, n, form, 1);
      REQUIRE(x[0] == x0[0]);
      for (std::size_t i = 1; i <= n; ++i) {
        const double v = x0[i];
        const double want = form == shopml::gelu_form::erf ? shopml::scalar::gelu_erf(v) : shopml::scalar::gelu_tanh(v);
        // Relative 2e-6 plus the float cancellation in 1 + erf(x) for x << 0.
        REQUIRE(std::abs(x[i] - want) <= 2e-6 * std::abs(want) + 3e-7);
      }
    }
    // Dense sweep over the region where GELU bends, and special values.
    std::vector<float> x;
    for (float v = -6.0f; v <= 6.0f; v += 1.0f / 512) x.push_back(v);
    for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e30f, -1e30f, inf, -inf, qnan}) x.push_back(v);
    auto y = x;
    shopml::simd::gelu_kernel{}(Arch{}, y.data(), y.size(), form, 2);
    for (std::size_t i = 0; i < x.size(); ++i) {
      CAPTURE(x[i]);
      const float want = form == shopml::gelu_form::erf ? shopml::scalar::gelu_erf(x[i]) : shopml::scalar::gelu_tanh(x[i]);
      if (std::isnan(want)) {
        REQUIRE(std::isnan(y[i]));
      } else if (std::isinf(want)) {
        REQUIRE(y[i] == want);
      } else {
        const double exact =
            form == shopml::gelu_form::erf ? shopml::scalar::gelu_erf(double(x[i])) : shopml::scalar::gelu_tanh(double(x[i]));
        REQUIRE(std::abs(y[i] - exact) <= 2e-6 * std::abs(exact) + 3e-7);
      }
    }
  }
}

TEST_CASE_TEMPLATE("l2_normalize", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t cols : sizes) {
    CAPTURE(cols);
    const std::size_t rows = 4;
    auto x = random_floats(rows * cols + 1, 12, -100.0f, 100.0f);
    for (std::size_t j = 0; j < cols; ++j) x[1 + 2 * cols + j] = 0.0f;  // a zero row stays zero
    const auto x0 = x;
    shopml::simd::l2_normalize_kernel{}(Arch{}, x.data() + 1, rows, cols, 2);
    for (std::size_t r = 0; r < rows; ++r) {
      double norm = 0;
      for (std::size_t j = 0; j < cols; ++j) norm += double(x0[1 + r * cols + j]) * x0[1 + r * cols + j];
      norm = std::max(std::sqrt(norm), 1e-12);
      for (std::size_t j = 0; j < cols; ++j) REQUIRE(std::abs(x[1 + r * cols + j] - x0[1 + r * cols + j] / norm) <= 1e-6);
    }
  }
  std::vector<float> tiny = {3e-13f, 4e-13f}, poisoned = {1, qnan, 2};
  shopml::simd::l2_normalize_kernel{}(Arch{}, tiny.data(), 1, 2, 1);
  REQUIRE(tiny[0] == doctest::Approx(0.3f));  // divided by the 1e-12 floor, not by 5e-13
  shopml::simd::l2_normalize_kernel{}(Arch{}, poisoned.data(), 1, 3, 1);
  for (float v : poisoned) REQUIRE(std::isnan(v));
}

namespace {

// Reference top-k: a stable sort by the documented order.
void reference_topk(const std::vector<float>& x, std::size_t k, std::vector<float>& values, std::vector<std::uint32_t>& indices) {
  std::vector<std::uint32_t> order(x.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t i, std::uint32_t j) {
    if (std::isnan(x[i]) || std::isnan(x[j])) return !std::isnan(x[i]) && std::isnan(x[j]);
    return x[i] > x[j];
  });
  k = std::min(k, x.size());
  indices.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
  values.clear();
  for (auto i : indices) values.push_back(x[i]);
}

}  // namespace

TEST_CASE_TEMPLATE("topk: values and indices, ties by index, NaN last", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  for (std::size_t n : {0, 1, 5, 16, 17, 100, 1000, 5003})
    for (std::size_t k : {0, 1, 3, 10, 100, 6000}) {
      CAPTURE(n);
      CAPTURE(k);
      // Few distinct values, so ties are everywhere; some NaN and infinities.
      auto x = random_floats(n, static_cast<std::uint32_t>(n + k), 0.0f, 20.0f);
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = std::floor(x[i]);
        if (i % 37 == 5) x[i] = qnan;
        if (i % 101 == 7) x[i] = -inf;
        if (i % 211 == 9) x[i] = -0.0f;
      }
      std::vector<float> want_values, got_values(std::min(k, n));
      std::vector<std::uint32_t> want_indices, got_indices(std::min(k, n));
      reference_topk(x, k, want_values, want_indices);
      shopml::simd::topk_kernel{}(Arch{}, x.data(), n, k, got_values.data(), got_indices.data());
      REQUIRE(got_indices == want_indices);
      for (std::size_t i = 0; i < got_values.size(); ++i)
        REQUIRE(std::memcmp(&got_values[i], &want_values[i], sizeof(float)) == 0);
    }
  SUBCASE("all NaN") {
    std::vector<float> x(20, qnan), v(4);
    std::vector<std::uint32_t> idx(4);
    shopml::simd::topk_kernel{}(Arch{}, x.data(), x.size(), 4, v.data(), idx.data());
    REQUIRE(idx == std::vector<std::uint32_t>{0, 1, 2, 3});
  }
}
