#pragma once
// Typed values in the "__metadata__" of a safetensors file, where every value is a string:
// one writer and one reader for every saved format (linear_model/saved_head.hpp,
// recommend/saved_similarity.hpp), so that what one writes the other reads back.
//
//   value     written as                           read back
//   integer   decimal                              within [lo, hi], else parse_error
//   real      shortest text that reads back to     the same double, bit for bit
//             the same double (std::to_chars)
//   ±inf      "inf", "-inf"                        +inf, -inf: a format that forbids them
//                                                  says so in its own validation
//   NaN       never: value_error naming the key    "nan" is refused with a parse_error
//   boolean   "true", "false"                      those two words only
//   text      as is                                as is
//
// A real is read by std::from_chars, which also takes "infinity" and upper case; nothing
// may follow the number. Every parse_error starts with the reader's context (the file,
// and the format when the caller gives it) and names the key:
//   [shopml.parse] 'head.st': not a valid shopml.logistic_regression head: metadata 'C' = 'x' is not a number

#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include "shopml/error.hpp"

namespace shopml::io {

// The shortest text that std::from_chars reads back to the same double ("inf", "-inf",
// "nan" for those).
inline std::string number_text(double x) {
  char buffer[32];  // the longest shortest form of a double is 24 characters
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, end);
}

// Builds a metadata map: each setter writes its value in the form the reader reads.
class metadata_writer {
 public:
  metadata_writer& text(const std::string& key, std::string value) {
    entries_[key] = std::move(value);
    return *this;
  }
  metadata_writer& integer(const std::string& key, std::int64_t value) { return text(key, std::to_string(value)); }
  metadata_writer& number(const std::string& key, double value) {
    if (std::isnan(value)) throw value_error("metadata '" + key + "' is NaN, which a saved file cannot hold");
    return text(key, number_text(value));
  }
  metadata_writer& boolean(const std::string& key, bool value) { return text(key, value ? "true" : "false"); }

  const std::map<std::string, std::string>& entries() const& { return entries_; }
  std::map<std::string, std::string> entries() && { return std::move(entries_); }

 private:
  std::map<std::string, std::string> entries_;
};

// Reads a metadata map; parse_error "<context>metadata '<key>' ..." for a missing or
// malformed value.
class metadata_reader {
 public:
  // `context` starts every message, e.g. "'model.safetensors': ".
  metadata_reader(std::map<std::string, std::string> metadata, std::string context)
      : metadata_(std::move(metadata)), context_(std::move(context)) {}

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& context() const { return context_; }
  bool contains(const std::string& key) const { return metadata_.count(key) != 0; }

  const std::string& text(const std::string& key) const {
    const auto it = metadata_.find(key);
    if (it == metadata_.end()) fail("metadata has no '" + key + "'");
    return it->second;
  }

  std::int64_t integer(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    const std::string& t = text(key);
    std::int64_t x = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
    if (ec != std::errc() || end != t.data() + t.size() || x < lo || x > hi)
      fail("metadata '" + key + "' = '" + t + "' is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  }

  // Any double but NaN, ±inf included.
  double number(const std::string& key) const {
    const std::string& t = text(key);
    double x = 0.0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
    if (ec != std::errc() || end != t.data() + t.size()) fail("metadata '" + key + "' = '" + t + "' is not a number");
    if (std::isnan(x)) fail("metadata '" + key + "' = '" + t + "' is NaN, which a saved file cannot hold");
    return x;
  }

  bool boolean(const std::string& key) const {
    const std::string& t = text(key);
    if (t != "true" && t != "false") fail("metadata '" + key + "' = '" + t + "' is not true/false");
    return t == "true";
  }

  [[noreturn]] void fail(const std::string& what) const { throw parse_error(context_ + what); }

 private:
  std::map<std::string, std::string> metadata_;
  std::string context_;
};

}  // namespace shopml::io
