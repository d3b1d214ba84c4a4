// Every CUDA kernel against kernels<cpu> on random data and on the edges (empty sizes,
// padding, masks, ties, NaN, infinities): the every-backend-versus-CPU check.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cpu_reference.hpp"
#include "shopml/backend/cuda.cuh"

namespace {

using shopml::gelu_form;
using shopml::gpu::device_buffer;
using cpu_kernels = shopml::test::cpu_reference;
using gpu_kernels = shopml::kernels<shopml::cuda>;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

template <class T>
device_buffer<T> on_device(const std::vector<T>& host) {
  return device_buffer<T>(std::span<const T>(host));
}

// NaN where the CPU has NaN, the same infinity, else |gpu - cpu| <= abs_tol + rel_tol * |cpu|.
void check_close(const std::vector<float>& gpu, const std::vector<float>& cpu, float rel_tol, float abs_tol,
                 const std::string& what) {
  REQUIRE(gpu.size() == cpu.size());
  std::size_t mismatches = 0;
  std::size_t first = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    const float g = gpu[i];
    const float c = cpu[i];
    const bool ok = std::isnan(c) ? std::isnan(g) : std::isinf(c) ? g == c : std::fabs(g - c) <= abs_tol + rel_tol * std::fabs(c);
    if (!ok && mismatches++ == 0) first = i;
  }
  CHECK_MESSAGE(mismatches == 0, what << ": " << mismatches << " of " << cpu.size() << " differ, first at " << first << " (gpu "
                                      << (mismatches ? gpu[first] : 0.0f) << ", cpu " << (mismatches ? cpu[first] : 0.0f) << ")");
}

}  // namespace

TEST_CASE("dot and axpy match the CPU") {
  for (const std::size_t n : {0, 1, 7, 1000, 100003}) {
    const auto x = cpu_kernels::random(n, -1, 1, 1);
    const auto y = cpu_kernels::random(n, -1, 1, 2);
    const auto dx = on_device(x);
    auto dy = on_device(y);
    double magnitude = 0;
    for (std::size_t i = 0; i < n; ++i) magnitude += std::fabs(x[i] * y[i]);
    const float expected = cpu_kernels::dot(x.data(), y.data(), n);
    const float got = gpu_kernels::dot(dx.data(), dy.data(), n);
    CHECK_MESSAGE(std::fabs(got - expected) <= 1e-5 * magnitude + 1e-6, "dot n=" << n << ": gpu " << got << " cpu " << expected);

    auto y_cpu = y;
    cpu_kernels::axpy(n, 0.37f, x.data(), y_cpu.data());
    gpu_kernels::axpy(n, 0.37f, dx.data(), dy.data());
    check_close(dy.download(), y_cpu, 1e-6f, 1e-7f, "axpy n=" + std::to_string(n));
  }
}

