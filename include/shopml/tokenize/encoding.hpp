#pragma once
// The result of encoding one text or pair, with HF's Encoding semantics for merging
// (post-processing), truncation with stride into overflowing encodings, and padding.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace shopml::tokenize {

enum class truncation_direction { right, left };
enum class padding_direction { right, left };

struct encoding {
  std::vector<std::uint32_t> ids, type_ids, attention_mask, special_tokens_mask;
  std::vector<std::string> tokens;
  std::vector<std::pair<std::size_t, std::size_t>> offsets;       // byte offsets into the original text
  std::vector<std::pair<std::size_t, std::size_t>> char_offsets;  // the same in code points (HF Python's offsets)
  std::vector<std::optional<std::uint32_t>> word_ids;
  std::vector<std::optional<std::uint32_t>> sequence_ids;  // 0 for the first text, 1 for the pair, none for specials
  std::vector<encoding> overflowing;

  std::size_t size() const noexcept { return ids.size(); }
  bool empty() const noexcept { return ids.empty(); }

  // Calls fn on every per-token field, so operations stay in step across all of them.
  template <class Fn>
  void for_each_field(Fn&& fn) {
    fn(ids), fn(type_ids), fn(attention_mask), fn(special_tokens_mask), fn(tokens), fn(offsets), fn(char_offsets), fn(word_ids),
        fn(sequence_ids);
  }
  template <class Fn>
  void for_each_field_with(const encoding& other, Fn&& fn) {
    fn(ids, other.ids), fn(type_ids, other.type_ids), fn(attention_mask, other.attention_mask),
        fn(special_tokens_mask, other.special_tokens_mask), fn(tokens, other.tokens), fn(offsets, other.offsets),
        fn(char_offsets, other.char_offsets), fn(word_ids, other.word_ids), fn(sequence_ids, other.sequence_ids);
  }

  void reserve(std::size_t n) {
    for_each_field([n](auto& field) { field.reserve(n); });
  }

  // Tokens [from, to) without overflowing parts.
  encoding slice(std::size_t from, std::size_t to) const {
    encoding out;
    out.for_each_field_with(*this, [&](auto& dst, const auto& src) { dst.assign(src.begin() + from, src.begin() + to); });
    return out;
  }

  // As merge_with(const&), taking over `pair`'s buffers when this one is still empty.
  void merge_with(encoding&& pair) {
    if (empty() && overflowing.empty()) {
      *this = std::move(pair);
      return;
    }
    merge_with(static_cast<const encoding&>(pair));
  }

  // HF Encoding::merge_with: appends `pair`, and combines the overflowing parts of both.
  void merge_with(const encoding& pair) {
    std::vector<encoding> combined;
    for (const auto& mine : overflowing) {
      encoding n = mine;
      n.merge_with(pair);
      combined.push_back(std::move(n));
      for (const auto& theirs : pair.overflowing) {
        encoding m = mine;
        m.merge_with(theirs);
        combined.push_back(std::move(m));
      }
    }
    for (const auto& theirs : pair.overflowing) {
      encoding n = *this;
      n.merge_with(theirs);
      combined.push_back(std::move(n));
    }
    for_each_field_with(pair, [](auto& dst, const auto& src) { dst.insert(dst.end(), src.begin(), src.end()); });
    overflowing = std::move(combined);
  }

  // HF Encoding::truncate: keeps max_length tokens, the rest goes to `overflowing` in
  // windows of max_length that overlap by `stride`.
  void truncate(std::size_t max_length, std::size_t stride, truncation_direction direction) {
    const std::size_t n = size();
    if (max_length >= n) return;
    if (max_length == 0) {
      encoding whole = std::move(*this);
      *this = encoding{};
      overflowing.push_back(std::move(whole));
      return;
    }
    const std::size_t step = max_length - stride;  // callers guarantee stride < max_length
    std::vector<std::pair<std::size_t, std::size_t>> parts;
    if (direction == truncation_direction::right) {
      for (std::size_t start = 0; start < n; start += step) {
        const std::size_t stop = std::min(start + max_length, n);
        parts.emplace_back(start, stop);
        if (stop == n) break;
      }
    } else {
      for (std::size_t last = n; last > 0;) {
        const std::size_t stop = last;
        const std::size_t start = stop > max_length ? stop - max_length : 0;
        parts.emplace_back(start, stop);
        if (start == 0) break;
        last = stop > step ? stop - step : 0;
      }
    }
    encoding head = slice(parts[0].first, parts[0].second);
    for (std::size_t i = 1; i < parts.size(); ++i) {
      head.overflowing.push_back(slice(parts[i].first, parts[i].second));
      // HF drops the sequence ranges of the cut parts.
      head.overflowing.back().sequence_ids.assign(head.overflowing.back().size(), std::nullopt);
    }
    *this = std::move(head);
  }

  // HF Encoding::pad: overflowing parts first, then this one up to `length`.
  void pad(std::size_t length, std::uint32_t pad_id, std::uint32_t pad_type_id, const std::string& pad_token,
           padding_direction direction) {
    for (auto& o : overflowing) o.pad(length, pad_id, pad_type_id, pad_token, direction);
    if (size() >= length) return;
    const std::size_t missing = length - size();
    auto grow = [&](auto& field, auto value) {
      auto where = direction == padding_direction::right ? field.end() : field.begin();
      field.insert(where, missing, value);
    };
    grow(ids, pad_id);
    grow(type_ids, pad_type_id);
    grow(attention_mask, 0u);
    grow(special_tokens_mask, 1u);
    grow(tokens, pad_token);
    grow(offsets, std::pair<std::size_t, std::size_t>{0, 0});
    grow(char_offsets, std::pair<std::size_t, std::size_t>{0, 0});
    grow(word_ids, std::optional<std::uint32_t>{});
    grow(sequence_ids, std::optional<std::uint32_t>{});
  }
};

}  // namespace shopml::tokenize
