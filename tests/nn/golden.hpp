#pragma once
// Reading the encoder's golden files (scripts/golden/encoder.py) in the tests, through
// golden_files.hpp.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden_files.hpp"

namespace shopml::test {

struct golden_text {
  std::string file;
  std::size_t offset = 0, length = 0, tokens = 0;
  bool quoted = false;
};

inline std::filesystem::path golden_dir() { return golden::path("nn"); }

inline std::vector<golden_text> read_golden_inputs() {
  std::istringstream in(golden::read_text("nn/minilm_inputs.tsv"));
  std::vector<golden_text> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    golden_text r;
    int quoted = 0;
    std::getline(fields, r.file, '\t');
    fields >> r.offset >> r.length >> quoted >> r.tokens;
    r.quoted = quoted != 0;
    rows.push_back(r);
  }
  return rows;
}

// The text a golden row points at in the shared data ("" inside a quoted CSV field is ").
inline std::string read_text(const golden_text& r) {
  std::ifstream in(std::filesystem::path(SHOPML_DATA_DIR) / r.file, std::ios::binary);
  std::string raw(r.length, '\0');
  in.seekg(static_cast<std::streamoff>(r.offset));
  in.read(raw.data(), static_cast<std::streamsize>(r.length));
  if (!r.quoted) return raw;
  std::string text;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    text += raw[i];
    if (raw[i] == '"' && i + 1 < raw.size() && raw[i + 1] == '"') ++i;
  }
  return text;
}

inline std::vector<std::vector<std::int64_t>> read_golden_tokens() {
  std::istringstream in(golden::read_text("nn/minilm_tokens.txt"));
  std::vector<std::vector<std::int64_t>> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ids(line);
    out.emplace_back();
    for (std::int64_t id; ids >> id;) out.back().push_back(id);
  }
  return out;
}

inline std::vector<float> read_golden_embeddings() { return golden::read_f32("nn/minilm_embeddings.f32"); }

// The indices of `count` golden texts spread evenly over all `total`, so a subset still
// mixes languages and lengths. The count is the environment variable
// SHOPML_ENCODER_PARITY_TEXTS when set (CI's sanitizer pass uses a subset), else `fallback`
// (0: all).
inline std::vector<std::size_t> parity_subset(std::size_t total, std::size_t fallback = 0) {
  std::size_t count = fallback == 0 ? total : std::min(total, fallback);
  if (const char* env = std::getenv("SHOPML_ENCODER_PARITY_TEXTS"); env && std::atol(env) > 0)
    count = std::min<std::size_t>(total, static_cast<std::size_t>(std::atol(env)));
  std::vector<std::size_t> picked;
  for (std::size_t k = 0; k < count; ++k) picked.push_back(k * total / count);
  return picked;
}

}  // namespace shopml::test
