#pragma once
// Padding as HF's pad_encodings: to the longest of the batch or a fixed length,
// rounded up to a multiple, on the right or the left.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "shopml/tokenize/encoding.hpp"

namespace shopml::tokenize {

struct padding_params {
  std::optional<std::size_t> fixed_length;  // unset: pad to the longest of the batch
  padding_direction direction = padding_direction::right;
  std::optional<std::size_t> pad_to_multiple_of;
  std::uint32_t pad_id = 0;
  std::uint32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

inline void pad_encodings(std::span<encoding> batch, const padding_params& p) {
  if (batch.empty()) return;
  std::size_t length = 0;
  if (p.fixed_length) {
    length = *p.fixed_length;
  } else {
    for (const auto& e : batch) length = std::max(length, e.size());
  }
  if (p.pad_to_multiple_of && *p.pad_to_multiple_of > 0 && length % *p.pad_to_multiple_of != 0)
    length += *p.pad_to_multiple_of - length % *p.pad_to_multiple_of;
  for (auto& e : batch) e.pad(length, p.pad_id, p.pad_type_id, p.pad_token, p.direction);
}

}  // namespace shopml::tokenize