TEST_CASE("gemm matches the CPU: transposes, padding, beta, bias, empty sizes") {
  struct shape {
    std::size_t m, n, k, pad;
  };
  for (const shape s : {shape{1, 1, 1, 0}, shape{3, 5, 7, 2}, shape{64, 96, 384, 0}, shape{33, 17, 65, 3}, shape{128, 1, 257, 1},
                        shape{1, 300, 31, 0}, shape{17, 33, 0, 1}, shape{0, 5, 3, 0}, shape{4, 0, 3, 0}}) {
    for (const bool trans_b : {false, true}) {
      for (const float beta : {0.0f, 0.75f}) {
        for (const bool with_bias : {false, true}) {
          const std::size_t lda = s.k + s.pad;
          const std::size_t ldb = (trans_b ? s.k : s.n) + s.pad;
          const std::size_t ldc = s.n + s.pad;
          const auto a = cpu_kernels::random(s.m * lda, -1, 1, 3);
          const auto b = cpu_kernels::random((trans_b ? s.n : s.k) * ldb, -1, 1, 4);
          const auto bias = cpu_kernels::random(s.n, -1, 1, 5);
          // beta = 0 must not read C: NaN there would leak into the result.
          auto c = beta == 0.0f ? std::vector<float>(s.m * ldc, quiet_nan) : cpu_kernels::random(s.m * ldc, -1, 1, 6);
          const float alpha = beta == 0.0f ? 1.0f : 0.5f;
          const auto da = on_device(a);
          const auto db = on_device(b);
          const auto dbias = on_device(bias);
          auto dc = on_device(c);
          cpu_kernels::gemm(trans_b, s.m, s.n, s.k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc,
                            with_bias ? bias.data() : nullptr, 0);
          gpu_kernels::gemm(trans_b, s.m, s.n, s.k, alpha, da.data(), lda, db.data(), ldb, beta, dc.data(), ldc,
                            with_bias ? dbias.data() : nullptr, 0);
          check_close(dc.download(), c, 1e-5f, 1e-6f * static_cast<float>(s.k + 4),
                      "gemm m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) + " trans_b=" +
                          std::to_string(trans_b) + " beta=" + std::to_string(beta) + " bias=" + std::to_string(with_bias));
        }
      }
    }
  }
}

TEST_CASE("gemm_batched matches the CPU: attention shapes, gaps between matrices, shared B") {
  struct shape {
    std::size_t batch, m, n, k;
    bool shared_b;
  };
  for (const shape s : {shape{1, 1, 1, 1, false}, shape{12, 7, 9, 16, false}, shape{48, 32, 32, 64, false},
                        shape{5, 6, 3, 8, true}, shape{3, 5, 4, 0, false}, shape{0, 3, 3, 3, false}}) {
    for (const bool trans_b : {false, true}) {
      for (const float beta : {0.0f, 0.5f}) {
        const std::size_t lda = s.k + 1;
        const std::size_t ldb = (trans_b ? s.k : s.n) + 2;
        const std::size_t ldc = s.n;
        const std::size_t stride_a = s.m * lda + 5;
        const std::size_t stride_b = s.shared_b ? 0 : (trans_b ? s.n : s.k) * ldb + 3;
        const std::size_t stride_c = s.m * ldc + 7;
        const std::size_t batches = s.batch > 0 ? s.batch : 1;
        const auto a = cpu_kernels::random(batches * stride_a, -1, 1, 7);
        const auto b = cpu_kernels::random(batches * std::max<std::size_t>(stride_b, (trans_b ? s.n : s.k) * ldb), -1, 1, 8);
        auto c =
            beta == 0.0f ? std::vector<float>(batches * stride_c, quiet_nan) : cpu_kernels::random(batches * stride_c, -1, 1, 9);
        const auto da = on_device(a);
        const auto db = on_device(b);
        auto dc = on_device(c);
        cpu_kernels::gemm_batched(trans_b, s.batch, s.m, s.n, s.k, 0.8f, a.data(), lda, stride_a, b.data(), ldb, stride_b, beta,
                                  c.data(), ldc, stride_c, 0);
        gpu_kernels::gemm_batched(trans_b, s.batch, s.m, s.n, s.k, 0.8f, da.data(), lda, stride_a, db.data(), ldb, stride_b, beta,
                                  dc.data(), ldc, stride_c, 0);
        check_close(dc.download(), c, 1e-5f, 1e-6f * static_cast<float>(s.k + 4),
                    "gemm_batched batch=" + std::to_string(s.batch) + " m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
                        " k=" + std::to_string(s.k) + " trans_b=" + std::to_string(trans_b) + " beta=" + std::to_string(beta));
      }
    }
  }
}

