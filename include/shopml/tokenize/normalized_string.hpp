#pragma once
// A piece of text being normalized, remembering for every byte which byte range of
// the original input it came from (HF's NormalizedString alignments). Token offsets
// are read from these alignments, so they always point into the caller's text.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shopml/tokenize/utf8.hpp"

namespace shopml::tokenize {

struct normalized_string {
  std::string text;
  // For byte i of `text`: [begin[i], end[i]) in the original input.
  std::vector<std::uint32_t> begin, end;

  normalized_string() = default;

  // `original` starts at byte `offset` of the input the alignments refer to.
  normalized_string(std::string_view original, std::size_t offset) : text(original) {
    begin.resize(text.size());
    end.resize(text.size());
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t n = utf8::sequence_length(static_cast<unsigned char>(text[i]));
      for (std::size_t k = 0; k < n; ++k) {
        begin[i + k] = static_cast<std::uint32_t>(offset + i);
        end[i + k] = static_cast<std::uint32_t>(offset + i + n);
      }
      i += n;
    }
  }

  bool empty() const noexcept { return text.empty(); }
  std::size_t size() const noexcept { return text.size(); }

  // Original byte range of normalized bytes [from, to), as HF's convert_offsets.
  std::pair<std::size_t, std::size_t> original_range(std::size_t from, std::size_t to) const {
    if (from >= to) return {from < begin.size() ? begin[from] : 0, from < begin.size() ? begin[from] : 0};
    return {begin[from], end[to - 1]};
  }

  // Writes characters into a new buffer; each inherits the range of the source char.
  class writer {
   public:
    explicit writer(std::size_t reserve) {
      text_.reserve(reserve);
      begin_.reserve(reserve);
      end_.reserve(reserve);
    }
    void push(char32_t c, std::uint32_t b, std::uint32_t e) {
      const std::size_t n = utf8::encoded_length(c);
      utf8::append(text_, c);
      begin_.insert(begin_.end(), n, b);
      end_.insert(end_.end(), n, e);
    }
    void push_ascii(char c, std::uint32_t b, std::uint32_t e) {
      text_.push_back(c);
      begin_.push_back(b);
      end_.push_back(e);
    }
    void finish(normalized_string& into) {
      into.text = std::move(text_);
      into.begin = std::move(begin_);
      into.end = std::move(end_);
    }

   private:
    std::string text_;
    std::vector<std::uint32_t> begin_, end_;
  };

  // Maps every char through fn(c, b, e, writer&), which pushes zero or more chars.
  template <class Fn>
  void transform(Fn&& fn) {
    writer out(text.size() + text.size() / 4);
    for (std::size_t i = 0; i < text.size();) {
      const std::uint32_t b = begin[i], e = end[i];
      const char32_t c = utf8::decode(text, i);
      fn(c, b, e, out);
    }
    out.finish(*this);
  }
};

}  // namespace shopml::tokenize
