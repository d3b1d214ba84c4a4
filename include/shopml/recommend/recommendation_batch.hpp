#pragma once
// The result type of the recommenders' batch recommend (item_item.hpp, user_user.hpp), on
// its own so that what only reads recommendations (recommend/evaluation.hpp) does not compile the
// recommenders and their safetensors files.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace shopml::recommend {

// Many users' recommendations, row r for the r-th requested user, N columns, padded with
// index -1 and score -FLT_MAX where a user has fewer than N.
struct recommendation_batch {
  std::int32_t N = 0;
  std::vector<std::int32_t> ids;
  std::vector<double> scores;

  std::int32_t rows() const { return N == 0 ? 0 : static_cast<std::int32_t>(ids.size() / static_cast<std::size_t>(N)); }
  std::span<const std::int32_t> ids_of(std::int32_t row) const {
    return std::span<const std::int32_t>(ids).subspan(static_cast<std::size_t>(row) * N, static_cast<std::size_t>(N));
  }
  std::span<const double> scores_of(std::int32_t row) const {
    return std::span<const double>(scores).subspan(static_cast<std::size_t>(row) * N, static_cast<std::size_t>(N));
  }
};

// The padding score of recommendation_batch (implicit pads with -np.finfo(np.float32).max).
inline constexpr double missing_score = -static_cast<double>(std::numeric_limits<float>::max());

}  // namespace shopml::recommend
