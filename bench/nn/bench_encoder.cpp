// Micro-benchmarks of the BERT encoder's parts on all-MiniLM-L6-v2's real weights, for
// one sequence of 16, 64, 128 and 256 tokens, at 1 and 2 threads: embeddings,
// self-attention (scores, softmax, context), one whole layer, and the whole encoder.

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "shopml/nn/encoder.hpp"
#include "shopml/version.hpp"

namespace {

namespace nn = shopml::nn;

const nn::bert_encoder<>& model() {
  static const auto bert = nn::bert_encoder<>::from_directory(SHOPML_MODEL_DIR);
  return bert;
}

nn::token_batch random_sequence(std::size_t length) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> id(1000, 29000);
  std::vector<int> ids(length);
  for (auto& i : ids) i = id(rng);
  ids.front() = 101;
  ids.back() = 102;
  nn::token_batch batch;
  batch.add(ids);
  return batch;
}

std::vector<float> random_values(std::size_t n) {
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void context(benchmark::State& state, const char* part) {
  state.SetLabel(std::string(part) + " shopml " + shopml::version_string + ", cpu, " + std::to_string(state.range(1)) +
                 " threads");
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}

void BM_embeddings(benchmark::State& state) {
  const auto& bert = model();
  const auto batch = random_sequence(static_cast<std::size_t>(state.range(0)));
  nn::buffer<shopml::cpu> out({}, batch.tokens() * bert.hidden_size());
  for (auto _ : state) {
    nn::embed<shopml::cpu>(nn::tables_of(bert.weights().embeddings), bert.config(), batch, out.data(),
                           static_cast<int>(state.range(1)));
    benchmark::DoNotOptimize(out.data());
  }
  context(state, "embeddings");
}

void BM_attention(benchmark::State& state) {
  const auto& bert = model();
  const auto& c = bert.config();
  const auto batch = random_sequence(static_cast<std::size_t>(state.range(0)));
  const auto qkv = random_values(batch.tokens() * 3 * c.hidden_size);
  nn::buffer<shopml::cpu> out({}, batch.tokens() * c.hidden_size);
  nn::attention_scratch<shopml::cpu> scratch({}, c, batch.max_length());
  for (auto _ : state) {
    nn::self_attention(c, batch, qkv.data(), out.data(), scratch, static_cast<int>(state.range(1)));
    benchmark::DoNotOptimize(out.data());
  }
  const double n = static_cast<double>(state.range(0));
  state.counters["GFLOP/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 4.0 * n * n * static_cast<double>(c.hidden_size),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  context(state, "attention");
}

void BM_layer(benchmark::State& state) {
  const auto& bert = model();
  const auto& c = bert.config();
  const auto batch = random_sequence(static_cast<std::size_t>(state.range(0)));
  auto hidden = random_values(batch.tokens() * c.hidden_size);
  nn::layer_scratch<shopml::cpu> scratch({}, c, batch);
  for (auto _ : state) {
    bert.layers()[0].forward(c, batch, hidden.data(), scratch, static_cast<int>(state.range(1)));
    benchmark::DoNotOptimize(hidden.data());
  }
  const double n = static_cast<double>(state.range(0)), h = static_cast<double>(c.hidden_size);
  const double flops = 2.0 * n * (4.0 * h * h + 2.0 * h * static_cast<double>(c.intermediate_size)) + 4.0 * n * n * h;
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * flops, benchmark::Counter::kIsRate,
                                                 benchmark::Counter::kIs1000);
  context(state, "layer");
}

void BM_encoder(benchmark::State& state) {
  const auto& bert = model();
  const auto batch = random_sequence(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(bert.forward(batch, static_cast<int>(state.range(1))));
  context(state, "encoder");
}

void lengths(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2})
    for (int length : {16, 64, 128, 256}) b->Args({length, threads});
  b->ArgNames({"tokens", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(BM_embeddings)->Apply(lengths);
BENCHMARK(BM_attention)->Apply(lengths);
BENCHMARK(BM_layer)->Apply(lengths);
BENCHMARK(BM_encoder)->Apply(lengths);
