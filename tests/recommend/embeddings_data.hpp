#pragma once
// Real embeddings for the index tests: the 2,257 golden texts (English and Chinese reviews
// and titles) embedded by sentence-transformers all-MiniLM-L6-v2 (scripts/golden/encoder.py),
// 384-d and unit length.

#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

#include "shopml/error.hpp"

namespace shopml::test {

inline constexpr std::size_t golden_dim = 384;

inline std::vector<float> golden_review_embeddings() {
  const std::string path = std::string(SHOPML_GOLDEN_DIR) + "/nn/minilm_embeddings.f32";
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw io_error("cannot open '" + path + "'");
  std::vector<float> v(static_cast<std::size_t>(in.tellg()) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  if (v.size() % golden_dim != 0) throw shape_error("'" + path + "' does not hold rows of 384 floats");
  return v;
}

// Share of `expect`'s ids found in `got` (recall of got against the exact top-k).
template <class A, class B>
double overlap(const A& got, const B& expect) {
  std::size_t found = 0, total = 0;
  for (auto e : expect) {
    if (e < 0) continue;
    ++total;
    for (auto g : got) found += g == e;
  }
  return total ? static_cast<double>(found) / static_cast<double>(total) : 1.0;
}

}  // namespace shopml::test
