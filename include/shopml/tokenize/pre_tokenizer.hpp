#pragma once
// Pre-tokenizers of HF tokenizers: they cut a normalized piece into words, given as
// byte ranges of the normalized text. BertPreTokenizer, WhitespaceSplit, Whitespace,
// Punctuation, Digits, Split (literal, or the GPT-2 pattern) and ByteLevel; a
// Sequence is flattened into the step list when loading.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "shopml/tokenize/normalized_string.hpp"
#include "shopml/tokenize/unicode.hpp"

namespace shopml::tokenize {

struct byte_range {
  std::uint32_t begin, end;
};

enum class split_behavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

namespace pre_tokenizers {

struct bert {};
struct whitespace_split {};
struct whitespace {};  // \w+|[^\w\s]+
struct punctuation {
  split_behavior behavior = split_behavior::isolated;
};
struct digits {
  bool individual_digits = false;
};
// The GPT-2 pattern 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+,
// run by a hand-written scanner.
struct gpt2_pattern {
  split_behavior behavior = split_behavior::isolated;
  bool invert = false;
};
struct split_literal {
  std::string pattern;
  split_behavior behavior = split_behavior::removed;
  bool invert = false;
};
// Byte-level: the byte-to-symbol mapping itself is done by the BPE model (see bpe.hpp).
struct byte_level {
  bool add_prefix_space = true;
  bool use_regex = true;
  bool trim_offsets = true;
};

}  // namespace pre_tokenizers

using pre_tokenizer_step =
    std::variant<pre_tokenizers::bert, pre_tokenizers::whitespace_split, pre_tokenizers::whitespace, pre_tokenizers::punctuation,
                 pre_tokenizers::digits, pre_tokenizers::gpt2_pattern, pre_tokenizers::split_literal, pre_tokenizers::byte_level>;

namespace detail {

// A piece of the range and whether it matched the delimiter pattern.
struct match_piece {
  std::uint32_t begin, end;
  bool is_match;
};

// HF's SplitDelimiterBehavior applied to matches covering a range; empty pieces dropped.
inline void apply_behavior(const std::vector<match_piece>& pieces, split_behavior behavior, std::vector<byte_range>& out) {
  std::vector<match_piece> acc;
  bool previous_match = false;
  switch (behavior) {
    case split_behavior::removed:
      for (const auto& p : pieces)
        if (!p.is_match) acc.push_back(p);
      break;
    case split_behavior::isolated:
      acc = pieces;
      break;
    case split_behavior::merged_with_previous:
      for (const auto& p : pieces) {
        if (p.is_match && !previous_match && !acc.empty())
          acc.back().end = p.end;
        else
          acc.push_back(p);
        previous_match = p.is_match;
      }
      break;
    case split_behavior::merged_with_next:
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !previous_match && !acc.empty())
          acc.back().begin = it->begin;
        else
          acc.push_back(*it);
        previous_match = it->is_match;
      }
      std::reverse(acc.begin(), acc.end());
      break;
    case split_behavior::contiguous:
      for (const auto& p : pieces) {
        if (p.is_match == previous_match && !acc.empty())
          acc.back().end = p.end;
        else
          acc.push_back(p);
        previous_match = p.is_match;
      }
      break;
  }
  for (const auto& p : acc)
    if (p.end > p.begin) out.push_back({p.begin, p.end});
}

// Pieces of [r.begin, r.end) where every char satisfying `pred` is its own match.
template <class Pred>
std::vector<match_piece> char_matches(const std::string& text, byte_range r, Pred&& pred) {
  std::vector<match_piece> pieces;
  std::uint32_t start = r.begin;
  for (std::size_t i = r.begin; i < r.end;) {
    const std::size_t at = i;
    const char32_t c = utf8::decode(text, i);
    if (pred(c)) {
      if (at > start) pieces.push_back({start, static_cast<std::uint32_t>(at), false});
      pieces.push_back({static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(i), true});
      start = static_cast<std::uint32_t>(i);
    }
  }
  if (r.end > start) pieces.push_back({start, r.end, false});
  return pieces;
}

inline void invert_matches(std::vector<match_piece>& pieces) {
  for (auto& p : pieces) p.is_match = !p.is_match;
}

// ASCII classes for the hot loops: 1 whitespace, 2 BERT punctuation, 0 other.
inline constexpr auto ascii_bert_class = [] {
  std::array<std::uint8_t, 128> t{};
  for (int c = 0; c < 128; ++c) {
    if (c == ' ' || (c >= 9 && c <= 13))
      t[c] = 1;
    else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
      t[c] = 2;
  }
  return t;
}();

