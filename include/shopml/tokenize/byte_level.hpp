#pragma once
// GPT-2's byte-to-unicode map: every byte gets a printable code point (printable
// Latin-1 bytes map to themselves, the rest to U+0100 onwards), so byte-level BPE
// vocabularies are valid UTF-8 strings.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "shopml/tokenize/utf8.hpp"

namespace shopml::tokenize::byte_level {

inline const std::array<char32_t, 256>& byte_to_char() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

// The byte-level symbol of byte b, as UTF-8.
inline std::string symbol(unsigned char b) {
  std::string s;
  utf8::append(s, byte_to_char()[b]);
  return s;
}

// Rust's String::from_utf8_lossy: each maximal invalid subpart becomes U+FFFD.
inline std::string from_utf8_lossy(std::string_view bytes) { return utf8::replace_invalid(bytes); }

// Maps byte-level symbols back to bytes (other chars pass through), then decodes lossily.
inline std::string to_bytes_lossy(std::string_view symbols) {
  static const std::unordered_map<char32_t, unsigned char> reverse = [] {
    std::unordered_map<char32_t, unsigned char> r;
    for (int b = 0; b < 256; ++b) r[byte_to_char()[b]] = static_cast<unsigned char>(b);
    return r;
  }();
  std::string bytes;
  for (std::size_t i = 0; i < symbols.size();) {
    const std::size_t start = i;
    const char32_t c = utf8::decode(symbols, i);
    const auto it = reverse.find(c);
    if (it != reverse.end())
      bytes.push_back(static_cast<char>(it->second));
    else
      bytes.append(symbols.substr(start, i - start));
  }
  return from_utf8_lossy(bytes);
}

}  // namespace shopml::tokenize::byte_level
