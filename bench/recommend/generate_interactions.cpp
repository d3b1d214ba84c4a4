// Writes a seeded power-law interaction log (bench/recommend/power_law_interactions.hpp)
// as a safetensors CSR file (recommend/csr_file.hpp):
//   generate_interactions OUT USERS ITEMS INTERACTIONS [EXPONENT=1.0] [USER_EXPONENT=0.5] [SEED=42] [THREADS=0]
// Prints one line: users, items, interactions, the longest history and Σ length² (the
// number of multiply-adds an item-item fit does).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "power_law_interactions.hpp"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s OUT USERS ITEMS INTERACTIONS [EXPONENT=1.0] [USER_EXPONENT=0.5] [SEED=42] [THREADS=0]\n",
                 argv[0]);
    return 2;
  }
  try {
    shopml::bench::power_law_spec spec;
    spec.users = std::atoi(argv[2]);
    spec.items = std::atoi(argv[3]);
    spec.interactions = std::atoll(argv[4]);
    if (argc > 5) spec.exponent = std::atof(argv[5]);
    if (argc > 6) spec.user_exponent = std::atof(argv[6]);
    if (argc > 7) spec.seed = std::strtoull(argv[7], nullptr, 10);
    const int threads = argc > 8 ? std::atoi(argv[8]) : 0;
    const auto start = std::chrono::steady_clock::now();
    const auto log = shopml::bench::power_law_interactions(spec, threads);
    std::int64_t longest = 0;
    double flops = 0;
    for (std::size_t u = 0; u + 1 < log.indptr.size(); ++u) {
      const std::int64_t n = log.indptr[u + 1] - log.indptr[u];
      longest = std::max(longest, n);
      flops += static_cast<double>(n) * static_cast<double>(n);
    }
    shopml::recommend::save_csr(argv[1], log.view());
    std::printf("generated users=%d items=%d interactions=%lld longest_history=%lld sum_length_squared=%.4g seconds=%.2f\n",
                log.users, log.items, static_cast<long long>(log.indices.size()), static_cast<long long>(longest), flops,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate_interactions: %s\n", e.what());
    return 1;
  }
  return 0;
}
