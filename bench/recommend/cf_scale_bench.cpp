// shopml's side of bench/peers/cf_scale.sh (also runnable alone):
//   cf_scale_bench INTERACTIONS.safetensors THREADS RUNS [MAX_HISTORY=0] [PEER_DIR]
// Maps an interaction file (recommend/csr_file.hpp, as generate_interactions writes it),
// fits cosine and BM25 item-item models (K=50) on the sparse road with a progress bar on a
// terminal, and prints key=value lines: median fit times over RUNS, the process's peak
// memory, and, given PEER_DIR (cf_peer.py's output on the same file), the number of items
// whose neighbour set differs from implicit's.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "peer_neighbours.hpp"
#include "shopml/recommend/csr_file.hpp"
#include "shopml/recommend/item_item.hpp"

using namespace shopml;
using namespace shopml::recommend;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s INTERACTIONS.safetensors THREADS RUNS [MAX_HISTORY=0] [PEER_DIR]\n", argv[0]);
    return 2;
  }
  try {
    const int threads = std::atoi(argv[2]), runs = std::max(1, std::atoi(argv[3]));
    const std::int32_t max_history = argc > 4 ? std::atoi(argv[4]) : 0;
    auto start = std::chrono::steady_clock::now();
    const csr_matrix user_items = csr_file::open(argv[1]).to_csr();  // the mapping is released here
    std::printf("shopml users=%lld items=%lld interactions=%lld threads=%d max_history=%d load_s=%.3g\n",
                static_cast<long long>(user_items.rows()), static_cast<long long>(user_items.cols()),
                static_cast<long long>(user_items.nonZeros()), threads, max_history,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::int64_t mismatches = 0;
    for (const std::string name : {"cosine", "bm25"}) {
      const similarity_measure measure = name == "cosine" ? similarity_measure::cosine : similarity_measure::bm25;
      item_item_recommender model({.measure = measure, .K = 50, .K1 = 1.2, .B = 0.75, .max_history = max_history}, threads);
      std::vector<double> times;
      for (int r = 0; r < runs; ++r) {
        start = std::chrono::steady_clock::now();
        model.fit(user_items, {.road = knn_road::sparse});
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      std::sort(times.begin(), times.end());
      std::printf("shopml fit_%s=%.6g neighbours=%lld", name.c_str(), times[times.size() / 2],
                  static_cast<long long>(model.similarity().nonZeros()));
      if (argc > 5) {
        const std::int64_t m =
            bench::neighbour_mismatches(model.similarity(), std::filesystem::path(argv[5]) / (name + ".safetensors"));
        mismatches += m;
        std::printf(" neighbour_mismatches_%s=%lld", name.c_str(), static_cast<long long>(m));
      }
      std::printf("\n");
      std::fflush(stdout);
    }
    std::printf("shopml neighbour_mismatches=%lld peak_rss_mb=%.0f\n", static_cast<long long>(mismatches), bench::peak_rss_mb());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cf_scale_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
