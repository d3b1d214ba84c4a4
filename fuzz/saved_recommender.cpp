// libFuzzer target: load an item-item and a user-user recommender from arbitrary bytes.
// Any input must either load into a usable model (similar_items / similar_users and
// recommend work on it) or throw a shopml::error; never crash, hang or leak.
//
//   cmake -S fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ && cmake --build build/fuzz --target saved_recommender
//   build/fuzz/saved_recommender fuzz/corpus/saved_recommender -max_total_time=60
// The corpus seeds are small real models (item-item cosine on a toy matrix, BM25 on MovieLens
// users 1-20; user-user cosine on a toy matrix).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "shopml/recommend/item_item.hpp"
#include "shopml/recommend/user_user.hpp"

namespace {
void load_user_user(std::span<const std::byte> bytes) {
  try {
    const auto model = shopml::recommend::user_user_recommender::load_bytes(bytes);
    // user_items' width is not bounded by the file's size (an empty column costs nothing), but
    // scoring allocates per item: keep within the fuzzer's memory limit.
    if (model.n_items() > (1 << 20)) return;
    const std::int32_t n = model.n_users();
    for (std::int32_t user = 0; user < std::min(n, 4); ++user) {
      (void)model.similar_users(user, 5);
      (void)model.recommend(user, {.N = 5});
    }
    std::vector<std::int32_t> users;
    for (std::int32_t user = 0; user < n; user += std::max(1, n / 3)) users.push_back(user);
    (void)model.recommend(users, {.N = 3}, 1);
    const auto again = shopml::recommend::user_user_recommender::load_bytes(model.to_bytes());
    if (again.user_items().nonZeros() != model.user_items().nonZeros()) __builtin_trap();
  } catch (const shopml::error&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  load_user_user(bytes);
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
