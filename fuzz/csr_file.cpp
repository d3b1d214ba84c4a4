// libFuzzer target: an interaction file (recommend/csr_file.hpp) from arbitrary bytes. Any
// input must either load into a matrix every rule of the format holds for — to_csr works and
// a fit on it runs — or throw a shopml::error; never crash, hang or leak.
//
//   cmake -S fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ && cmake --build build/fuzz --target csr_file
//   build/fuzz/csr_file fuzz/corpus/csr_file -max_total_time=60
// The corpus seeds are small files written by save_csr (float and double values, an empty
// matrix, a user without interactions).

#include "shopml/recommend/csr_file.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

#include "shopml/recommend/similarity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto file = shopml::recommend::csr_file::from_bytes(bytes, "fuzz");
    // Columns cost memory in a fit (one accumulator slot each), not in the file: stay within
    // the fuzzer's memory limit.
    if (file.cols() > (1 << 16) || file.rows() > (1 << 16)) return 0;
    const auto m = file.to_csr();
    if (m.nonZeros() != file.nnz()) __builtin_trap();
    for (const auto measure : {shopml::recommend::similarity_measure::cosine, shopml::recommend::similarity_measure::bm25}) {
      const auto s =
          shopml::recommend::item_similarity(m, {.measure = measure, .K = 3}, shopml::recommend::knn_options{.threads = 1});
      if (s.rows() != file.cols()) __builtin_trap();
    }
  } catch (const shopml::error&) {
  }
  return 0;
}
