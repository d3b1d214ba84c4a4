#pragma once
// WordPiece (BERT): greedy longest-match-first over the vocabulary, continuation
// pieces carrying the "##" prefix. The longest match is found by walking a byte trie
// once from each piece start, so a word costs O(its length x longest token) instead of
// HF's repeated substring hashing; the result is the same token sequence.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shopml/tokenize/byte_trie.hpp"
#include "shopml/tokenize/utf8.hpp"
#include "shopml/tokenize/vocabulary.hpp"

namespace shopml::tokenize {

struct wordpiece_config {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
};

class wordpiece {
 public:
  wordpiece(vocabulary vocab, wordpiece_config config) : vocab_(std::move(vocab)), config_(std::move(config)) {
    unk_id_ = vocab_.require(config_.unk_token, "WordPiece unk_token");
    const std::string& prefix = config_.continuing_subword_prefix;
    for (const auto& [token, id] : vocab_.entries()) {
      word_start_.insert(token, id);
      // With an empty prefix every token may continue a word (as in HF).
      if (token.size() > prefix.size() && token.compare(0, prefix.size(), prefix) == 0)
        continuation_.insert(std::string_view(token).substr(prefix.size()), id);
    }
    word_start_.finish();
    continuation_.finish();
  }

  const vocabulary& vocab() const noexcept { return vocab_; }
  const wordpiece_config& config() const noexcept { return config_; }
  std::uint32_t unk_id() const noexcept { return unk_id_; }

  // Appends the pieces of word text[from, to) to `out`.
  void tokenize(std::string_view text, std::uint32_t from, std::uint32_t to, std::vector<model_token>& out) const {
    if (too_long(text, from, to)) {
      out.push_back({unk_id_, from, to});
      return;
    }
    const std::size_t mark = out.size();
    std::size_t start = from;
    while (start < to) {
      std::uint32_t id = 0;
      const byte_trie& trie = start == from ? word_start_ : continuation_;
      const std::size_t end = trie.longest_prefix(text, start, to, id);
      if (end == start) {
        out.resize(mark);
        out.push_back({unk_id_, from, to});
        return;
      }
      out.push_back({id, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end)});
      start = end;
    }
  }

 private:
  bool too_long(std::string_view text, std::size_t from, std::size_t to) const {
    if (to - from <= config_.max_input_chars_per_word) return false;  // bytes >= chars
    std::size_t chars = 0;
    for (std::size_t i = from; i < to; ++i) chars += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    return chars > config_.max_input_chars_per_word;
  }

  vocabulary vocab_;
  wordpiece_config config_;
  std::uint32_t unk_id_ = 0;
  byte_trie word_start_, continuation_;
};

}  // namespace shopml::tokenize
