// Micro-benchmarks: item-item fit and batch recommend on MovieLens-100k, exact embedding
// search (memory-bound single query, compute-bound batch).

#include <benchmark/benchmark.h>

#include <fstream>
#include <numeric>
#include <random>

#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/item_item.hpp"

using namespace shopml;
using namespace shopml::recommend;

namespace {

const csr_matrix& movielens() {
  static const csr_matrix m = [] {
    std::ifstream in(std::string(SHOPML_DATA_DIR) + "/movielens-100k/u.data");
    std::vector<interaction> records;
    std::int32_t u = 0, i = 0;
    double r = 0;
    std::int64_t t = 0;
    while (in >> u >> i >> r >> t) records.push_back({u - 1, i - 1, r, t});
    return to_csr(records, 943, 1682);
  }();
  return m;
}

void fit(benchmark::State& state, similarity_measure measure) {
  item_item_recommender model({.measure = measure, .K = 50}, static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(model.fit(movielens()).similarity().nonZeros());
  state.counters["threads"] = static_cast<double>(state.range(0));
}
BENCHMARK_CAPTURE(fit, cosine, similarity_measure::cosine)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(fit, bm25, similarity_measure::bm25)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void recommend_all(benchmark::State& state) {
  auto model = bm25_recommender(50, 1.2, 0.75);
  model.fit(movielens());
  std::vector<std::int32_t> users(943);
  std::iota(users.begin(), users.end(), 0);
  for (auto _ : state)
    benchmark::DoNotOptimize(model.recommend(users, movielens(), {.N = 10}, static_cast<int>(state.range(0))).ids.data());
  state.SetItemsProcessed(state.iterations() * 943);
}
BENCHMARK(recommend_all)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void embedding_search(benchmark::State& state) {
  const std::size_t rows = 200000, dim = 384, queries = static_cast<std::size_t>(state.range(0));
  static const embedding_index<> index = [&] {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> x(rows * dim);
    for (auto& v : x) v = u(rng);
    return embedding_index<>(std::move(x), dim, embedding_metric::inner_product);
  }();
  std::vector<float> q(queries * dim, 0.5f);
  for (auto _ : state) benchmark::DoNotOptimize(index.search(q, 10).ids.data());
  // bytes a one-query-at-a-time scan would read: the matrix once per query
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * queries * rows * dim * sizeof(float)));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * rows * dim * queries, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(embedding_search)->Arg(1)->Arg(64)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
