#pragma once
// Shared by the recommend tests: MovieLens-100k as implicit sees it (ids minus 1) and the
// golden CSR matrices written by scripts/golden/recommend.py.

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "golden_files.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/recommend/interactions.hpp"

namespace shopml::test {

inline std::vector<recommend::interaction> movielens_records() {
  const std::string path = std::string(SHOPML_DATA_DIR) + "/movielens-100k/u.data";
  std::ifstream in(path);
  if (!in) throw io_error("cannot open " + path);
  std::vector<recommend::interaction> records;
  std::int32_t user = 0, item = 0;
  double rating = 0;
  std::int64_t timestamp = 0;
  while (in >> user >> item >> rating >> timestamp) records.push_back({user - 1, item - 1, rating, timestamp});
  return records;
}

inline constexpr std::int32_t movielens_users = 943;
inline constexpr std::int32_t movielens_items = 1682;

inline std::vector<double> golden_f64(const io::safetensors_file& file, const std::string& name) {
  return golden::f64(file, name);
}

inline recommend::csr_matrix golden_csr(const io::safetensors_file& file, const std::string& prefix, std::int32_t cols) {
  const auto indptr = file.to_i64(prefix + ".indptr");
  const auto indices = file.to_i64(prefix + ".indices");
  const auto data = golden_f64(file, prefix + ".data");
  std::vector<recommend::interaction> entries;
  for (std::size_t r = 0; r + 1 < indptr.size(); ++r)
    for (auto p = indptr[r]; p < indptr[r + 1]; ++p)
      entries.push_back({static_cast<std::int32_t>(r), static_cast<std::int32_t>(indices[static_cast<std::size_t>(p)]),
                         data[static_cast<std::size_t>(p)], 0});
  return recommend::to_csr(entries, static_cast<std::int32_t>(indptr.size() - 1), cols);
}

inline io::safetensors_file golden_file() { return golden::open("recommend/movielens.safetensors"); }

}  // namespace shopml::test
