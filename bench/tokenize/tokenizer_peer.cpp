// The shopml side of bench/peers/tokenizer.sh: encodes every line of the given files
// with encode_batch, several times, and reports the times; optionally writes the ids.
//
//   tokenizer_peer --model bert-base-uncased|bert-base-chinese|gpt2|<dir with tokenizer.json>
//                  [--threads N] [--repeats R] [--ids-out FILE] FILE...

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "shopml/tokenize/tokenizer.hpp"

namespace tk = shopml::tokenize;
namespace fs = std::filesystem;

static tk::tokenizer load(const std::string& model, const fs::path& repo) {
  if (model == "bert-base-uncased")
    return tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json").no_truncation().no_padding();
  if (model == "bert-base-chinese")
    return tk::tokenizer::from_bert_vocab(fs::path(SHOPML_DATA_DIR) / "vocab/bert-base-chinese-vocab.txt");
  if (model == "gpt2")
    return tk::tokenizer::from_gpt2_files(repo / "tests/golden/tokenize/gpt2/vocab.json",
                                          repo / "tests/golden/tokenize/gpt2/merges.txt");
  return tk::tokenizer::from_file(fs::path(model) / "tokenizer.json").no_truncation().no_padding();
}

int main(int argc, char** argv) try {
  std::string model = "bert-base-uncased", ids_out;
  int threads = 1, repeats = 5;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return std::string(argv[++i]); };
    if (a == "--model")
      model = next();
    else if (a == "--threads")
      threads = std::stoi(next());
    else if (a == "--repeats")
      repeats = std::stoi(next());
    else if (a == "--ids-out")
      ids_out = next();
    else
      files.push_back(a);
  }
  std::vector<std::string> lines;
  std::size_t bytes = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw shopml::io_error("cannot open " + f);
    for (std::string line; std::getline(in, line);) {
      bytes += line.size();
      lines.push_back(std::move(line));
    }
  }
  const tk::tokenizer t = load(model, SHOPML_REPO_DIR);
  std::vector<tk::encoding> out = t.encode_batch(lines, true, threads);  // warm-up (and the BPE cache, as HF's)
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    out = t.encode_batch(lines, true, threads);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  if (!ids_out.empty()) {
    std::ofstream o(ids_out);
    for (const auto& e : out) {
      for (std::size_t k = 0; k < e.ids.size(); ++k) o << (k ? " " : "") << e.ids[k];
      o << '\n';
    }
  }
  std::printf("lines=%zu bytes=%zu threads=%d median_s=%.6f MBps=%.2f\n", lines.size(), bytes, threads, median,
              bytes / median / 1e6);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "tokenizer_peer: " << e.what() << "\n";
  return 1;
}
