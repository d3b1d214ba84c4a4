#pragma once
// UTF-8 decoding and encoding. HF tokenizers only ever sees valid Unicode (Python str
// or Rust &str), so shopml validates once at the API boundary and throws value_error
// naming the text and the byte offset (or, when asked, replaces invalid bytes by U+FFFD
// as Python's errors="replace" does); everything after that may assume well-formed input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shopml/error.hpp"

namespace shopml::tokenize::utf8 {

// Length of the sequence a lead byte starts (1 for continuation bytes, so scanners advance).
inline std::size_t sequence_length(unsigned char lead) noexcept {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Decodes the code point starting at s[i] of valid UTF-8 and advances i past it.
inline char32_t decode(std::string_view s, std::size_t& i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  const std::size_t n = sequence_length(b0);
  char32_t c = b0 & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return c;
}

inline void append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

inline std::size_t encoded_length(char32_t c) noexcept { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

// Byte offset of the first malformed sequence (overlong forms, surrogates, > U+10FFFF,
// truncated sequences), or npos when `s` is valid UTF-8.
inline std::size_t find_invalid(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path, eight bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;  // U+D800..U+DFFF surrogates are not scalar values
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if ((p[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

// `s` with each maximal invalid subpart (the lead byte and the continuation bytes still
// allowed after it, or one stray byte) replaced by U+FFFD: what Python's
// bytes.decode("utf-8", errors="replace") and Rust's String::from_utf8_lossy give.
inline std::string replace_invalid(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t bad = find_invalid(s.substr(i));
    if (bad == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    out.append(s.substr(i, bad));
    i += bad;
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = 1;
    const std::size_t need = sequence_length(b);
    if (b >= 0xC2 && b <= 0xF4) {
      unsigned char lo = 0x80, hi = 0xBF;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
      while (len < need && i + len < s.size()) {
        const auto c = static_cast<unsigned char>(s[i + len]);
        if (len == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80) break;
        ++len;
      }
    }
    out += "\xEF\xBF\xBD";
    i += len;
  }
  return out;
}

// No index: a text on its own rather than the index-th of a batch.
inline constexpr std::size_t no_index = std::string_view::npos;

// Throws value_error naming `what` (with `index` in a batch: "text 3"), the byte offset
// and the byte when `s` is not valid UTF-8.
// `suggest_replace` adds how to read such bytes as U+FFFD instead (for the tokenizer's texts).
inline void validate(std::string_view s, std::string_view what = "text", std::size_t index = no_index,
                     bool suggest_replace = false) {
  const std::size_t bad = find_invalid(s);
  if (bad == std::string_view::npos) return;
  static constexpr char hex[] = "0123456789ABCDEF";
  const auto b = static_cast<unsigned char>(s[bad]);
  throw value_error(std::string(what) + (index == no_index ? "" : " " + std::to_string(index)) + " is not valid UTF-8 at byte " +
                    std::to_string(bad) + " (0x" + hex[b >> 4] + hex[b & 15] + ")" +
                    (suggest_replace ? "; replace_invalid_utf8() reads such bytes as U+FFFD instead" : ""));
}

// The text to work on: `s` itself when it is valid UTF-8; when not, its U+FFFD repair
// (kept in `storage`) if `replace`, else validate's value_error.
inline std::string_view checked(std::string_view s, std::string& storage, bool replace, std::string_view what = "text",
                                std::size_t index = no_index) {
  if (!replace) {
    validate(s, what, index, true);
    return s;
  }
  if (find_invalid(s) == std::string_view::npos) return s;
  storage = replace_invalid(s);
  return storage;
}

}  // namespace shopml::tokenize::utf8
