#pragma once
// Byte-pair encoding (GPT-2 and friends): a word starts as one symbol per char (per
// byte for byte-level vocabularies), then the lowest-ranked adjacent pair is merged
// until none is left, ties to the leftmost, exactly as HF's Word::merge_all. A heap
// keeps that O(n log n) for very long words; a sharded cache remembers short words.

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/tokenize/byte_level.hpp"
#include "shopml/tokenize/utf8.hpp"
#include "shopml/tokenize/vocabulary.hpp"

namespace shopml::tokenize {

struct bpe_config {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix, end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  // Symbols are bytes mapped through byte_level::byte_to_char (ByteLevel pre-tokenizer).
  bool byte_level = false;
};

// Words already split, by content. Each thread keeps its own direct-mapped table (no
// locks; a colliding word replaces the older one), shared by all bpe objects and told
// apart by their unique ids. The cache only saves work: results never depend on it.
class bpe_cache {
 public:
  struct piece {
    std::uint32_t id, length;
  };
  static constexpr std::size_t max_word_bytes = 64;

  bool find(std::uint64_t owner, std::string_view word, std::vector<piece>& out) const {
    const slot& s = table()[index(word)];
    if (s.owner != owner || s.word != word) return false;
    out = s.pieces;
    return true;
  }
  void insert(std::uint64_t owner, std::string_view word, const std::vector<piece>& pieces) const {
    slot& s = table()[index(word)];
    s.owner = owner;
    s.word.assign(word);
    s.pieces = pieces;
  }

 private:
  static constexpr std::size_t slots = 1 << 14;
  struct slot {
    std::uint64_t owner = 0;
    std::string word;
    std::vector<piece> pieces;
  };
  static std::size_t index(std::string_view word) { return std::hash<std::string_view>{}(word) & (slots - 1); }
  static std::vector<slot>& table() {
    thread_local std::vector<slot> t(slots);
    return t;
  }
};

namespace detail {

// Open-addressing map from a (left id, right id) pair to its merge; the hot lookup of BPE.
class merge_table {
 public:
  struct value {
    std::uint32_t rank, id;
  };

  void insert(std::uint32_t a, std::uint32_t b, value v) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(key(a, b), v);
  }

  const value* find(std::uint32_t a, std::uint32_t b) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t k = key(a, b);
    for (std::size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.key == k) return &s.v;
      if (s.key == empty) return nullptr;
    }
  }

 private:
  static constexpr std::uint64_t empty = ~std::uint64_t{0};
  struct slot {
    std::uint64_t key = empty;
    value v{};
  };
  static std::uint64_t key(std::uint32_t a, std::uint32_t b) { return (std::uint64_t{a} << 32) | b; }
  static std::size_t hash(std::uint64_t k) { return static_cast<std::size_t>((k * 0x9E3779B97F4A7C15ULL) >> 20); }

  void place(std::uint64_t k, value v) {
    for (std::size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == k) return;  // the first (lowest-rank) merge of a pair wins
      if (slots_[i].key == empty) {
        slots_[i] = {k, v};
        ++size_;
        return;
      }
    }
  }
  void grow() {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, slot{});
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (const auto& s : old)
      if (s.key != empty) place(s.key, s.v);
  }

  std::vector<slot> slots_;
  std::size_t mask_ = 0, size_ = 0;
};

}  // namespace detail

