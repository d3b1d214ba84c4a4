// libFuzzer target for the HNSW index loader (recommend/hnsw_file.hpp): any byte string
// either loads into an index that can be searched, or throws shopml::parse_error; never a
// crash, a hang or an out-of-bounds read. The checksum is not verified here, so that
// mutated inputs reach the checks behind it (sizes, ids, levels, links, values).
//
//   scripts/fuzz.sh hnsw_file

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "shopml/recommend/hnsw_index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint64_t> aligned((size + 7) / 8);  // the loader reads sections in place
  if (size) std::memcpy(aligned.data(), data, size);
  try {
    const auto index = shopml::recommend::hnsw_index<>::from_bytes(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(aligned.data()), size), "fuzz", false);
    if (index.size() > 0 && index.dim() <= 4096) {
      const std::vector<float> query(index.dim(), 0.5f);
      const auto hits = index.search(query, 1, {.ef = 8, .threads = 1});
      volatile std::int32_t sink = hits.ids[0];
      (void)sink;
    }
  } catch (const shopml::parse_error&) {
  }
  return 0;
}
