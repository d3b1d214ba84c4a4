#pragma once
// Decoders of HF tokenizers: WordPiece (joins "##" pieces, optional cleanup of
// spaces before punctuation) and ByteLevel (maps byte symbols back to UTF-8).

#include <string>
#include <variant>
#include <vector>

#include "shopml/tokenize/byte_level.hpp"

namespace shopml::tokenize {

namespace decoders {
struct none {};  // tokens joined by ' '
struct wordpiece {
  std::string prefix = "##";
  bool cleanup = true;
};
struct byte_level {};
}  // namespace decoders

using decoder = std::variant<decoders::none, decoders::wordpiece, decoders::byte_level>;

namespace detail {

inline void replace_all_in(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

// HF's wordpiece cleanup, applied to each token (with its leading space).
inline void cleanup_tokenization(std::string& s) {
  static constexpr std::pair<std::string_view, std::string_view> rules[] = {
      {" .", "."},   {" ?", "?"},           {" !", "!"},   {" ,", ","},     {" ' ", "'"},   {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : rules) replace_all_in(s, from, to);
}

}  // namespace detail

inline std::string decode_tokens(const decoder& d, const std::vector<std::string>& tokens) {
  std::string out;
  if (const auto* wp = std::get_if<decoders::wordpiece>(&d)) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string t = tokens[i];
      if (i != 0) {
        if (t.compare(0, wp->prefix.size(), wp->prefix) == 0)
          t.erase(0, wp->prefix.size());
        else
          t.insert(t.begin(), ' ');
      }
      if (wp->cleanup) detail::cleanup_tokenization(t);
      out += t;
    }
  } else if (std::holds_alternative<decoders::byte_level>(d)) {
    std::string joined;
    for (const auto& t : tokens) joined += t;
    out = byte_level::to_bytes_lossy(joined);
  } else {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
  }
  return out;
}

}  // namespace shopml::tokenize
