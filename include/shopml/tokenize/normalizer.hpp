#pragma once
// Normalizers of HF tokenizers (BertNormalizer, NFD, NFC, Lowercase, StripAccents,
// Replace, Strip, Sequence), applied in order to a normalized_string. A Sequence is
// flattened into the step list when loading.

#include <algorithm>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "shopml/tokenize/normalized_string.hpp"
#include "shopml/tokenize/unicode.hpp"

namespace shopml::tokenize {

namespace normalizers {

struct bert {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // unset: follow `lowercase`, as HF does
  bool lowercase = true;
};
struct nfd {};
struct nfc {};
struct lowercase {};
struct strip_accents {};
struct replace {
  std::string pattern, content;  // literal string pattern
};
struct strip {
  bool left = true, right = true;
};

}  // namespace normalizers

using normalizer_step = std::variant<normalizers::bert, normalizers::nfd, normalizers::nfc, normalizers::lowercase,
                                     normalizers::strip_accents, normalizers::replace, normalizers::strip>;

namespace detail {

inline bool is_ascii(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// NFD: full decomposition, then stable canonical ordering of combining-mark runs.
inline void decompose_canonical(normalized_string& s) {
  if (is_ascii(s.text)) return;
  struct mark {
    char32_t c;
    std::uint32_t b, e;
    std::uint8_t ccc;
  };
  std::vector<mark> pending;  // the current run of non-starters, to be ordered
  normalized_string& next = normalized_string::spare();
  normalized_string::writer out(next, s.size() + s.size() / 2);
  auto flush = [&] {
    std::stable_sort(pending.begin(), pending.end(), [](const mark& x, const mark& y) { return x.ccc < y.ccc; });
    for (const auto& m : pending) out.push(m.c, m.b, m.e);
    pending.clear();
  };
  char32_t parts[4];
  for (std::size_t i = 0; i < s.size();) {
    const std::uint32_t b = s.begin[i], e = s.end[i];
    const char32_t c = utf8::decode(s.text, i);
    const std::size_t n =
        (unicode::properties(c) & unicode::has_decomposition) ? unicode::decompose(c, parts) : (parts[0] = c, 1);
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint8_t ccc = unicode::combining_class(parts[k]);
      if (ccc == 0) {
        flush();
        out.push(parts[k], b, e);
      } else {
        pending.push_back({parts[k], b, e, ccc});
      }
    }
  }
  flush();
  s.swap(next);
}

// NFC: NFD, then compose each char with the last starter unless blocked.
inline void compose_canonical(normalized_string& s) {
  if (is_ascii(s.text)) return;
  decompose_canonical(s);
  struct item {
    char32_t c;
    std::uint32_t b, e;
  };
  std::vector<item> chars;
  for (std::size_t i = 0; i < s.size();) {
    const std::uint32_t b = s.begin[i], e = s.end[i];
    chars.push_back({utf8::decode(s.text, i), b, e});
  }
  std::vector<item> result;
  std::ptrdiff_t starter = -1;
  std::uint8_t last_class = 0;  // class of the last kept char
  for (const auto& it : chars) {
    const std::uint8_t ccc = unicode::combining_class(it.c);
    const bool adjacent = starter >= 0 && result.size() == static_cast<std::size_t>(starter) + 1;
    const bool blocked = !adjacent && (last_class == 0 || last_class >= ccc);
    if (starter >= 0 && !blocked) {
      if (const char32_t composite = unicode::compose(result[starter].c, it.c)) {
        result[starter].c = composite;
        continue;
      }
    }
    result.push_back(it);
    if (ccc == 0) starter = static_cast<std::ptrdiff_t>(result.size()) - 1;
    last_class = ccc;
  }
  normalized_string& next = normalized_string::spare();
  normalized_string::writer out(next, s.size());
  for (const auto& it : result) out.push(it.c, it.b, it.e);
  s.swap(next);
}

inline void lowercase(normalized_string& s) {
  char32_t lower[3];
  s.transform([&](char32_t c, std::uint32_t b, std::uint32_t e, normalized_string::writer& out) {
    if (c < 0x80) {
      out.push_ascii(static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c), b, e);
      return;
    }
    const std::size_t n = (unicode::properties(c) & unicode::has_lowercase) ? unicode::to_lowercase(c, lower) : (lower[0] = c, 1);
    for (std::size_t k = 0; k < n; ++k) out.push(lower[k], b, e);
  });
}

// Removes the chars having any of `marks` (nonspacing for BERT, all combining marks for StripAccents).
inline void remove_marks(normalized_string& s, std::uint16_t marks) {
  if (is_ascii(s.text)) return;
  s.transform([marks](char32_t c, std::uint32_t b, std::uint32_t e, normalized_string::writer& out) {
    if (!(unicode::properties(c) & marks)) out.push(c, b, e);
  });
}

// clean_text and handle_chinese_chars in one pass; lowercases too when no accent
// stripping has to come in between.
inline void bert_clean(normalized_string& s, const normalizers::bert& cfg, bool lowercase_now) {
  s.transform([&](char32_t c, std::uint32_t b, std::uint32_t e, normalized_string::writer& out) {
    if (c < 0x80) {
      if (cfg.clean_text && (c < 0x20 || c == 0x7F)) {
        if (c == '\t' || c == '\n' || c == '\r') out.push_ascii(' ', b, e);
        return;
      }
      if (lowercase_now && c >= 'A' && c <= 'Z') c += 32;
      out.push_ascii(static_cast<char>(c), b, e);
      return;
    }
    const std::uint16_t p = unicode::properties(c);
    if (cfg.clean_text) {
      if (p & unicode::clean_text_dropped) return;
      if (p & unicode::clean_text_space) {
        out.push_ascii(' ', b, e);
        return;
      }
    }
    if (cfg.handle_chinese_chars && (p & unicode::chinese)) {
      out.push_ascii(' ', b, e);
      out.push(c, b, e);
      out.push_ascii(' ', b, e);
      return;
    }
    if (lowercase_now && (p & unicode::has_lowercase)) {
      char32_t lower[3];
      const std::size_t n = unicode::to_lowercase(c, lower);
      for (std::size_t k = 0; k < n; ++k) out.push(lower[k], b, e);
      return;
    }
    out.push(c, b, e);
  });
}

// BertNormalizer with accent stripping in one pass: clean_text, Chinese padding, NFD,
// dropping Mn, lowercasing. Same result as the separate passes: non-starter runs are
// still ordered canonically (dropping Mn inside a run does not change the order of the
// others, and every starter, dropped or not, still ends a run).
inline void bert_clean_strip(normalized_string& s, const normalizers::bert& cfg) {
  struct mark {
    char32_t c;
    std::uint32_t b, e;
    std::uint8_t ccc;
  };
  thread_local std::vector<mark> pending;
  pending.clear();
  normalized_string& next = normalized_string::spare();
  {
    normalized_string::writer out(next, s.size() + 8);
    char32_t lower[3], parts[4];
    auto emit = [&](char32_t c, std::uint32_t b, std::uint32_t e) {
      if (c < 0x80) {
        out.push_ascii(static_cast<char>(cfg.lowercase && c >= 'A' && c <= 'Z' ? c + 32 : c), b, e);
        return;
      }
      if (!cfg.lowercase || !(unicode::properties(c) & unicode::has_lowercase)) return out.push(c, b, e);
      const std::size_t n = unicode::to_lowercase(c, lower);
      for (std::size_t k = 0; k < n; ++k) out.push(lower[k], b, e);
    };
    auto flush = [&] {
      if (pending.empty()) return;
      std::stable_sort(pending.begin(), pending.end(), [](const mark& x, const mark& y) { return x.ccc < y.ccc; });
      for (const auto& m : pending) emit(m.c, m.b, m.e);
      pending.clear();
    };
    auto decomposed = [&](char32_t c, std::uint16_t p, std::uint32_t b, std::uint32_t e) {
      const std::size_t n = (p & unicode::has_decomposition) ? unicode::decompose(c, parts) : (parts[0] = c, 1);
      for (std::size_t k = 0; k < n; ++k) {
        const std::uint16_t pp = k == 0 && n == 1 ? p : unicode::properties(parts[k]);
        const bool nonspacing = pp & unicode::nonspacing_mark;
        if (!(pp & unicode::has_combining_class)) {
          flush();
          if (!nonspacing) emit(parts[k], b, e);
        } else if (!nonspacing) {
          pending.push_back({parts[k], b, e, unicode::combining_class(parts[k])});
        }
      }
    };
    for (std::size_t i = 0; i < s.size();) {
      const std::uint32_t b = s.begin[i], e = s.end[i];
      const auto byte = static_cast<unsigned char>(s.text[i]);
      if (byte < 0x80) {
        ++i;
        if (cfg.clean_text && (byte < 0x20 || byte == 0x7F)) {
          if (byte == '\t' || byte == '\n' || byte == '\r') {
            flush();
            out.push_ascii(' ', b, e);
          }
          continue;
        }
        flush();
        emit(byte, b, e);
        continue;
      }
      const char32_t c = utf8::decode(s.text, i);
      const std::uint16_t p = unicode::properties(c);
      if (cfg.clean_text && (p & unicode::clean_text_dropped)) continue;
      if (cfg.clean_text && (p & unicode::clean_text_space)) {
        flush();
        out.push_ascii(' ', b, e);
      } else if (cfg.handle_chinese_chars && (p & unicode::chinese)) {
        flush();
        out.push_ascii(' ', b, e);
        decomposed(c, p, b, e);
        flush();
        out.push_ascii(' ', b, e);
      } else {
        decomposed(c, p, b, e);
      }
    }
    flush();
  }
  s.swap(next);
}

inline void replace_all(normalized_string& s, const normalizers::replace& r) {
  if (r.pattern.empty() || s.text.find(r.pattern) == std::string::npos) return;
  normalized_string& next = normalized_string::spare();
  normalized_string::writer out(next, s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s.text.compare(i, r.pattern.size(), r.pattern) == 0) {
      // The replacement inherits the range of the whole matched pattern.
      const std::uint32_t b = s.begin[i], e = s.end[i + r.pattern.size() - 1];
      for (std::size_t k = 0; k < r.content.size();) out.push(utf8::decode(r.content, k), b, e);
      i += r.pattern.size();
    } else {
      const std::uint32_t b = s.begin[i], e = s.end[i];
      out.push(utf8::decode(s.text, i), b, e);
    }
  }
  s.swap(next);
}