class bpe {
 public:
  bpe(vocabulary vocab, const std::vector<std::pair<std::string, std::string>>& merges, bpe_config config)
      : vocab_(std::move(vocab)), config_(std::move(config)), cache_owner_(next_owner_id()) {
    if (config_.unk_token) unk_id_ = vocab_.require(*config_.unk_token, "BPE unk_token");
    // HF then gives each fallback byte of the prefix or suffix a byte of the word too, so its
    // offsets run past the word; refused rather than imitated (no published model does this).
    if (config_.byte_fallback && !(config_.continuing_subword_prefix.empty() && config_.end_of_word_suffix.empty()))
      throw parse_error("BPE: byte_fallback together with continuing_subword_prefix or end_of_word_suffix is not supported");
    const std::size_t prefix_len = config_.continuing_subword_prefix.size();
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
      const auto& [a, b] = merges[rank];
      const std::string where = "BPE merge #" + std::to_string(rank) + " '" + a + " " + b + "':";
      const std::uint32_t ida = vocab_.require(a, where + " token");
      const std::uint32_t idb = vocab_.require(b, where + " token");
      if (b.size() < prefix_len) throw parse_error(where + " second part is shorter than the continuing_subword_prefix");
      const std::uint32_t merged = vocab_.require(a + b.substr(prefix_len), where + " merged token");
      merges_.insert(ida, idb, {static_cast<std::uint32_t>(rank), merged});
    }
    for (int b = 0; b < 256; ++b) {
      const auto id = vocab_.token_to_id(byte_level::symbol(static_cast<unsigned char>(b)));
      byte_ids_[b] = id ? *id : missing;
    }
  }

  const vocabulary& vocab() const noexcept { return vocab_; }
  const bpe_config& config() const noexcept { return config_; }

  // Appends the tokens of word text[from, to) to `out`.
  void tokenize(std::string_view text, std::uint32_t from, std::uint32_t to, std::vector<model_token>& out) const {
    const std::string_view word = text.substr(from, to - from);
    if (word.empty()) return;
    thread_local std::vector<bpe_cache::piece> pieces;
    const bool cacheable = word.size() <= bpe_cache::max_word_bytes;
    if (!(cacheable && cache_.find(cache_owner_, word, pieces))) {
      split_word(word, pieces);
      if (cacheable) cache_.insert(cache_owner_, word, pieces);
    }
    std::uint32_t at = from;
    for (const auto& p : pieces) {
      out.push_back({p.id, at, at + p.length});
      at += p.length;
    }
  }

 private:
  static constexpr std::uint32_t missing = 0xFFFFFFFFu;
  using merge_info = detail::merge_table::value;

  struct symbol {
    std::uint32_t id;
    std::int32_t prev, next;
    std::uint32_t length;  // bytes of the word; 0 once merged into its left neighbour
  };

  void add_unit(std::vector<symbol>& syms, std::string_view unit, std::size_t byte_len, bool first, bool last,
                std::optional<std::pair<std::uint32_t, std::uint32_t>>& pending_unk) const {
    std::uint32_t id = missing;
    if (config_.byte_level && config_.continuing_subword_prefix.empty() && config_.end_of_word_suffix.empty()) {
      id = byte_ids_[static_cast<unsigned char>(unit[0])];
    } else {
      std::string s = config_.byte_level ? byte_level::symbol(static_cast<unsigned char>(unit[0])) : std::string(unit);
      if (!first) s.insert(0, config_.continuing_subword_prefix);
      if (last) s += config_.end_of_word_suffix;
      if (auto found = vocab_.token_to_id(s)) id = *found;
      if (id == missing && config_.byte_fallback) {
        std::vector<std::uint32_t> bytes;
        for (unsigned char b : s) {
          char code[8];
          std::snprintf(code, sizeof code, "<0x%02X>", b);
          auto fb = vocab_.token_to_id(code);
          if (!fb) break;
          bytes.push_back(*fb);
        }
        if (bytes.size() == s.size()) {
          flush_unk(syms, pending_unk);
          for (std::size_t k = 0; k < bytes.size(); ++k)
            push(syms, bytes[k], k + 1 == bytes.size() ? static_cast<std::uint32_t>(byte_len - k) : 1);
          return;
        }
      }
    }
    if (id != missing) {
      flush_unk(syms, pending_unk);
      push(syms, id, static_cast<std::uint32_t>(byte_len));
      return;
    }
    if (!config_.unk_token) return;  // HF drops chars it cannot represent
    if (pending_unk && config_.fuse_unk) {
      pending_unk->second += static_cast<std::uint32_t>(byte_len);
    } else {
      flush_unk(syms, pending_unk);
      pending_unk = std::pair{unk_id_, static_cast<std::uint32_t>(byte_len)};
    }
  }

  static void push(std::vector<symbol>& syms, std::uint32_t id, std::uint32_t length) {
    const auto n = static_cast<std::int32_t>(syms.size());
    syms.push_back({id, n - 1, -1, length});
    if (n > 0) syms[n - 1].next = n;
  }
  static void flush_unk(std::vector<symbol>& syms, std::optional<std::pair<std::uint32_t, std::uint32_t>>& pending) {
    if (pending) push(syms, pending->first, pending->second);
    pending.reset();
  }

  void split_word(std::string_view word, std::vector<bpe_cache::piece>& pieces) const {
    pieces.clear();
    if (config_.ignore_merges) {
      if (auto id = vocab_.token_to_id(word)) {
        pieces.push_back({*id, static_cast<std::uint32_t>(word.size())});
        return;
      }
    }
    thread_local std::vector<symbol> syms;
    syms.clear();
    std::optional<std::pair<std::uint32_t, std::uint32_t>> pending_unk;
    for (std::size_t i = 0; i < word.size();) {
      const std::size_t n = config_.byte_level ? 1 : utf8::sequence_length(static_cast<unsigned char>(word[i]));
      add_unit(syms, word.substr(i, n), n, i == 0, i + n == word.size(), pending_unk);
      i += n;
    }
    flush_unk(syms, pending_unk);
    merge_all(syms);
    for (const auto& s : syms)
      if (s.length) pieces.push_back({s.id, s.length});
  }

  const merge_info* find_merge(std::uint32_t a, std::uint32_t b) const { return merges_.find(a, b); }

  void merge_all(std::vector<symbol>& syms) const {
    if (syms.size() <= 24) return merge_short(syms);
    merge_long(syms);
  }

  // Few symbols: repeatedly merge the lowest-ranked pair (leftmost on ties) found by a
  // scan, which is the order HF's heap pops them in.
  void merge_short(std::vector<symbol>& syms) const {
    std::size_t n = syms.size();
    thread_local std::vector<std::uint32_t> ranks;  // rank of the pair (i, i+1), or none
    ranks.resize(n);
    constexpr std::uint32_t none = 0xFFFFFFFFu;
    auto rank_at = [&](std::size_t i) {
      const merge_info* m = i + 1 < n ? find_merge(syms[i].id, syms[i + 1].id) : nullptr;
      return m ? m->rank : none;
    };
    for (std::size_t i = 0; i < n; ++i) ranks[i] = rank_at(i);
    while (n > 1) {
      std::size_t best = 0;
      for (std::size_t i = 1; i + 1 < n; ++i)
        if (ranks[i] < ranks[best]) best = i;
      if (ranks[best] == none) break;
      syms[best].id = find_merge(syms[best].id, syms[best + 1].id)->id;
      syms[best].length += syms[best + 1].length;
      syms.erase(syms.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      ranks.erase(ranks.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      --n;
      ranks[best] = rank_at(best);
      if (best > 0) ranks[best - 1] = rank_at(best - 1);
    }
  }

  void merge_long(std::vector<symbol>& syms) const {
    struct candidate {
      std::uint32_t rank;
      std::int32_t pos;
      std::uint32_t id;
      bool operator>(const candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    thread_local std::vector<candidate> storage;
    storage.clear();
    std::priority_queue<candidate, std::vector<candidate>, std::greater<>> queue(std::greater<>{}, std::move(storage));
    auto consider = [&](std::int32_t pos) {
      const std::int32_t next = syms[pos].next;
      if (next < 0) return;
      if (const merge_info* m = find_merge(syms[pos].id, syms[next].id)) queue.push({m->rank, pos, m->id});
    };
    for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(syms.size()); ++i) consider(i);
    while (!queue.empty()) {
      const candidate top = queue.top();
      queue.pop();
      symbol& s = syms[top.pos];
      if (s.length == 0 || s.next < 0) continue;
      symbol& right = syms[s.next];
      const merge_info* m = find_merge(s.id, right.id);
      if (!m || m->id != top.id) continue;
      s.id = top.id;
      s.length += right.length;
      right.length = 0;
      s.next = right.next;
      if (s.next >= 0) syms[s.next].prev = top.pos;
      if (s.prev >= 0) consider(s.prev);
      consider(top.pos);
    }
    storage = std::move(const_cast<std::vector<candidate>&>(queue_container(queue)));
  }

  // The container under a priority_queue, to keep its capacity for the next word.
  template <class Q>
  static const typename Q::container_type& queue_container(const Q& q) {
    struct access : Q {
      static const typename Q::container_type& of(const Q& q) { return q.*(&access::c); }
    };
    return access::of(q);
  }

  static std::uint64_t next_owner_id() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1);
  }

  vocabulary vocab_;
  bpe_config config_;
  std::uint64_t cache_owner_;
  std::uint32_t unk_id_ = 0;
  detail::merge_table merges_;
  std::array<std::uint32_t, 256> byte_ids_{};
  bpe_cache cache_;
};

}  // namespace shopml::tokenize