TEST_CASE("softmax_rows matches the CPU: masks, padding, all -inf rows, NaN and +inf rows, large magnitudes") {
  struct shape {
    std::size_t rows, cols, pad, rows_per_mask;  // rows_per_mask 0: no mask
  };
  for (const shape s : {shape{1, 1, 0, 0}, shape{7, 129, 3, 0}, shape{48, 128, 0, 4}, shape{3, 1000, 1, 1}, shape{8, 5, 0, 8},
                        shape{2, 300, 0, 0}}) {
    const std::size_t ld = s.cols + s.pad;
    auto x = cpu_kernels::random(s.rows * ld, -30, 30, 10);
    for (std::size_t j = 0; j < s.cols; ++j) x[j] *= 1000.0f;  // row 0: exp would overflow without max-subtraction
    if (s.rows >= 3) {                                         // a NaN makes its row NaN, and so does +inf
      x[ld + s.cols / 2] = quiet_nan;
      x[2 * ld] = inf;
    }
    std::vector<float> mask;
    if (s.rows_per_mask > 0) {
      const std::size_t mask_rows = (s.rows + s.rows_per_mask - 1) / s.rows_per_mask;
      mask.assign(mask_rows * s.cols, 0.0f);
      for (std::size_t r = 0; r < mask_rows; ++r)  // padding at the end of each sequence, more for later ones
        for (std::size_t j = s.cols - std::min(s.cols - 1, r * 3); j < s.cols; ++j) mask[r * s.cols + j] = -inf;
      if (mask_rows > 1) std::fill(mask.begin() + s.cols, mask.begin() + 2 * s.cols, -inf);  // a fully masked sequence
    }
    const auto dmask = on_device(mask);
    auto dx = on_device(x);
    const float* mask_cpu = mask.empty() ? nullptr : mask.data();
    const float* mask_gpu = mask.empty() ? nullptr : dmask.data();
    cpu_kernels::softmax_rows(x.data(), s.rows, s.cols, ld, mask_cpu, s.rows_per_mask, 0);
    gpu_kernels::softmax_rows(dx.data(), s.rows, s.cols, ld, mask_gpu, s.rows_per_mask, 0);
    check_close(dx.download(), x, 1e-5f, 1e-7f,
                "softmax rows=" + std::to_string(s.rows) + " cols=" + std::to_string(s.cols) +
                    " rows_per_mask=" + std::to_string(s.rows_per_mask));
  }
  // Sizes 0 touch nothing (null pointers must be fine).
  gpu_kernels::softmax_rows(nullptr, 0, 5, 5, nullptr, 1, 0);
  gpu_kernels::softmax_rows(nullptr, 5, 0, 0, nullptr, 1, 0);
}

TEST_CASE("layer_norm matches the CPU: residual, in place, offset data, NaN rows, one column") {
  struct shape {
    std::size_t rows, cols;
  };
  for (const shape s : {shape{1, 1}, shape{2, 7}, shape{5, 384}, shape{3, 1000}, shape{64, 384}}) {
    for (const bool with_residual : {false, true}) {
      for (const bool in_place : {false, true}) {
        for (const float offset : {0.0f, 100.0f}) {
          auto x = cpu_kernels::random(s.rows * s.cols, -2, 2, 11);
          for (float& v : x) v += offset;
          if (s.rows >= 2) x[s.cols] = quiet_nan;  // row 1 becomes NaN
          const auto residual = cpu_kernels::random(s.rows * s.cols, -1, 1, 12);
          const auto gamma = cpu_kernels::random(s.cols, 0.5f, 1.5f, 13);
          const auto beta = cpu_kernels::random(s.cols, -0.5f, 0.5f, 14);
          std::vector<float> y(s.rows * s.cols, quiet_nan);
          auto dx = on_device(x);
          const auto dres = on_device(residual);
          const auto dgamma = on_device(gamma);
          const auto dbeta = on_device(beta);
          auto dy = on_device(y);
          float* out_cpu = in_place ? x.data() : y.data();
          float* out_gpu = in_place ? dx.data() : dy.data();
          cpu_kernels::layer_norm(x.data(), with_residual ? residual.data() : nullptr, out_cpu, s.rows, s.cols, gamma.data(),
                                  beta.data(), 1e-12f, 0);
          gpu_kernels::layer_norm(dx.data(), with_residual ? dres.data() : nullptr, out_gpu, s.rows, s.cols, dgamma.data(),
                                  dbeta.data(), 1e-12f, 0);
          check_close(in_place ? dx.download() : dy.download(), in_place ? x : y, 1e-4f, 1e-4f,
                      "layer_norm rows=" + std::to_string(s.rows) + " cols=" + std::to_string(s.cols) +
                          " residual=" + std::to_string(with_residual) + " in_place=" + std::to_string(in_place) +
                          " offset=" + std::to_string(offset));
        }
      }
    }
  }
}