inline void strip_whitespace(normalized_string& s, const normalizers::strip& st) {
  std::size_t from = 0, to = s.size();
  auto is_ws_at = [&](std::size_t i) {
    std::size_t k = i;
    return unicode::properties(utf8::decode(s.text, k)) & unicode::whitespace;
  };
  if (st.left)
    while (from < to && is_ws_at(from)) from += utf8::sequence_length(static_cast<unsigned char>(s.text[from]));
  if (st.right)
    while (to > from) {
      std::size_t start = to - 1;
      while (start > from && (static_cast<unsigned char>(s.text[start]) & 0xC0) == 0x80) --start;
      if (!is_ws_at(start)) break;
      to = start;
    }
  s.text = s.text.substr(from, to - from);
  s.begin = std::vector<std::uint32_t>(s.begin.begin() + from, s.begin.begin() + to);
  s.end = std::vector<std::uint32_t>(s.end.begin() + from, s.end.begin() + to);
}

}  // namespace detail

class normalizer {
 public:
  normalizer() = default;
  explicit normalizer(std::vector<normalizer_step> steps) : steps_(std::move(steps)) {}

  bool empty() const noexcept { return steps_.empty(); }
  const std::vector<normalizer_step>& steps() const noexcept { return steps_; }

  void operator()(normalized_string& s) const {
    for (const auto& step : steps_) std::visit([&](const auto& st) { apply(st, s); }, step);
  }

 private:
  static void apply(const normalizers::bert& cfg, normalized_string& s) {
    if (cfg.strip_accents.value_or(cfg.lowercase))
      detail::bert_clean_strip(s, cfg);
    else
      detail::bert_clean(s, cfg, cfg.lowercase);
  }
  static void apply(const normalizers::nfd&, normalized_string& s) { detail::decompose_canonical(s); }
  static void apply(const normalizers::nfc&, normalized_string& s) { detail::compose_canonical(s); }
  static void apply(const normalizers::lowercase&, normalized_string& s) { detail::lowercase(s); }
  static void apply(const normalizers::strip_accents&, normalized_string& s) { detail::remove_marks(s, unicode::combining_mark); }
  static void apply(const normalizers::replace& r, normalized_string& s) { detail::replace_all(s, r); }
  static void apply(const normalizers::strip& st, normalized_string& s) { detail::strip_whitespace(s, st); }

  std::vector<normalizer_step> steps_;
};

}  // namespace shopml::tokenize