// BertPreTokenizer: whitespace separates words, every punctuation char is a word.
inline void split_bert(const std::string& text, byte_range r, std::vector<byte_range>& out) {
  std::uint32_t start = r.begin;
  for (std::size_t i = r.begin; i < r.end;) {
    const auto at = static_cast<std::uint32_t>(i);
    const auto b = static_cast<unsigned char>(text[i]);
    std::uint8_t cls;
    if (b < 0x80) {
      cls = ascii_bert_class[b];
      ++i;
    } else {
      const std::uint16_t p = unicode::properties(utf8::decode(text, i));
      cls = (p & unicode::whitespace) ? 1 : (p & unicode::bert_punctuation) ? 2 : 0;
    }
    if (cls == 0) continue;
    if (at > start) out.push_back({start, at});
    if (cls == 2) out.push_back({at, static_cast<std::uint32_t>(i)});
    start = static_cast<std::uint32_t>(i);
  }
  if (r.end > start) out.push_back({start, r.end});
}

inline bool is_whitespace(char32_t c) { return unicode::properties(c) & unicode::whitespace; }

// Character class for the GPT-2 scanner.
enum class gpt2_class : std::uint8_t { letter, number, space, other };

inline gpt2_class classify_gpt2(char32_t c) {
  if (c < 0x80) {
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return gpt2_class::letter;
    if (c >= '0' && c <= '9') return gpt2_class::number;
    if (c == ' ' || (c >= 9 && c <= 13)) return gpt2_class::space;
    return gpt2_class::other;
  }
  const std::uint16_t p = unicode::properties(c);
  if (p & unicode::regex_letter) return gpt2_class::letter;
  if (p & unicode::regex_number) return gpt2_class::number;
  if (p & unicode::regex_space) return gpt2_class::space;
  return gpt2_class::other;
}

// Matches of the GPT-2 pattern (leftmost-first alternation, as oniguruma runs it).
// The pattern covers every char, so the matches tile the range.
inline void scan_gpt2(const std::string& text, byte_range r, std::vector<match_piece>& pieces) {
  const std::size_t end = r.end;
  auto class_at = [&](std::size_t i, std::size_t& next) {
    next = i;
    return classify_gpt2(utf8::decode(text, next));
  };
  std::size_t i = r.begin;
  while (i < end) {
    const std::size_t start = i;
    std::size_t next;
    // 's|'t|'re|'ve|'m|'ll|'d
    if (text[i] == '\'' && i + 1 < end) {
      const char a = text[i + 1];
      if (a == 's' || a == 't' || a == 'm' || a == 'd') {
        pieces.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 2), true});
        i += 2;
        continue;
      }
      if (i + 2 < end) {
        const char b = text[i + 2];
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
          pieces.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 3), true});
          i += 3;
          continue;
        }
      }
    }
    gpt2_class cls = class_at(i, next);
    std::size_t body = i;  // where the run of one class starts (after an optional ' ')
    if (text[i] == ' ' && next < end) {
      std::size_t after;
      const gpt2_class following = class_at(next, after);
      if (following != gpt2_class::space) {
        cls = following;
        body = next;
      }
    }
    if (cls == gpt2_class::space) {
      // \s+(?!\S)|\s+ : a run of spaces gives up its last char to the next word.
      std::size_t j = i, last = i;
      std::size_t n = 0;
      while (j < end) {
        std::size_t k;
        if (class_at(j, k) != gpt2_class::space) break;
        last = j;
        j = k;
        ++n;
      }
      i = (j < end && n >= 2) ? last : j;
    } else {
      std::size_t j = body;
      while (j < end) {
        std::size_t k;
        if (class_at(j, k) != cls) break;
        j = k;
      }
      i = j;
    }
    pieces.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(i), true});
  }
}

inline bool is_regex_space(char32_t c) { return classify_gpt2(c) == gpt2_class::space; }

inline bool is_word_char(char32_t c) {
  if (c < 0x80) return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '_';
  return unicode::properties(c) & unicode::regex_word;
}

// \w+|[^\w\s]+ as matches; whitespace runs between them are the gaps.
inline void scan_whitespace_pattern(const std::string& text, byte_range r, std::vector<byte_range>& out) {
  std::size_t i = r.begin;
  while (i < r.end) {
    std::size_t next = i;
    const char32_t c = utf8::decode(text, next);
    if (is_regex_space(c) && !is_word_char(c)) {
      i = next;
      continue;
    }
    const bool word = is_word_char(c);
    std::size_t j = next;
    while (j < r.end) {
      std::size_t k = j;
      const char32_t d = utf8::decode(text, k);
      if (is_word_char(d) != word || (!word && is_regex_space(d))) break;
      j = k;
    }
    out.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j)});
    i = j;
  }
}

}  // namespace detail