TEST_CASE("gelu matches the CPU in both forms, past one grid of blocks") {
  for (const gelu_form form : {gelu_form::erf, gelu_form::tanh}) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{65536} * 256 + 1001}) {
      auto x = cpu_kernels::random(n, -10, 10, 15);
      const float specials[] = {0.0f, -0.0f, inf, -inf, quiet_nan, 1e-30f, -1e30f, 3.0f};
      for (std::size_t i = 0; i < n && i < std::size(specials); ++i) x[i] = specials[i];
      auto dx = on_device(x);
      cpu_kernels::gelu(x.data(), n, form, 0);
      gpu_kernels::gelu(dx.data(), n, form, 0);
      check_close(dx.download(), x, 1e-5f, 1e-6f,
                  std::string("gelu ") + (form == gelu_form::erf ? "erf" : "tanh") + " n=" + std::to_string(n));
    }
  }
}

TEST_CASE("l2_normalize matches the CPU: zero rows stay zero, tiny, huge and NaN rows") {
  for (const std::size_t cols : {1, 3, 384, 1000}) {
    const std::size_t rows = 6;
    auto x = cpu_kernels::random(rows * cols, -3, 3, 16);
    std::fill(x.begin() + cols, x.begin() + 2 * cols, 0.0f);        // row 1: zeros
    std::fill(x.begin() + 2 * cols, x.begin() + 3 * cols, 1e-30f);  // row 2: squares underflow
    std::fill(x.begin() + 3 * cols, x.begin() + 4 * cols, -1e18f);  // row 3: large
    x[4 * cols] = quiet_nan;                                        // row 4: NaN everywhere
    auto dx = on_device(x);
    cpu_kernels::l2_normalize(x.data(), rows, cols, 0);
    gpu_kernels::l2_normalize(dx.data(), rows, cols, 0);
    check_close(dx.download(), x, 1e-5f, 1e-7f, "l2_normalize cols=" + std::to_string(cols));
  }
}

TEST_CASE("topk matches the CPU exactly: ties by index, NaN last, signed zeros, k beyond n") {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> small(-5, 5);
  for (const std::size_t n : {0, 1, 10, 1000, 100000}) {
    std::vector<float> x(n);
    for (float& v : x) v = static_cast<float>(small(rng));  // many ties
    const float specials[] = {quiet_nan, -0.0f, 0.0f, inf, -inf, quiet_nan, -quiet_nan, 5.0f};
    for (std::size_t i = 0; i < n && i < std::size(specials); ++i) x[(i * 7919) % n] = specials[i];
    if (n == 100000) x = cpu_kernels::random(n, -1, 1, 18);  // distinct values
    const auto dx = on_device(x);
    for (const std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{5}, n, n + 3}) {
      const std::size_t kept = std::min(k, n);
      std::vector<float> values(kept);
      std::vector<std::uint32_t> indices(kept);
      device_buffer<float> dvalues(kept);
      device_buffer<std::uint32_t> dindices(kept);
      cpu_kernels::topk(x.data(), n, k, values.data(), indices.data());
      gpu_kernels::topk(dx.data(), n, k, dvalues.data(), dindices.data());
      const auto got_values = dvalues.download();
      const auto got_indices = dindices.download();
      std::size_t mismatches = 0;
      for (std::size_t i = 0; i < kept; ++i)
        if (got_indices[i] != indices[i] ||
            std::bit_cast<std::uint32_t>(got_values[i]) != std::bit_cast<std::uint32_t>(values[i]))
          ++mismatches;
      CHECK_MESSAGE(mismatches == 0, "topk n=" << n << " k=" << k << ": " << mismatches << " positions differ");
    }
  }
}

