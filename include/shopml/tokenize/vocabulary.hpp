#pragma once
// Token <-> id maps shared by the models. Ids may have gaps (tokenizer.json allows
// it); id_to_token answers nullptr for an id nobody owns.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shopml/error.hpp"

namespace shopml::tokenize {

// Hash that lets unordered_map<std::string, ...> look up string_views without copying.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class vocabulary {
 public:
  void add(std::string token, std::uint32_t id) {
    if (id >= tokens_.size()) {
      tokens_.resize(id + 1);
      present_.resize(id + 1, false);
    }
    // A token listed twice keeps its last id; the earlier id then has no token (as HF).
    if (const auto old = ids_.find(token); old != ids_.end() && old->second != id) present_[old->second] = false;
    tokens_[id] = token;
    present_[id] = true;
    ids_.insert_or_assign(std::move(token), id);
  }

  std::optional<std::uint32_t> token_to_id(std::string_view token) const {
    const auto it = ids_.find(token);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }

  const std::string* id_to_token(std::uint32_t id) const { return id < tokens_.size() && present_[id] ? &tokens_[id] : nullptr; }

  std::uint32_t require(std::string_view token, std::string_view what) const {
    if (auto id = token_to_id(token)) return *id;
    throw parse_error(std::string(what) + " '" + std::string(token) + "' is not in the vocabulary");
  }

  std::size_t size() const noexcept { return ids_.size(); }
  // One past the largest id.
  std::size_t id_bound() const noexcept { return tokens_.size(); }
  const std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>>& entries() const noexcept { return ids_; }

 private:
  std::vector<std::string> tokens_;
  std::vector<bool> present_;
  std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>> ids_;
};

// A token the model produced: its id and its byte range in the normalized text.
struct model_token {
  std::uint32_t id;
  std::uint32_t begin, end;
};

}  // namespace shopml::tokenize
