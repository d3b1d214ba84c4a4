// Stages of the tokenizer on real review lines, with bytes/s counters: normalization,
// pre-tokenization, the WordPiece and BPE models alone, and full encoding.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "shopml/tokenize/tokenizer.hpp"

namespace tk = shopml::tokenize;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_lines(const fs::path& p, std::size_t limit) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; lines.size() < limit && std::getline(in, line);) lines.push_back(line);
  return lines;
}

const std::vector<std::string>& english() {
  static const auto lines = read_lines(fs::path(SHOPML_DATA_DIR) / "reviews-en/womens_clothing_reviews_sample.csv", 2000);
  return lines;
}
const std::vector<std::string>& chinese() {
  static const auto lines = read_lines(fs::path(SHOPML_DATA_DIR) / "reviews-zh/online_shopping_10_cats.csv", 2000);
  return lines;
}

const tk::tokenizer& bert() {
  static const tk::tokenizer t =
      tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json").no_truncation().no_padding();
  return t;
}
const tk::tokenizer& gpt2() {
  static const tk::tokenizer t =
      tk::tokenizer::from_gpt2_files(fs::path(SHOPML_REPO_DIR) / "tests/golden/tokenize/gpt2/vocab.json",
                                     fs::path(SHOPML_REPO_DIR) / "tests/golden/tokenize/gpt2/merges.txt");
  return t;
}

std::size_t total_bytes(const std::vector<std::string>& lines) {
  std::size_t n = 0;
  for (const auto& l : lines) n += l.size();
  return n;
}

template <class Fn>
void over_lines(benchmark::State& state, const std::vector<std::string>& lines, Fn&& fn) {
  for (auto _ : state)
    for (const auto& l : lines) fn(l);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(lines)));
}

const std::vector<std::string>& lines_for(int which) { return which == 0 ? english() : chinese(); }

void normalize_bert(benchmark::State& state) {
  tk::normalized_string s;
  over_lines(state, lines_for(state.range(0)), [&](const std::string& l) {
    s.assign(l, 0);
    bert().config().normalize(s);
    benchmark::DoNotOptimize(s.text.data());
  });
}

template <const tk::tokenizer& (*T)()>
void pre_tokenize(benchmark::State& state) {
  std::vector<std::string> normalized;
  for (const auto& l : lines_for(state.range(0))) {
    tk::normalized_string s(l, 0);
    T().config().normalize(s);
    normalized.push_back(s.text);
  }
  tk::normalized_string s;
  std::vector<tk::byte_range> words;
  over_lines(state, normalized, [&](const std::string& l) {
    s.assign(l, 0);
    T().config().pre_tokenize.prepare(s);
    T().config().pre_tokenize.split(s, words);
    benchmark::DoNotOptimize(words.data());
  });
}

// The model alone on pre-tokenized words.
template <const tk::tokenizer& (*T)()>
void model(benchmark::State& state) {
  std::vector<std::string> words;
  for (const auto& l : lines_for(state.range(0))) {
    tk::normalized_string s(l, 0);
    T().config().normalize(s);
    T().config().pre_tokenize.prepare(s);
    std::vector<tk::byte_range> ranges;
    T().config().pre_tokenize.split(s, ranges);
    for (const auto& r : ranges) words.push_back(s.text.substr(r.begin, r.end - r.begin));
  }
  std::vector<tk::model_token> out;
  over_lines(state, words, [&](const std::string& w) {
    out.clear();
    std::visit([&](const auto& m) { m.tokenize(w, 0, static_cast<std::uint32_t>(w.size()), out); }, *T().config().model);
    benchmark::DoNotOptimize(out.data());
  });
}

template <const tk::tokenizer& (*T)()>
void encode(benchmark::State& state) {
  over_lines(state, lines_for(state.range(0)), [&](const std::string& l) { benchmark::DoNotOptimize(T().encode(l).ids.data()); });
}

template <const tk::tokenizer& (*T)()>
void encode_batch(benchmark::State& state) {
  const auto& lines = lines_for(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(T().encode_batch(lines, true, threads).data());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(lines)));
}

}  // namespace

// Argument 0: English reviews, 1: Chinese reviews.
BENCHMARK(normalize_bert)->Arg(0)->Arg(1);
BENCHMARK(pre_tokenize<bert>)->Name("pre_tokenize_bert")->Arg(0)->Arg(1);
BENCHMARK(pre_tokenize<gpt2>)->Name("pre_tokenize_gpt2")->Arg(0)->Arg(1);
BENCHMARK(model<bert>)->Name("wordpiece")->Arg(0)->Arg(1);
BENCHMARK(model<gpt2>)->Name("bpe")->Arg(0)->Arg(1);
BENCHMARK(encode<bert>)->Name("encode_bert")->Arg(0)->Arg(1);
BENCHMARK(encode<gpt2>)->Name("encode_gpt2")->Arg(0)->Arg(1);
BENCHMARK(encode_batch<bert>)->Name("encode_batch_bert")->Args({0, 1})->Args({0, 2})->Args({1, 1})->Args({1, 2})->UseRealTime();
