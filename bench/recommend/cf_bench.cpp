// shopml's side of bench/peers/cf.sh (also runnable alone):
//   cf_bench CSV PEER_DIR THREADS RUNS [KNN_ROWS DIM QUERIES]
// Fits cosine and BM25 item-item models (K=50) on a `user,item,value` CSV, recommends 10
// items to every user, counts items whose neighbour set differs from implicit's (the
// matrices cf_peer.py left in PEER_DIR) and reports the peak memory so far, then times
// exact embedding top-10 search of QUERIES random queries over a KNN_ROWS × DIM float32
// matrix next to a streaming read of the same matrix. Prints key=value lines; times are medians of RUNS.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "peer_neighbours.hpp"
#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/item_item.hpp"

using namespace shopml;
using namespace shopml::recommend;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x.size() % 2 ? x[x.size() / 2] : 0.5 * (x[x.size() / 2 - 1] + x[x.size() / 2]);
}

// Uniform floats in [-1, 1) from a per-thread xorshift: 1.5 GB fills in a second.
std::vector<float> random_matrix(std::size_t rows, std::size_t dim, std::uint64_t seed, int threads) {
  std::vector<float> x(rows * dim);
  const std::ptrdiff_t chunks = 64;
  parallel_for(0, chunks, threads, [&](std::ptrdiff_t c) {
    std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(c) + 1;
    const std::size_t begin = x.size() * static_cast<std::size_t>(c) / chunks,
                      end = x.size() * static_cast<std::size_t>(c + 1) / chunks;
    for (std::size_t i = begin; i < end; ++i) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      x[i] = static_cast<float>(static_cast<double>(s >> 11) * 0x1.0p-52 - 1.0);
    }
  });
  return x;
}

// Read bandwidth: a parallel sum over the whole array (GB/s, best of `runs`).
double streaming_read_gbps(std::span<const float> x, int threads, int runs) {
  const int n_threads = num_threads(threads);
  double best = 0.0;
  for (int r = 0; r < runs; ++r) {
    std::vector<double> partial(static_cast<std::size_t>(n_threads), 0.0);
    const auto start = std::chrono::steady_clock::now();
    parallel_for(0, n_threads, n_threads, [&](std::ptrdiff_t t) {
      const std::size_t begin = x.size() * static_cast<std::size_t>(t) / static_cast<std::size_t>(n_threads);
      const std::size_t end = x.size() * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(n_threads);
      float acc[16] = {};
      std::size_t i = begin;
      for (; i + 16 <= end; i += 16)
        for (int l = 0; l < 16; ++l) acc[l] += x[i + static_cast<std::size_t>(l)];
      for (; i < end; ++i) acc[0] += x[i];
      partial[static_cast<std::size_t>(t)] = std::accumulate(acc, acc + 16, 0.0);
    });
    const double elapsed = seconds_since(start);
    if (std::accumulate(partial.begin(), partial.end(), 0.0) == 12345.678) std::puts("");  // keeps the sum alive
    best = std::max(best, static_cast<double>(x.size() * sizeof(float)) / elapsed / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s CSV PEER_DIR THREADS RUNS [KNN_ROWS DIM QUERIES]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path csv = argv[1], peer_dir = argv[2];
  const int threads = std::atoi(argv[3]), runs = std::max(1, std::atoi(argv[4]));
  const std::size_t knn_rows = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1000000;
  const std::size_t dim = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 384;
  const std::size_t queries = argc > 7 ? std::strtoull(argv[7], nullptr, 10) : 1000;

  const auto log = read_interactions(csv);
  const csr_matrix user_items = log.user_items();
  std::vector<std::int32_t> users(static_cast<std::size_t>(user_items.rows()));
  std::iota(users.begin(), users.end(), 0);
  std::printf("shopml users=%lld items=%lld interactions=%lld threads=%d\n", static_cast<long long>(user_items.rows()),
              static_cast<long long>(user_items.cols()), static_cast<long long>(user_items.nonZeros()), threads);

  std::int64_t mismatches = 0;
  for (const std::string name : {"cosine", "bm25"}) {
    auto model = name == "cosine" ? cosine_recommender(50, threads) : bm25_recommender(50, 1.2, 0.75, threads);
    std::vector<double> fit, rec;
    for (int r = 0; r < runs; ++r) {
      auto start = std::chrono::steady_clock::now();
      model.fit(user_items);
      fit.push_back(seconds_since(start));
      start = std::chrono::steady_clock::now();
      const auto batch = model.recommend(users, user_items, {.N = 10}, threads);
      rec.push_back(seconds_since(start));
      if (batch.rows() != static_cast<std::int32_t>(users.size())) return 1;
    }
    const std::int64_t m = bench::neighbour_mismatches(model.similarity(), peer_dir / (name + ".safetensors"));
    mismatches += m;
    std::printf("shopml fit_%s=%.6g recommend_%s=%.6g neighbour_mismatches_%s=%lld\n", name.c_str(), median(fit), name.c_str(),
                median(rec), name.c_str(), static_cast<long long>(m));
  }
  // Before the embedding matrix below: the recommenders' peak alone.
  std::printf("shopml items=%lld neighbour_mismatches=%lld peak_rss_mb=%.0f\n", static_cast<long long>(user_items.cols()),
              static_cast<long long>(mismatches), bench::peak_rss_mb());

  if (knn_rows == 0) return 0;
  const std::size_t matrix_bytes = knn_rows * dim * sizeof(float);
  recommend::embedding_index<> index(random_matrix(knn_rows, dim, 1, threads), dim, embedding_metric::inner_product, threads);
  const double mem_gbps = streaming_read_gbps(index.storage(), threads, 3);
  const auto q = random_matrix(queries, dim, 2, threads);
  std::vector<double> batch_times, single_times;
  for (int r = 0; r < std::min(runs, 3); ++r) {
    auto start = std::chrono::steady_clock::now();
    const auto hits = index.search(q, 10, threads);
    batch_times.push_back(seconds_since(start));
    start = std::chrono::steady_clock::now();
    const auto one = index.search(std::span<const float>(q).first(dim), 10, threads);
    single_times.push_back(seconds_since(start));
    if (hits.queries() != queries || one.ids_of(0)[0] != hits.ids_of(0)[0]) return 1;
  }
  const double t_batch = median(batch_times), t_single = median(single_times);
  const double gflops = 2.0 * static_cast<double>(knn_rows * dim) * static_cast<double>(queries) / t_batch / 1e9;
  std::printf(
      "shopml knn_rows=%zu dim=%zu queries=%zu batch_s=%.4g gflops=%.4g effective_gbps=%.4g single_query_s=%.4g "
      "single_query_gbps=%.4g mem_gbps=%.4g\n",
      knn_rows, dim, queries, t_batch, gflops, static_cast<double>(matrix_bytes) * static_cast<double>(queries) / t_batch / 1e9,
      t_single, static_cast<double>(matrix_bytes) / t_single / 1e9, mem_gbps);
  return 0;
}
