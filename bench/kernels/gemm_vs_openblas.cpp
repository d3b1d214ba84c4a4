// shopml GEMM vs OpenBLAS cblas_sgemm, side by side on the same inputs, for the
// shapes of a MiniLM/BERT encoder: M in {1, 32, 128, 4096} rows (one query to a
// large batch of tokens), K, N in {384, 1536}, B as nn.Linear's weight [N, K]
// (trans_b) and as a plain [K, N] matrix, at 1 and 2 threads. Built and run by
// bench/peers/gemm.sh; OpenBLAS is only the yardstick here.
//
// Each measurement is the median over `reps` repetitions of the time per call,
// shopml and OpenBLAS alternating so that machine noise hits both alike.
// Usage: gemm_vs_openblas [repetitions=5] [min seconds per timing=0.05] [only this M]
// Prints a table and one RESULT line with the median speed ratios
// (OpenBLAS time / shopml time: > 1 means shopml is faster).
//
// Environment (benchmark only; the library itself always dispatches to the best ISA):
//   SHOPML_BENCH_ISA=avx2|avx512bw  call that ISA's gemm instance instead of the
//                                   dispatched one (avx2: an AVX2-only CPU such as Zen 3,
//                                   on an AVX-512 machine; pair it with OpenBLAS's own
//                                   OPENBLAS_CORETYPE=Haswell, as gemm.sh ISA=avx2 does)
//   SHOPML_BENCH_AT=1               time gemm_at (A stored k × m, training's weight
//                                   gradients) against cblas_sgemm with A transposed
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "shopml/backend/cpu.hpp"

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

template <class F>
double seconds_per_call(F f, double min_seconds) {
  f();  // warm: caches, page faults, thread pools
  std::size_t calls = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    f();
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < min_seconds);
  return elapsed / double(calls);
}

// Which gemm / gemm_at runs: kernels<cpu>'s (dispatched) unless SHOPML_BENCH_ISA names one.
struct shopml_side {
  std::string isa;
  const char* name() const { return isa.empty() ? shopml::simd::active_arch_name() : isa.c_str(); }
  template <class F>
  void with_arch(F f) const {
#if defined(SHOPML_CPU_DISPATCH)
    if (isa == "avx2") return f(xsimd::fma3<xsimd::avx2>{});
    if (isa == "avx512bw") return f(xsimd::avx512bw{});
#endif
    f(nullptr);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  const double min_seconds = argc > 2 ? std::atof(argv[2]) : 0.05;
  const std::size_t only_m = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 0;  // 0: all shapes
  shopml_side side;
  if (const char* isa = std::getenv("SHOPML_BENCH_ISA"); isa && *isa) {
    side.isa = isa;
#if defined(SHOPML_CPU_DISPATCH)
    const auto cpu = xsimd::available_architectures();
    const bool known = (side.isa == "avx2" && cpu.fma3_avx2) || (side.isa == "avx512bw" && cpu.avx512bw);
#else
    const bool known = false;
#endif
    if (!known) {
      std::fprintf(stderr, "SHOPML_BENCH_ISA=%s: not avx2 or avx512bw, not on this CPU, or no run-time dispatch\n", isa);
      return 2;
    }
  }
  const char* at_env = std::getenv("SHOPML_BENCH_AT");
  const bool at = at_env && *at_env && std::strcmp(at_env, "0") != 0;
  std::printf("SIMD arch: %s, %s, OpenBLAS core %s, %d repetitions, median reported\n", side.name(),
              at ? "gemm_at (A transposed)" : "gemm", openblas_get_corename(), reps);
  std::printf("%-8s %5s %5s %5s %7s %12s %12s %12s %12s %7s\n", "threads", "M", "K", "N", "trans_b", "shopml_ms", "openblas_ms",
              "shopml_GF/s", "openblas_GF", "ratio");
  std::vector<double> ratios[2];
  for (int threads : {1, 2}) {
    openblas_set_num_threads(threads);
    for (std::size_t m : {1, 32, 128, 4096}) {
      if (only_m && m != only_m) continue;
      for (std::size_t k : {384, 1536})
        for (std::size_t n : {384, 1536})
          for (bool trans_b : {true, false}) {
            if (at && trans_b) continue;  // gemm_at has B as [K, N] only: one row per (K, N)
            std::vector<float> a(m * k), b(k * n), c(m * n);
            for (std::size_t i = 0; i < a.size(); ++i) a[i] = float((i * 7919) % 1000) / 1000.0f - 0.5f;
            for (std::size_t i = 0; i < b.size(); ++i) b[i] = float((i * 104729) % 1000) / 1000.0f - 0.5f;
            const std::size_t ldb = trans_b ? k : n;
            const std::size_t lda = at ? m : k;  // gemm_at: A stored k × m
            auto ours = [&] {
              side.with_arch([&](auto arch) {
                if constexpr (std::is_same_v<decltype(arch), std::nullptr_t>) {
                  if (at)
                    shopml::kernels<shopml::cpu>::gemm_at(m, n, k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), n,
                                                          threads);
                  else
                    shopml::kernels<shopml::cpu>::gemm(trans_b, m, n, k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), n,
                                                       nullptr, threads);
                } else if (at) {
                  shopml::simd::gemm_at_kernel{}(arch, m, n, k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), n, threads);
                } else {
                  shopml::simd::gemm_kernel{}(arch, trans_b, m, n, k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), n,
                                              nullptr, threads);
                }
              });
            };
            auto theirs = [&] {
              cblas_sgemm(CblasRowMajor, at ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, int(m), int(n),
                          int(k), 1.0f, a.data(), int(lda), b.data(), int(ldb), 0.0f, c.data(), int(n));
            };
            std::vector<double> t_ours, t_theirs;
            const double budget = min_seconds * (m == 4096 ? 4 : 1);
            for (int r = 0; r < reps; ++r) {
              t_ours.push_back(seconds_per_call(ours, budget));
              t_theirs.push_back(seconds_per_call(theirs, budget));
            }
            const double ours_s = median(t_ours), theirs_s = median(t_theirs);
            const double gflop = 2.0 * double(m) * double(n) * double(k) * 1e-9;
            const double ratio = theirs_s / ours_s;
            ratios[threads - 1].push_back(ratio);
            std::printf("%-8d %5zu %5zu %5zu %7s %12.4f %12.4f %12.1f %12.1f %7.3f\n", threads, m, k, n, trans_b ? "yes" : "no",
                        ours_s * 1e3, theirs_s * 1e3, gflop / ours_s, gflop / theirs_s, ratio);
            std::fflush(stdout);
          }
    }
  }
  std::printf("RESULT gemm_vs_openblas_1t=%.3f gemm_vs_openblas_2t=%.3f\n", median(ratios[0]), median(ratios[1]));
}
