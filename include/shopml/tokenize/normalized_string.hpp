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
  normalized_string(std::string_view original, std::size_t offset) { assign(original, offset); }

  // Like the constructor, reusing this object's buffers.
  void assign(std::string_view original, std::size_t offset) {
    text.assign(original);
    begin.resize(text.size());
    end.resize(text.size());
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t n = utf8::sequence_length(static_cast<unsigned char>(text[i]));
      for (std::size_t k = 0; k < n && i + k < text.size(); ++k) {
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

  // Writes characters into another normalized_string (reusing its buffers); each
  // char inherits the range of the source char.
  class writer {
   public:
    writer(normalized_string& into, std::size_t reserve) : out_(into) {
      out_.text.clear();
      out_.begin.clear();
      out_.end.clear();
      out_.text.reserve(reserve);
      out_.begin.reserve(reserve);
      out_.end.reserve(reserve);
    }
    void push(char32_t c, std::uint32_t b, std::uint32_t e) {
      if (c < 0x80) return push_ascii(static_cast<char>(c), b, e);
      const std::size_t n = utf8::encoded_length(c);
      utf8::append(out_.text, c);
      for (std::size_t k = 0; k < n; ++k) {
        out_.begin.push_back(b);
        out_.end.push_back(e);
      }
    }
    void push_ascii(char c, std::uint32_t b, std::uint32_t e) {
      out_.text.push_back(c);
      out_.begin.push_back(b);
      out_.end.push_back(e);
    }

   private:
    normalized_string& out_;
  };

  // Maps every char through fn(c, b, e, writer&), which pushes zero or more chars.
  // The result is built in a per-thread spare and swapped in, so no allocation is
  // needed once the buffers have grown.
  template <class Fn>
  void transform(Fn&& fn) {
    normalized_string& next = spare();
    {
      writer out(next, text.size() + text.size() / 4 + 8);
      for (std::size_t i = 0; i < text.size();) {
        const std::uint32_t b = begin[i], e = end[i];
        const char32_t c = utf8::decode(text, i);
        fn(c, b, e, out);
      }
    }
    swap(next);
  }

  void swap(normalized_string& other) noexcept {
    text.swap(other.text);
    begin.swap(other.begin);
    end.swap(other.end);
  }

  static normalized_string& spare() {
    thread_local normalized_string buffer;
    return buffer;
  }
};

}  // namespace shopml::tokenize