class pre_tokenizer {
 public:
  pre_tokenizer() = default;
  explicit pre_tokenizer(std::vector<pre_tokenizer_step> steps) : steps_(std::move(steps)) {}

  const std::vector<pre_tokenizer_step>& steps() const noexcept { return steps_; }

  // The ByteLevel step, when there is one (it must be the last step).
  const pre_tokenizers::byte_level* byte_level() const noexcept {
    return steps_.empty() ? nullptr : std::get_if<pre_tokenizers::byte_level>(&steps_.back());
  }

  // Prepends the space ByteLevel(add_prefix_space) asks for; it inherits the first char's range.
  void prepare(normalized_string& s) const {
    const auto* bl = byte_level();
    if (!bl || !bl->add_prefix_space || s.empty() || s.text[0] == ' ') return;
    s.text.insert(s.text.begin(), ' ');
    s.begin.insert(s.begin.begin(), s.begin[0]);
    s.end.insert(s.end.begin(), s.end[0]);
  }

  // Words of `s` (after prepare), in order.
  void split(const normalized_string& s, std::vector<byte_range>& words) const {
    words.clear();
    if (s.empty()) return;
    words.push_back({0, static_cast<std::uint32_t>(s.size())});
    std::vector<byte_range> next;
    for (const auto& step : steps_) {
      next.clear();
      for (const auto& r : words) std::visit([&](const auto& st) { apply(st, s.text, r, next); }, step);
      words.swap(next);
    }
  }

 private:
  using out_t = std::vector<byte_range>;
  static void apply(const pre_tokenizers::bert&, const std::string& t, byte_range r, out_t& out) {
    detail::split_bert(t, r, out);
  }
  static void apply(const pre_tokenizers::whitespace_split&, const std::string& t, byte_range r, out_t& out) {
    detail::apply_behavior(detail::char_matches(t, r, detail::is_whitespace), split_behavior::removed, out);
  }
  static void apply(const pre_tokenizers::whitespace&, const std::string& t, byte_range r, out_t& out) {
    detail::scan_whitespace_pattern(t, r, out);
  }
  static void apply(const pre_tokenizers::punctuation& p, const std::string& t, byte_range r, out_t& out) {
    auto is_punct = [](char32_t c) { return (unicode::properties(c) & unicode::bert_punctuation) != 0; };
    detail::apply_behavior(detail::char_matches(t, r, is_punct), p.behavior, out);
  }
  static void apply(const pre_tokenizers::digits& d, const std::string& t, byte_range r, out_t& out) {
    auto is_digit = [](char32_t c) {
      return c < 0x80 ? (c >= '0' && c <= '9') : (unicode::properties(c) & unicode::regex_number) != 0;
    };
    detail::apply_behavior(detail::char_matches(t, r, is_digit),
                           d.individual_digits ? split_behavior::isolated : split_behavior::contiguous, out);
  }
  static void apply(const pre_tokenizers::gpt2_pattern& p, const std::string& t, byte_range r, out_t& out) {
    std::vector<detail::match_piece> pieces;
    detail::scan_gpt2(t, r, pieces);
    if (p.invert) detail::invert_matches(pieces);
    detail::apply_behavior(pieces, p.behavior, out);
  }
  static void apply(const pre_tokenizers::split_literal& p, const std::string& t, byte_range r, out_t& out) {
    std::vector<detail::match_piece> pieces;
    std::size_t start = r.begin;
    if (!p.pattern.empty()) {
      for (std::size_t at = t.find(p.pattern, r.begin); at != std::string::npos && at + p.pattern.size() <= r.end;
           at = t.find(p.pattern, at + p.pattern.size())) {
        if (at > start) pieces.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(at), false});
        pieces.push_back({static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(at + p.pattern.size()), true});
        start = at + p.pattern.size();
      }
    }
    if (r.end > start) pieces.push_back({static_cast<std::uint32_t>(start), r.end, false});
    if (p.invert) detail::invert_matches(pieces);
    detail::apply_behavior(pieces, p.behavior, out);
  }
  static void apply(const pre_tokenizers::byte_level& b, const std::string& t, byte_range r, out_t& out) {
    if (!b.use_regex) {
      out.push_back(r);
      return;
    }
    std::vector<detail::match_piece> pieces;
    detail::scan_gpt2(t, r, pieces);
    detail::apply_behavior(pieces, split_behavior::isolated, out);
  }

  std::vector<pre_tokenizer_step> steps_;
};

}  // namespace shopml::tokenize