TEST_CASE("backend_scope routes kernels to its stream, from several threads at once") {
  CHECK(shopml::gpu::current_target().stream == nullptr);
  constexpr int workers = 4;
  constexpr std::size_t m = 64, n = 48, k = 96;
  std::vector<std::string> failures(workers);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      try {
        cudaStream_t stream = nullptr;
        shopml::gpu::check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        {
          shopml::gpu::backend_scope scope(shopml::cuda{.device = 0, .stream = stream});
          if (shopml::gpu::current_target().stream != stream) failures[w] = "scope did not set the stream";
          const auto a = cpu_kernels::random(m * k, -1, 1, 100 + w);
          const auto b = cpu_kernels::random(n * k, -1, 1, 200 + w);
          std::vector<float> c(m * n);
          const auto da = on_device(a);
          const auto db = on_device(b);
          device_buffer<float> dc(m * n);
          for (int repeat = 0; repeat < 20; ++repeat) {
            gpu_kernels::gemm(true, m, n, k, 1.0f, da.data(), k, db.data(), k, 0.0f, dc.data(), n, nullptr, 0);
            gpu_kernels::softmax_rows(dc.data(), m, n, n, nullptr, 1, 0);
          }
          cpu_kernels::gemm(true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n, nullptr, 1);
          cpu_kernels::softmax_rows(c.data(), m, n, n, nullptr, 1, 1);
          const auto got = dc.download();
          for (std::size_t i = 0; i < got.size(); ++i)
            if (std::fabs(got[i] - c[i]) > 1e-5f) {
              failures[w] = "element " + std::to_string(i) + " differs";
              break;
            }
        }
        if (shopml::gpu::current_target().stream != nullptr) failures[w] = "scope did not restore the stream";
        shopml::gpu::check(cudaStreamDestroy(stream), "cudaStreamDestroy");
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < workers; ++w) CHECK_MESSAGE(failures[w].empty(), "worker " << w << ": " << failures[w]);
}

TEST_CASE("failures throw shopml errors naming the call") {
  device_buffer<float> a(8), b(8), c(8);
  CHECK_THROWS_WITH_AS(shopml::gpu::backend_scope(shopml::cuda{.device = 1 << 20}), doctest::Contains("cudaSetDevice(1048576)"),
                       shopml::cuda_error);
  // That failure is not reported again by the next, healthy launch.
  CHECK_NOTHROW(gpu_kernels::gelu(a.data(), a.size(), gelu_form::erf, 0));

  // ldc = 1 < n = 4: cuBLAS rejects its arguments before touching memory.
  CHECK_THROWS_WITH_AS(gpu_kernels::gemm(false, 2, 4, 2, 1.0f, a.data(), 2, b.data(), 4, 0.0f, c.data(), 1, nullptr, 0),
                       doctest::Contains("cublasSgemm(m=2, n=4, k=2)"), shopml::cuda_error);
  CHECK_THROWS_WITH_AS(
      gpu_kernels::gemm(false, std::size_t{1} << 31, 4, 2, 1.0f, a.data(), 2, b.data(), 4, 0.0f, c.data(), 4, nullptr, 0),
      doctest::Contains("m = 2147483648"), shopml::shape_error);
  CHECK_THROWS_AS(gpu_kernels::topk(a.data(), (std::size_t{1} << 32) + 1, 1, c.data(), nullptr), shopml::value_error);
  CHECK_THROWS_AS(a.upload(std::vector<float>(3)), shopml::shape_error);
}
