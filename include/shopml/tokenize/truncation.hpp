#pragma once
// Truncation as HF's truncate_encodings: longest_first shares the budget between a
// pair, only_first / only_second cut one side; cut tokens go to `overflowing`.

#include <algorithm>
#include <cstddef>
#include <string>

#include "shopml/error.hpp"
#include "shopml/tokenize/encoding.hpp"

namespace shopml::tokenize {

enum class truncation_strategy { longest_first, only_first, only_second };

struct truncation_params {
  std::size_t max_length = 512;
  std::size_t stride = 0;
  truncation_strategy strategy = truncation_strategy::longest_first;
  truncation_direction direction = truncation_direction::right;
};

namespace detail {
inline void truncate_checked(encoding& e, std::size_t max_length, const truncation_params& p) {
  if (max_length < e.size() && max_length > 0 && p.stride >= max_length)
    throw value_error("truncation stride " + std::to_string(p.stride) + " must be smaller than the length kept (" +
                      std::to_string(max_length) + ")");
  e.truncate(max_length, p.stride, p.direction);
}
}  // namespace detail

// `p.max_length` is the room left for the sequences (special tokens already subtracted).
inline void truncate_encodings(encoding& a, encoding* b, const truncation_params& p) {
  if (p.max_length == 0) {
    a.truncate(0, p.stride, p.direction);
    if (b) b->truncate(0, p.stride, p.direction);
    return;
  }
  const std::size_t total = a.size() + (b ? b->size() : 0);
  if (total <= p.max_length) return;
  const std::size_t to_remove = total - p.max_length;
  if (p.strategy == truncation_strategy::longest_first) {
    if (!b) {
      detail::truncate_checked(a, total - to_remove, p);
      return;
    }
    std::size_t n1 = a.size(), n2 = b->size();
    const bool swap = n1 > n2;
    if (swap) std::swap(n1, n2);
    n2 = n1 > p.max_length ? n1 : std::max(n1, p.max_length - n1);
    if (n1 + n2 > p.max_length) {
      n1 = p.max_length / 2;
      n2 = n1 + p.max_length % 2;
    }
    if (swap) std::swap(n1, n2);
    detail::truncate_checked(a, n1, p);
    detail::truncate_checked(*b, n2, p);
    return;
  }
  encoding* target = p.strategy == truncation_strategy::only_first ? &a : b;
  if (!target) throw value_error("truncation strategy only_second needs a pair of sequences");
  if (target->size() <= to_remove)
    throw value_error("the sequence to truncate has " + std::to_string(target->size()) + " tokens, fewer than the " +
                      std::to_string(to_remove) + " to remove");
  detail::truncate_checked(*target, target->size() - to_remove, p);
}

}  // namespace shopml::tokenize
