#pragma once
// A batch of tokenised sequences, packed back to back without padding: sequence i holds
// tokens [offsets[i], offsets[i+1]). Packing gives the same numbers as a padded batch
// (padding never changes the unpadded tokens' outputs) and spends no work on padding.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <string>
#include <vector>

#include "shopml/error.hpp"

namespace shopml::nn {

struct token_batch {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> type_ids;
  std::vector<std::uint8_t> attention_mask;  // 1 = attend (HF attention_mask), 0 = masked out
  std::vector<std::size_t> offsets{0};

  std::size_t size() const { return offsets.size() - 1; }
  std::size_t tokens() const { return ids.size(); }
  std::size_t begin(std::size_t i) const { return offsets[i]; }
  std::size_t length(std::size_t i) const { return offsets[i + 1] - offsets[i]; }
  std::size_t max_length() const {
    std::size_t m = 0;
    for (std::size_t i = 0; i < size(); ++i) m = std::max(m, length(i));
    return m;
  }
  // True when some token of sequence i is masked out.
  bool masked(std::size_t i) const {
    for (std::size_t t = begin(i); t < offsets[i + 1]; ++t)
      if (!attention_mask[t]) return true;
    return false;
  }

  // Appends one sequence; empty type_ids mean all 0, an empty mask means all 1.
  template <std::ranges::input_range Ids, std::ranges::input_range Types = std::vector<int>,
            std::ranges::input_range Mask = std::vector<int>>
  void add(const Ids& seq_ids, const Types& seq_types = {}, const Mask& seq_mask = {}) {
    const std::size_t start = ids.size();
    for (auto id : seq_ids) ids.push_back(static_cast<std::int64_t>(id));
    const std::size_t n = ids.size() - start;
    const auto check = [&](std::size_t got, const char* what) {
      if (got != 0 && got != n) {
        ids.resize(start);
        throw shape_error("sequence " + std::to_string(size()) + ": " + std::to_string(n) + " ids but " + std::to_string(got) +
                          " " + what);
      }
    };
    check(static_cast<std::size_t>(std::ranges::distance(seq_types)), "token type ids");
    check(static_cast<std::size_t>(std::ranges::distance(seq_mask)), "attention mask values");
    for (auto t : seq_types) type_ids.push_back(static_cast<std::int64_t>(t));
    type_ids.resize(ids.size(), 0);
    for (auto m : seq_mask) attention_mask.push_back(m != 0);
    attention_mask.resize(ids.size(), 1);
    offsets.push_back(ids.size());
  }
};

}  // namespace shopml::nn
