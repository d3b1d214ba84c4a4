#pragma once
// Added and special tokens (HF AddedVocabulary): they are cut out of the text before
// the model sees it, leftmost-longest, honouring single_word, lstrip and rstrip.
// Tokens with normalized=false are matched in the raw text, the others in the
// normalized text (against their normalized content). As in HF, a normalized token's
// string (id_to_token, decode) is its normalized content when that differs, and
// "special" is a property of strings: decode skips an id whose string is the content
// of a special token.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "shopml/tokenize/byte_trie.hpp"
#include "shopml/tokenize/unicode.hpp"
#include "shopml/tokenize/utf8.hpp"
#include "shopml/tokenize/vocabulary.hpp"

namespace shopml::tokenize {

struct added_token {
  std::uint32_t id = 0;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

// A part of a string: either text for the model, or an added token's match.
struct added_split {
  std::uint32_t begin, end;
  std::optional<std::uint32_t> id;
};

// One matcher (raw or normalized): a trie of contents plus a first-byte filter.
class added_token_matcher {
 public:
  void insert(std::string_view content, std::uint32_t index) {
    if (content.empty()) return;
    trie_.insert(content, index);
    first_byte_[static_cast<unsigned char>(content[0])] = true;
    any_ = true;
  }
  void finish() { trie_.finish(); }
  bool empty() const noexcept { return !any_; }

  // Splits s into text and matches, as HF's find_matches.
  void split(std::string_view s, const std::vector<added_token>& tokens, std::vector<added_split>& out) const {
    out.clear();
    std::size_t start_offset = 0;
    std::size_t i = 0;
    while (any_ && i < s.size()) {
      if (!first_byte_[static_cast<unsigned char>(s[i])]) {
        ++i;
        continue;
      }
      std::uint32_t index = 0;
      const std::size_t stop0 = trie_.longest_prefix(s, i, s.size(), index);
      if (stop0 == i) {
        ++i;
        continue;
      }
      const added_token& tok = tokens[index];
      std::size_t start = i, stop = stop0;
      i = stop0;  // matches never overlap
      if (tok.single_word && !(is_word_boundary_before(s, start) && is_word_boundary_after(s, stop))) continue;
      if (tok.lstrip) start = std::max(start_offset, start - trailing_whitespace(s.substr(0, start)));
      if (tok.rstrip) stop += leading_whitespace(s.substr(stop));
      if (start_offset < start)
        out.push_back({static_cast<std::uint32_t>(start_offset), static_cast<std::uint32_t>(start), std::nullopt});
      out.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(stop), tok.id});
      start_offset = stop;
    }
    if (start_offset < s.size())
      out.push_back({static_cast<std::uint32_t>(start_offset), static_cast<std::uint32_t>(s.size()), std::nullopt});
  }

 private:
  // HF finds word boundaries and the spans lstrip/rstrip take with the Rust regex crate's
  // \w and \s (UTS #18 classes, Unicode 16.0: the tables of oniguruma's \w and \s).
  static bool is_word_char(char32_t c) { return (unicode::properties(c) & unicode::regex_word) != 0; }
  static bool is_space(char32_t c) { return (unicode::properties(c) & unicode::regex_space) != 0; }
  static char32_t last_char(std::string_view s) {
    std::size_t i = s.size() - 1;
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    return utf8::decode(s, i);
  }
  static bool is_word_boundary_before(std::string_view s, std::size_t at) {
    return at == 0 || !is_word_char(last_char(s.substr(0, at)));
  }
  static bool is_word_boundary_after(std::string_view s, std::size_t at) {
    if (at == s.size()) return true;
    std::size_t i = at;
    return !is_word_char(utf8::decode(s, i));
  }
  static std::size_t trailing_whitespace(std::string_view s) {
    std::size_t n = 0;
    while (n < s.size()) {
      std::size_t i = s.size() - n - 1;
      while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
      std::size_t k = i;
      if (!is_space(utf8::decode(s, k))) break;
      n = s.size() - i;
    }
    return n;
  }
  static std::size_t leading_whitespace(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      std::size_t k = i;
      if (!is_space(utf8::decode(s, k))) break;
      i = k;
    }
    return i;
  }

  byte_trie trie_;
  std::array<bool, 256> first_byte_{};
  bool any_ = false;
};

class added_vocabulary {
 public:
  added_vocabulary() = default;

  // `normalize` turns a normalized=true token's content into what to match.
  template <class Normalize>
  added_vocabulary(std::vector<added_token> tokens, Normalize&& normalize) : tokens_(std::move(tokens)) {
    forms_.reserve(tokens_.size());
    for (std::uint32_t i = 0; i < tokens_.size(); ++i) {
      const auto& t = tokens_[i];
      by_content_[t.content] = t.id;
      by_id_[t.id] = i;
      if (t.special && !t.content.empty()) special_contents_.insert(t.content);
      forms_.push_back(t.normalized ? normalize(t.content) : t.content);
      if (t.normalized)
        normalized_.insert(forms_.back(), i);
      else
        raw_.insert(t.content, i);
    }
    raw_.finish();
    normalized_.finish();
  }

  // HF never forgets that a string was special, even when its token is re-added as a
  // plain one: this vocabulary keeps the special strings of `before`.
  void keep_special_strings(const added_vocabulary& before) {
    special_contents_.insert(before.special_contents_.begin(), before.special_contents_.end());
  }

  const std::vector<added_token>& tokens() const noexcept { return tokens_; }
  const added_token_matcher& raw() const noexcept { return raw_; }
  const added_token_matcher& normalized() const noexcept { return normalized_; }

  std::optional<std::uint32_t> token_to_id(std::string_view content) const {
    const auto it = by_content_.find(std::string(content));
    return it == by_content_.end() ? std::nullopt : std::optional<std::uint32_t>(it->second);
  }
  // The token's string: its normalized content for normalized=true tokens (HF's
  // simple_id_to_token), else its content.
  const std::string* id_to_token(std::uint32_t id) const {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &forms_[it->second];
  }
  bool is_special_token(const std::string& token) const { return special_contents_.count(token) != 0; }

 private:
  std::vector<added_token> tokens_;
  std::unordered_map<std::string, std::uint32_t> by_content_;
  std::unordered_map<std::uint32_t, std::uint32_t> by_id_;
  std::vector<std::string> forms_;  // per token: what id_to_token answers
  std::unordered_set<std::string> special_contents_;
  added_token_matcher raw_, normalized_;
};

}  // namespace shopml::tokenize
