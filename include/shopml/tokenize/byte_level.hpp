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
inline std::string from_utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::size_t bad = utf8::find_invalid(bytes.substr(i));
    if (bad == std::string_view::npos) {
      out.append(bytes.substr(i));
      break;
    }
    out.append(bytes.substr(i, bad));
    i += bad;
    // Length of the maximal subpart: the lead byte plus the continuation bytes that
    // are still allowed after it.
    const auto b = static_cast<unsigned char>(bytes[i]);
    std::size_t len = 1;
    const std::size_t need = utf8::sequence_length(b);
    if (b >= 0xC2 && b <= 0xF4) {
      unsigned char lo = 0x80, hi = 0xBF;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
      while (len < need && i + len < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i + len]);
        if (len == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80) break;
        ++len;
      }
    }
    out += "\xEF\xBF\xBD";
    i += len;
  }
  return out;
}

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
