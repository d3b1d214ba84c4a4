#pragma once
// Reads the tokenizer goldens written by scripts/golden/tokenizer.py: the input list
// (inputs.manifest) and the compact per-line records (see compact() there). Files are read
// by golden_files.hpp (read_text: a path relative to tests/golden, or absolute).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "golden_files.hpp"

namespace shopml::test::golden {

inline std::vector<std::string> split_lines(const std::string& data) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < data.size()) {
    const std::size_t nl = data.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(data.substr(start));
      break;
    }
    lines.push_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

inline std::vector<std::string> inputs(const std::filesystem::path& data_dir, const std::filesystem::path& golden_dir) {
  std::vector<std::string> texts;
  for (const auto& raw : split_lines(read_text(golden_dir / "inputs.manifest"))) {
    if (raw.empty() || raw[0] == '#') continue;
    std::istringstream fields(raw);
    std::string where;
    std::size_t step = 1, max_bytes = 0;
    fields >> where >> step;
    if (!(fields >> max_bytes)) max_bytes = 0;
    const auto colon = where.find(':');
    const auto base = where.substr(0, colon) == "data" ? data_dir : golden_dir;
    std::vector<std::string> lines = split_lines(read_text(base / where.substr(colon + 1)));
    std::vector<std::string> kept;
    for (auto& l : lines)
      if (max_bytes == 0 || l.size() <= max_bytes) kept.push_back(std::move(l));
    for (std::size_t i = 0; i < kept.size(); i += step) texts.push_back(kept[i]);
  }
  return texts;
}

struct record {
  std::vector<std::uint32_t> ids;
  std::vector<std::pair<std::size_t, std::size_t>> offsets;  // code points
  std::vector<std::optional<std::uint32_t>> word_ids;
};

class code_reader {
 public:
  explicit code_reader(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  std::uint32_t fixed3() { return digit() * 4096 + digit() * 64 + digit(); }
  std::uint32_t small() {
    if (s_.at(i_) == '~') {
      ++i_;
      return fixed3();
    }
    return digit();
  }
  bool take(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

 private:
  std::uint32_t digit() {
    const char c = s_.at(i_++);
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    if (c >= 'a' && c <= 'z') return c - 'a' + 36;
    if (c == '+') return 62;
    if (c == '/') return 63;
    throw std::runtime_error(std::string("bad golden code char '") + c + "'");
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

inline std::int64_t unzigzag(std::uint32_t z) { return (z & 1) ? -static_cast<std::int64_t>((z + 1) / 2) : z / 2; }

inline record decode_record(std::string_view code) {
  record r;
  code_reader in(code);
  std::int64_t prev_end = 0, prev_word = -1;
  while (!in.done()) {
    r.ids.push_back(in.fixed3());
    const std::uint32_t combo = in.small();
    const std::int64_t start = prev_end + unzigzag(combo / 3);
    const std::int64_t end = start + in.small();
    r.offsets.emplace_back(static_cast<std::size_t>(start), static_cast<std::size_t>(end));
    prev_end = end;
    std::optional<std::uint32_t> word;
    if (combo % 3 == 0) {
      word = static_cast<std::uint32_t>(prev_word);
    } else if (combo % 3 == 1) {
      word = static_cast<std::uint32_t>(prev_word + 1);
    } else if (!in.take('-')) {
      word = static_cast<std::uint32_t>(prev_word + unzigzag(in.small()));
    }
    if (word) prev_word = *word;
    r.word_ids.push_back(word);
  }
  return r;
}

// Records of one .golden file, indexed by input number.
inline std::vector<std::pair<std::size_t, record>> read_golden(const std::filesystem::path& p) {
  std::vector<std::pair<std::size_t, record>> out;
  for (const auto& line : split_lines(read_text(p))) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    out.emplace_back(std::stoul(line.substr(0, tab)), decode_record(std::string_view(line).substr(tab + 1)));
  }
  return out;
}

}  // namespace shopml::test::golden
