#pragma once
// How the embedding indexes store their vectors: float32 (4 bytes a value), IEEE float16
// (2 bytes, rounded to nearest even, relative error ≤ 2^-11) or int8 (1 byte, plus one
// float32 scale per row: symmetric, scale = max|x| / 127, x ≈ scale · round(x / scale)),
// the storage types of faiss's SQfp16 / SQ8 and usearch's f16 / i8. Queries stay float32
// and the products are summed in float32 (backend/kernels.hpp's scores_compact_vectors);
// an int8 row's sum is multiplied by its scale once.
//
// Per-row int8 scales need no training pass, so rows can be added one at a time; on
// unit-length 384-d MiniLM embeddings the exact top-10 over int8 rows keeps ≥ 0.99 of the
// float32 top-10 (tests/recommend/test_compact_vectors.cpp).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shopml/error.hpp"
#include "shopml/io/half.hpp"

namespace shopml::recommend {

enum class vector_storage : std::uint8_t { f32 = 0, f16 = 1, i8 = 2 };

inline std::string_view to_string(vector_storage s) {
  switch (s) {
    case vector_storage::f32:
      return "f32";
    case vector_storage::f16:
      return "f16";
    case vector_storage::i8:
      return "i8";
  }
  return "?";
}

// Bytes of one stored value.
inline std::size_t value_bytes(vector_storage s) { return s == vector_storage::f32 ? 4 : s == vector_storage::f16 ? 2 : 1; }

// x (finite, n values) as float16 bits; value_error naming `what` when a value exceeds
// float16's range (65504), which would become infinite.
inline void encode_f16(const float* x, std::size_t n, std::uint16_t* out, const std::string& what) {
  for (std::size_t i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > 65504.0f)
      throw value_error(what + ": value " + std::to_string(x[i]) + " at column " + std::to_string(i) +
                        " does not fit float16 storage");
    out[i] = io::f32_to_f16(x[i]);
  }
}

// x (finite, n values) as int8 with its returned scale; a zero row has scale 0.
inline float encode_i8(const float* x, std::size_t n, std::int8_t* out) {
  float largest = 0.0f;
  for (std::size_t i = 0; i < n; ++i) largest = std::max(largest, std::fabs(x[i]));
  if (largest == 0.0f) {
    std::fill(out, out + n, std::int8_t{0});
    return 0.0f;
  }
  const float scale = largest / 127.0f, inverse = 127.0f / largest;
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::int8_t>(std::clamp(std::nearbyint(x[i] * inverse), -127.0f, 127.0f));
  return scale;
}

}  // namespace shopml::recommend
