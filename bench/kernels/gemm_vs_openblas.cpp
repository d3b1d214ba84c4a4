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
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <cblas.h>

#include "shopml/backend/cpu.hpp"

extern "C" void openblas_set_num_threads(int);

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

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  const double min_seconds = argc > 2 ? std::atof(argv[2]) : 0.05;
  const std::size_t only_m = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 0;  // 0: all shapes
  std::printf("SIMD arch: %s, %d repetitions, median reported\n", shopml::simd::active_arch_name(), reps);
  std::printf("%-8s %5s %5s %5s %7s %12s %12s %12s %12s %7s\n", "threads", "M", "K", "N", "trans_b",
              "shopml_ms", "openblas_ms", "shopml_GF/s", "openblas_GF", "ratio");
  std::vector<double> ratios[2];
  for (int threads : {1, 2}) {
    openblas_set_num_threads(threads);
    for (std::size_t m : {1, 32, 128, 4096}) {
      if (only_m && m != only_m) continue;
      for (std::size_t k : {384, 1536})
        for (std::size_t n : {384, 1536})
          for (bool trans_b : {true, false}) {
            std::vector<float> a(m * k), b(k * n), c(m * n);
            for (std::size_t i = 0; i < a.size(); ++i) a[i] = float((i * 7919) % 1000) / 1000.0f - 0.5f;
            for (std::size_t i = 0; i < b.size(); ++i) b[i] = float((i * 104729) % 1000) / 1000.0f - 0.5f;
            const std::size_t ldb = trans_b ? k : n;
            auto ours = [&] {
              shopml::kernels<shopml::cpu>::gemm(trans_b, m, n, k, 1.0f, a.data(), k, b.data(), ldb, 0.0f, c.data(),
                                                 n, nullptr, threads);
            };
            auto theirs = [&] {
              cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
                          1.0f, a.data(), int(k), b.data(), int(ldb), 0.0f, c.data(), int(n));
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
            std::printf("%-8d %5zu %5zu %5zu %7s %12.4f %12.4f %12.1f %12.1f %7.3f\n", threads, m, k, n,
                        trans_b ? "yes" : "no", ours_s * 1e3, theirs_s * 1e3, gflop / ours_s, gflop / theirs_s, ratio);
            std::fflush(stdout);
          }
    }
  }
  std::printf("RESULT gemm_vs_openblas_1t=%.3f gemm_vs_openblas_2t=%.3f\n", median(ratios[0]), median(ratios[1]));
}
