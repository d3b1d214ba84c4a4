#pragma once
// A rows × dim matrix (row-major) of standard normal draws, the same for the same seed.

#include <cstddef>
#include <random>
#include <vector>

namespace shopml::test {

inline std::vector<float> normal_matrix(std::size_t rows, std::size_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * dim);
  for (auto& v : x) v = normal(rng);
  return x;
}

}  // namespace shopml::test
