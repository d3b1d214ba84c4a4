#pragma once
// Real embeddings for the index tests: the 2,257 golden texts (English and Chinese reviews
// and titles) embedded by sentence-transformers all-MiniLM-L6-v2 (scripts/golden/encoder.py),
// 384-d and unit length.

#include <cstddef>
#include <vector>

#include "golden_files.hpp"

namespace shopml::test {

inline constexpr std::size_t golden_dim = 384;

inline std::vector<float> golden_review_embeddings() { return golden::read_f32("nn/minilm_embeddings.f32", golden_dim); }

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
