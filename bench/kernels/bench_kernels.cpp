// Micro-benchmarks of kernels<cpu>, the path the components take (run-time
// dispatched when built with shopml_enable_cpu_dispatch). Rates: GFLOP/s for
// GEMM, bytes/s for the memory-bound kernels, items/s for GELU and top-k.
// OpenMP kernels take a thread count as the last argument and use real time.
//
//   bench_kernels --benchmark_out=kernels.json --benchmark_out_format=json
//   bench/compare.py before.json after.json --png ratios.png
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "shopml/shopml.hpp"

namespace {

using K = shopml::kernels<shopml::cpu>;

std::vector<float> random_floats(std::size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

const bool context_added = [] {
  benchmark::AddCustomContext("shopml_version", shopml::version_string);
  benchmark::AddCustomContext("shopml_simd_arch", shopml::simd::active_arch_name());
  benchmark::AddCustomContext("shopml_default_threads", std::to_string(shopml::num_threads()));
  return true;
}();

benchmark::Counter per_second(double amount) {
  return benchmark::Counter(amount, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_dot(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = random_floats(n), y = random_floats(n);
  for (auto _ : state) benchmark::DoNotOptimize(K::dot(x.data(), y.data(), n));
  state.counters["bytes/s"] = per_second(2.0 * n * sizeof(float));
}
BENCHMARK(BM_dot)->Arg(384)->Arg(4096)->Arg(1 << 20);

void BM_axpy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = random_floats(n);
  auto y = random_floats(n);
  for (auto _ : state) {
    K::axpy(n, 1e-3f, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  state.counters["bytes/s"] = per_second(3.0 * n * sizeof(float));
}
BENCHMARK(BM_axpy)->Arg(384)->Arg(4096)->Arg(1 << 20);

// Args: M, N, K, trans_b, threads. nn.Linear shapes of MiniLM (384 ↔ 1536).
void BM_gemm(benchmark::State& state) {
  const auto m = static_cast<std::size_t>(state.range(0)), n = static_cast<std::size_t>(state.range(1)),
             k = static_cast<std::size_t>(state.range(2));
  const bool trans_b = state.range(3) != 0;
  const int threads = static_cast<int>(state.range(4));
  const auto a = random_floats(m * k), b = random_floats(k * n), bias = random_floats(n);
  std::vector<float> c(m * n);
  for (auto _ : state) {
    K::gemm(trans_b, m, n, k, 1.0f, a.data(), k, b.data(), trans_b ? k : n, 0.0f, c.data(), n, bias.data(), threads);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = per_second(2.0 * double(m) * double(n) * double(k) * 1e-9);
}
BENCHMARK(BM_gemm)
    ->ArgNames({"M", "N", "K", "trans_b", "threads"})
    ->ArgsProduct({{1, 32, 128, 4096}, {384, 1536}, {384, 1536}, {1, 0}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The same products with the weight packed once (K::pack_b), as an encoder
// would: the gap to BM_gemm is the packing gemm redoes on every call.
void BM_gemm_packed(benchmark::State& state) {
  const auto m = static_cast<std::size_t>(state.range(0)), n = static_cast<std::size_t>(state.range(1)),
             k = static_cast<std::size_t>(state.range(2));
  const int threads = static_cast<int>(state.range(3));
  const auto a = random_floats(m * k), w = random_floats(k * n), bias = random_floats(n);
  const auto packed = K::pack_b(true, k, n, w.data(), k);
  std::vector<float> c(m * n);
  for (auto _ : state) {
    K::gemm_packed(m, 1.0f, a.data(), k, packed, 0.0f, c.data(), n, bias.data(), threads);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = per_second(2.0 * double(m) * double(n) * double(k) * 1e-9);
}
BENCHMARK(BM_gemm_packed)
    ->ArgNames({"M", "N", "K", "threads"})
    ->ArgsProduct({{1, 32, 128}, {384, 1536}, {384, 1536}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

#if defined(SHOPML_AMX_BF16)
// One core's AMX-BF16 rate with nothing but TDPBF16PS on registers (4 independent 16×16
// accumulators): the ceiling for BM_gemm_packed_bf16 per thread.
__attribute__((target("amx-tile,amx-bf16"))) double amx_bf16_peak_gflops() {
  shopml::simd::bf16::detail::configure_tiles();
  alignas(64) static std::uint16_t ones[16 * 32];
  for (auto& x : ones) x = 0x3f80;  // 1.0
  _tile_zero(0);                    // tile numbers are immediates
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, ones, 64);
  _tile_loadd(5, ones, 64);
  _tile_loadd(6, ones, 64);
  _tile_loadd(7, ones, 64);
  constexpr long iterations = 2'000'000;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  _tile_release();
  return double(iterations) * 4 * 16 * 16 * 32 * 2 / seconds * 1e-9;
}
#endif

// The dense layers at precision bf16 (kernels<cpu>::gemm_packed_bf16) on the same shapes;
// arg amx 1: AMX tiles where the CPU has them (counter of_peak: the fraction of one core's
// TDPBF16PS rate per thread), 0: the fp32 GEMM on bf16-rounded operands.
void BM_gemm_packed_bf16(benchmark::State& state) {
  const auto m = static_cast<std::size_t>(state.range(0)), n = static_cast<std::size_t>(state.range(1)),
             k = static_cast<std::size_t>(state.range(2));
  const int threads = static_cast<int>(state.range(3));
  const bool amx = state.range(4) != 0;
  if (amx && !shopml::simd::bf16::amx_bf16_usable()) return state.SkipWithError("this CPU has no usable AMX-BF16");
  const auto a = random_floats(m * k), w = random_floats(k * n), bias = random_floats(n);
  const auto packed = K::pack_b_bf16(true, k, n, w.data(), k, amx);
  std::vector<float> c(m * n);
  for (auto _ : state) {
    K::gemm_packed_bf16(m, 1.0f, a.data(), k, packed, 0.0f, c.data(), n, bias.data(), threads);
    benchmark::ClobberMemory();
  }
  const double flop = 2.0 * double(m) * double(n) * double(k);
  state.counters["GFLOP/s"] = per_second(flop * 1e-9);
#if defined(SHOPML_AMX_BF16)
  if (amx) {
    static const double peak = amx_bf16_peak_gflops();
    state.counters["peak GFLOP/s per thread"] = peak;
    state.counters["of_peak"] =
        benchmark::Counter(flop * 1e-9 / (peak * shopml::num_threads(threads)), benchmark::Counter::kIsIterationInvariantRate);
  }
#endif
}
BENCHMARK(BM_gemm_packed_bf16)
    ->ArgNames({"M", "N", "K", "threads", "amx"})
    ->ArgsProduct({{1, 32, 128, 1024}, {384, 1536}, {384, 1536}, {1, 2}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

#if defined(SHOPML_AMX_BF16)
// One core's AMX-INT8 rate (TDPBUSD, 4 independent accumulators), in GOP/s (a multiply-add = 2).
__attribute__((target("amx-tile,amx-int8"))) double amx_int8_peak_gops() {
  shopml::simd::bf16::detail::configure_tiles();
  alignas(64) static std::uint8_t ones[16 * 64];
  for (auto& x : ones) x = 1;
  _tile_zero(0);  // tile numbers are immediates
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, ones, 64);
  _tile_loadd(5, ones, 64);
  _tile_loadd(6, ones, 64);
  _tile_loadd(7, ones, 64);
  constexpr long iterations = 2'000'000;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  _tile_release();
  return double(iterations) * 4 * 16 * 16 * 64 * 2 / seconds * 1e-9;
}
#endif

#if defined(SHOPML_INT8_AVX2)
// One core's rate of the AVX2 int8 kernel's instructions with every operand in registers (3
// rows × 16 columns, as simd/gemm_int8.hpp's tile: per row and quad of k, two sign flips, two
// VPMADDUBSW, two VPMADDWD, two additions), in GOP/s (a multiply-add = 2).
__attribute__((target("avx2,fma"))) double avx2_int8_peak_gops() {
  __m256i b0 = _mm256_set1_epi8(3), b1 = _mm256_set1_epi8(-5), s[3], magnitude[3], acc[3][2];
  const __m256i ones = _mm256_set1_epi16(1);
  for (int r = 0; r < 3; ++r) {
    s[r] = _mm256_set1_epi8(static_cast<char>(r - 2));
    magnitude[r] = _mm256_abs_epi8(s[r]);
    acc[r][0] = acc[r][1] = ones;
  }
  constexpr long iterations = 20'000'000;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    asm volatile("" : "+x"(b0), "+x"(b1));  // fresh operands each step: nothing hoisted
    for (int r = 0; r < 3; ++r) {
      acc[r][0] =
          _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude[r], _mm256_sign_epi8(b0, s[r])), ones));
      acc[r][1] =
          _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude[r], _mm256_sign_epi8(b1, s[r])), ones));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  __m256i sum = acc[0][0];
  for (int r = 0; r < 3; ++r) sum = _mm256_add_epi32(sum, _mm256_add_epi32(acc[r][0], acc[r][1]));
  benchmark::DoNotOptimize(sum);
  return double(iterations) * 3 * 2 * 32 * 2 / seconds * 1e-9;
}
#endif

// The dense layers at precision int8 (kernels<cpu>::gemm_packed_int8, activations quantised
// per call) on the same shapes; arg road: 0 AMX tiles, 1 AVX2, 2 the fp32 GEMM on the
// integers (simd::int8::road); of_peak: the fraction of one core's rate of the road's
// instructions per thread (TDPBUSD for amx, the kernel's own sequence for avx2), in GOP/s.
void BM_gemm_packed_int8(benchmark::State& state) {
  const auto m = static_cast<std::size_t>(state.range(0)), n = static_cast<std::size_t>(state.range(1)),
             k = static_cast<std::size_t>(state.range(2));
  const int threads = static_cast<int>(state.range(3));
  const auto road = static_cast<shopml::simd::int8::road>(state.range(4));
  if (!shopml::simd::int8::usable(road)) {
    const std::string why = std::string("this CPU cannot run ") + shopml::simd::int8::road_name(road);
    return state.SkipWithError(why.c_str());
  }
  const auto a = random_floats(m * k), w = random_floats(k * n), bias = random_floats(n);
  const auto packed = K::pack_b_int8(true, k, n, w.data(), k, road);
  std::vector<float> c(m * n);
  for (auto _ : state) {
    K::gemm_packed_int8(m, 1.0f, a.data(), k, packed, 0.0f, c.data(), n, bias.data(), threads);
    benchmark::ClobberMemory();
  }
  const double ops = 2.0 * double(m) * double(n) * double(k);
  state.counters["GOP/s"] = per_second(ops * 1e-9);
  double peak = 0;
#if defined(SHOPML_AMX_BF16)
  if (road == shopml::simd::int8::road::amx) {
    static const double amx_peak = amx_int8_peak_gops();
    peak = amx_peak;
  }
#endif
#if defined(SHOPML_INT8_AVX2)
  if (road == shopml::simd::int8::road::avx2) {
    static const double avx2_peak = avx2_int8_peak_gops();
    peak = avx2_peak;
  }
#endif
  if (peak > 0) {
    state.counters["peak GOP/s per thread"] = peak;
    state.counters["of_peak"] =
        benchmark::Counter(ops * 1e-9 / (peak * shopml::num_threads(threads)), benchmark::Counter::kIsIterationInvariantRate);
  }
}
BENCHMARK(BM_gemm_packed_int8)
    ->ArgNames({"M", "N", "K", "threads", "road"})
    ->ArgsProduct({{1, 32, 128, 1024}, {384, 1536}, {384, 1536}, {1, 2}, {0, 1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Attention of one 128-token sequence, 12 heads of 32: scores = Q·Kᵀ, context = P·V.
void BM_gemm_batched_attention(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const std::size_t seq = 128, heads = 12, dim = 32, hidden = heads * dim;
  const auto qkv = random_floats(seq * hidden * 3);
  std::vector<float> scores(heads * seq * seq), context(seq * hidden);
  for (auto _ : state) {
    K::gemm_batched(true, heads, seq, seq, dim, 0.17f, qkv.data(), 3 * hidden, dim, qkv.data() + hidden, 3 * hidden, dim, 0.0f,
                    scores.data(), seq, seq * seq, threads);
    K::gemm_batched(false, heads, seq, dim, seq, 1.0f, scores.data(), seq, seq * seq, qkv.data() + 2 * hidden, 3 * hidden, dim,
                    0.0f, context.data(), hidden, dim, threads);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = per_second(2.0 * 2.0 * heads * seq * seq * dim * 1e-9);
}
BENCHMARK(BM_gemm_batched_attention)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// 12 heads × 128 queries × 128 keys, with the padding mask of the sequence.
void BM_softmax_rows(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const std::size_t rows = 12 * 128, cols = 128;
  const auto x0 = random_floats(rows * cols, -10.0f, 10.0f);
  std::vector<float> mask(cols, 0.0f);
  for (std::size_t j = 100; j < cols; ++j) mask[j] = -1e30f;
  auto x = x0;
  for (auto _ : state) {
    K::softmax_rows(x.data(), rows, cols, cols, mask.data(), rows, threads);
    benchmark::ClobberMemory();
  }
  state.counters["bytes/s"] = per_second(2.0 * rows * cols * sizeof(float));
}
BENCHMARK(BM_softmax_rows)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

void BM_layer_norm_residual(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const std::size_t rows = 128, cols = 384;
  const auto x = random_floats(rows * cols), res = random_floats(rows * cols);
  const auto gamma = random_floats(cols), beta = random_floats(cols);
  std::vector<float> y(rows * cols);
  for (auto _ : state) {
    K::layer_norm(x.data(), res.data(), y.data(), rows, cols, gamma.data(), beta.data(), 1e-12f, threads);
    benchmark::ClobberMemory();
  }
  state.counters["bytes/s"] = per_second(3.0 * rows * cols * sizeof(float));
}
BENCHMARK(BM_layer_norm_residual)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// Args: form (0 erf, 1 tanh), threads. The intermediate activation of MiniLM: 128 × 1536.
void BM_gelu(benchmark::State& state) {
  const auto form = state.range(0) == 0 ? shopml::gelu_form::erf : shopml::gelu_form::tanh;
  const int threads = static_cast<int>(state.range(1));
  const std::size_t n = 128 * 1536;
  const auto x0 = random_floats(n, -4.0f, 4.0f);
  auto x = x0;
  for (auto _ : state) {
    state.PauseTiming();
    x = x0;  // GELU is not idempotent: keep the inputs in range
    state.ResumeTiming();
    K::gelu(x.data(), n, form, threads);
    benchmark::ClobberMemory();
  }
  state.counters["items/s"] = per_second(double(n));
}
BENCHMARK(BM_gelu)->ArgNames({"erf0_tanh1", "threads"})->ArgsProduct({{0, 1}, {1, 2}})->UseRealTime();

void BM_l2_normalize(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const std::size_t rows = 10000, cols = 384;
  auto x = random_floats(rows * cols);
  for (auto _ : state) {
    K::l2_normalize(x.data(), rows, cols, threads);
    benchmark::ClobberMemory();
  }
  state.counters["bytes/s"] = per_second(2.0 * rows * cols * sizeof(float));
}
BENCHMARK(BM_l2_normalize)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// Args: n, k. Scores of a catalogue, the best k for one user.
void BM_topk(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)), k = static_cast<std::size_t>(state.range(1));
  const auto x = random_floats(n);
  std::vector<float> values(k);
  std::vector<std::uint32_t> indices(k);
  for (auto _ : state) {
    K::topk(x.data(), n, k, values.data(), indices.data());
    benchmark::DoNotOptimize(values.data());
  }
  state.counters["items/s"] = per_second(double(n));
}
BENCHMARK(BM_topk)->ArgNames({"n", "k"})->ArgsProduct({{10000, 1000000}, {10, 100}});

}  // namespace
