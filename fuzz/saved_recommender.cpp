// libFuzzer target: load an item-item recommender from arbitrary bytes. Any input must
// either load into a usable model (similar_items and recommend work on it) or throw a
// shopml::error; never crash, hang or leak.
//
//   cmake -S fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ && cmake --build build/fuzz --target saved_recommender
//   build/fuzz/saved_recommender fuzz/corpus/saved_recommender -max_total_time=60
// The corpus seeds are small real models (cosine on a toy matrix, BM25 on MovieLens users 1-20).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "shopml/recommend/item_item.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto model = shopml::recommend::item_item_recommender::load_bytes(bytes);
    const std::int32_t n = model.n_items();
    for (std::int32_t item = 0; item < std::min(n, 4); ++item) (void)model.similar_items(item, 5);
    if (n > 0) {
      std::vector<std::int32_t> liked;
      std::vector<double> values;
      for (std::int32_t item = 0; item < n; item += std::max(1, n / 3)) {
        liked.push_back(item);
        values.push_back(1.0 + item % 3);
      }
      (void)model.recommend(liked, values, {.N = 5});
      const std::int32_t banned[] = {0};
      (void)model.recommend(liked, values, {.N = 3, .filter_items = banned});
    }
    // What loads must save to the same bytes' meaning: round trip once.
    const auto again = shopml::recommend::item_item_recommender::load_bytes(model.to_bytes());
    if (again.similarity().nonZeros() != model.similarity().nonZeros()) __builtin_trap();
  } catch (const shopml::error&) {
  }
  return 0;
}
