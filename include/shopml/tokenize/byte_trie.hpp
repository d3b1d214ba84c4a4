#pragma once
// A byte trie answering "longest vocabulary entry starting here" in one walk; used by
// WordPiece and by the added-token matcher (leftmost-longest, like HF's Aho-Corasick).

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

namespace shopml::tokenize {

// Byte trie with sorted edge lists; the root has a direct 256-entry table.
class byte_trie {
 public:
  static constexpr std::uint32_t no_token = 0xFFFFFFFFu;

  void insert(std::string_view key, std::uint32_t id) {
    std::uint32_t node = 0;
    for (unsigned char b : key) {
      auto& kids = build_[node];
      auto it = kids.find(b);
      if (it == kids.end()) {
        it = kids.emplace(b, static_cast<std::uint32_t>(build_.size())).first;
        const std::uint32_t child = it->second;
        build_.emplace_back();
        token_.push_back(no_token);
        node = child;
      } else {
        node = it->second;
      }
    }
    token_[node] = id;
  }

  // Freezes the insertions into the flat search layout.
  void finish() {
    first_edge_.assign(build_.size() + 1, 0);
    edges_.clear();
    for (std::size_t n = 0; n < build_.size(); ++n) {
      first_edge_[n] = static_cast<std::uint32_t>(edges_.size());
      for (const auto& [b, child] : build_[n]) edges_.push_back({b, child});
    }
    first_edge_[build_.size()] = static_cast<std::uint32_t>(edges_.size());
    root_.fill(0);
    for (const auto& [b, child] : build_[0]) root_[b] = child;
    build_.clear();
    build_.shrink_to_fit();
  }

  // Longest key that prefixes s[from, to): returns its end and writes its id, or returns `from`.
  std::size_t longest_prefix(std::string_view s, std::size_t from, std::size_t to, std::uint32_t& id) const {
    std::size_t best = from;
    if (from >= to) return best;
    std::uint32_t node = root_[static_cast<unsigned char>(s[from])];
    std::size_t i = from + 1;
    while (node != 0) {
      if (token_[node] != no_token) {
        best = i;
        id = token_[node];
      }
      if (i >= to) break;
      node = child(node, static_cast<unsigned char>(s[i]));
      ++i;
    }
    return best;
  }

 private:
  struct edge {
    unsigned char byte;
    std::uint32_t target;
  };

  std::uint32_t child(std::uint32_t node, unsigned char b) const {
    const edge* lo = edges_.data() + first_edge_[node];
    const edge* hi = edges_.data() + first_edge_[node + 1];
    if (hi - lo <= 8) {
      for (; lo != hi; ++lo)
        if (lo->byte == b) return lo->target;
      return 0;
    }
    const edge* it = std::lower_bound(lo, hi, b, [](const edge& e, unsigned char key) { return e.byte < key; });
    return (it != hi && it->byte == b) ? it->target : 0;
  }

  std::vector<std::map<unsigned char, std::uint32_t>> build_{1};
  std::vector<std::uint32_t> token_{no_token};
  std::vector<std::uint32_t> first_edge_;
  std::vector<edge> edges_;
  std::array<std::uint32_t, 256> root_{};
};

}  // namespace shopml::tokenize
