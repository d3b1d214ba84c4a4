#pragma once
// Post-processors of HF tokenizers: TemplateProcessing (BertProcessing and
// RobertaProcessing are templates too), plus ByteLevel's offset trimming. They wrap
// the encoded sequence(s) with special tokens and merge them into one encoding.

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/tokenize/encoding.hpp"

namespace shopml::tokenize {

struct template_piece {
  bool is_sequence = false;
  std::uint32_t sequence = 0;  // 0 = $A, 1 = $B
  std::string special;         // key into special tokens when !is_sequence
  std::uint32_t type_id = 0;
};

struct template_special_token {
  std::vector<std::uint32_t> ids;
  std::vector<std::string> tokens;
};

// Removes whitespace (the byte-level 'Ġ') at token ends from the offsets, as
// ByteLevel/RobertaProcessing(trim_offsets=True) do.
inline void trim_byte_level_offsets(encoding& e, bool add_prefix_space) {
  static const std::string space = "\xC4\xA0";  // U+0120, byte-level ' '
  for (auto& o : e.overflowing) trim_byte_level_offsets(o, add_prefix_space);
  for (std::size_t i = 0; i < e.size(); ++i) {
    const std::string& t = e.tokens[i];
    std::size_t lead = 0, trail = 0;
    while (lead * 2 + 2 <= t.size() && t.compare(lead * 2, 2, space) == 0) ++lead;
    while (trail * 2 + 2 <= t.size() && t.compare(t.size() - trail * 2 - 2, 2, space) == 0) ++trail;
    if (lead == 0 && trail == 0) continue;
    auto trim = [&](std::pair<std::size_t, std::size_t>& o, std::size_t leading) {
      if (leading > 0) o.first = std::min(o.first + leading, o.second);
      if (trail > 0 && o.second >= trail) o.second = std::max(o.second - trail, o.first);
    };
    if (lead > 0 && (i == 0 || e.offsets[i].first == 0) && add_prefix_space && lead == 1) lead = 0;
    trim(e.offsets[i], lead);
    trim(e.char_offsets[i], lead);
  }
}

class post_processor {
 public:
  post_processor() = default;
  post_processor(std::vector<template_piece> single, std::vector<template_piece> pair,
                 std::unordered_map<std::string, template_special_token> specials)
      : single_(std::move(single)), pair_(std::move(pair)), specials_(std::move(specials)), has_template_(true) {
    for (const auto* t : {&single_, &pair_})
      for (const auto& p : *t)
        if (!p.is_sequence && !specials_.count(p.special))
          throw parse_error("TemplateProcessing: special token '" + p.special + "' is used but not defined");
  }

  // ByteLevel (or Roberta) offset trimming after the template.
  void set_trim_offsets(bool trim, bool add_prefix_space) {
    trim_offsets_ = trim;
    add_prefix_space_ = add_prefix_space;
  }

  bool trims_offsets() const noexcept { return trim_offsets_; }
  bool adds_prefix_space() const noexcept { return add_prefix_space_; }

  // How many special tokens the template adds (truncation leaves room for them).
  std::size_t added_tokens(bool is_pair) const {
    if (!has_template_) return 0;
    std::size_t n = 0;
    for (const auto& p : is_pair ? pair_ : single_)
      if (!p.is_sequence) n += specials_.at(p.special).ids.size();
    return n;
  }

  encoding process(encoding a, encoding* b, bool add_special_tokens) const {
    if (trim_offsets_) {
      trim_byte_level_offsets(a, add_prefix_space_);
      if (b) trim_byte_level_offsets(*b, add_prefix_space_);
    }
    if (!has_template_) {
      if (b) a.merge_with(*b);
      return a;
    }
    encoding result;
    result.reserve(a.size() + (b ? b->size() : 0) + added_tokens(b != nullptr));
    for (const auto& p : b ? pair_ : single_) {
      if (p.is_sequence) {
        encoding& part = (p.sequence == 0 || !b) ? a : *b;
        part.type_ids.assign(part.size(), p.type_id);
        if (result.empty() && result.overflowing.empty() && used_once(p, b != nullptr))
          result.merge_with(std::move(part));
        else
          result.merge_with(part);
      } else if (add_special_tokens) {
        result.merge_with(special_encoding(specials_.at(p.special), p.type_id));
      }
    }
    return result;
  }

 private:
  // Whether the template names this sequence only once (so it may be moved from).
  bool used_once(const template_piece& piece, bool is_pair) const {
    std::size_t n = 0;
    for (const auto& p : is_pair ? pair_ : single_) n += p.is_sequence && p.sequence == piece.sequence;
    return n == 1;
  }

  static encoding special_encoding(const template_special_token& s, std::uint32_t type_id) {
    encoding e;
    const std::size_t n = s.ids.size();
    e.ids = s.ids;
    e.tokens = s.tokens;
    e.type_ids.assign(n, type_id);
    e.attention_mask.assign(n, 1);
    e.special_tokens_mask.assign(n, 1);
    e.offsets.assign(n, {0, 0});
    e.char_offsets.assign(n, {0, 0});
    e.word_ids.assign(n, std::nullopt);
    e.sequence_ids.assign(n, std::nullopt);
    return e;
  }

  std::vector<template_piece> single_, pair_;
  std::unordered_map<std::string, template_special_token> specials_;
  bool has_template_ = false;
  bool trim_offsets_ = false, add_prefix_space_ = false;
};

}  // namespace shopml::tokenize
