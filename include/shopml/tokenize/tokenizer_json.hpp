#pragma once
// Reads HF's tokenizer.json into a tokenizer_config. Components shopml does not
// implement are refused with a parse_error naming the component and its type.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "shopml/error.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/io/open_file.hpp"
#include "shopml/tokenize/tokenizer_config.hpp"

namespace shopml::tokenize {

namespace detail {

using json = nlohmann::json;

// The GPT-2 pre-tokenization pattern, the only regex shopml runs (by a scanner).
inline constexpr std::string_view gpt2_pattern_text =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class json_reader {
 public:
  explicit json_reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& what) const { throw parse_error(source_ + ": " + what); }

  template <class T>
  T get(const json& j, const char* key, T fallback) const {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
      return it->template get<T>();
    } catch (const json::exception& e) {
      fail(std::string("field '") + key + "': " + e.what());
    }
  }
  const json& require(const json& j, const char* key, const std::string& where) const {
    const auto it = j.find(key);
    if (it == j.end()) fail(where + " has no '" + key + "'");
    return *it;
  }
  std::string type_of(const json& j, const std::string& component) const {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) fail(component + " has no string 'type'");
    return j["type"].get<std::string>();
  }

  split_behavior behavior(const json& j, const std::string& where) const {
    const std::string b = get<std::string>(j, "behavior", "Isolated");
    if (b == "Removed") return split_behavior::removed;
    if (b == "Isolated") return split_behavior::isolated;
    if (b == "MergedWithPrevious") return split_behavior::merged_with_previous;
    if (b == "MergedWithNext") return split_behavior::merged_with_next;
    if (b == "Contiguous") return split_behavior::contiguous;
    fail(where + ": unknown split behavior '" + b + "'");
  }

  void normalizer_steps(const json& j, std::vector<normalizer_step>& steps) const {
    if (j.is_null()) return;
    const std::string type = type_of(j, "normalizer");
    if (type == "Sequence") {
      for (const auto& n : require(j, "normalizers", "Sequence normalizer")) normalizer_steps(n, steps);
    } else if (type == "BertNormalizer") {
      normalizers::bert b;
      b.clean_text = get(j, "clean_text", true);
      b.handle_chinese_chars = get(j, "handle_chinese_chars", true);
      if (j.contains("strip_accents") && !j["strip_accents"].is_null()) b.strip_accents = j["strip_accents"].get<bool>();
      b.lowercase = get(j, "lowercase", true);
      steps.emplace_back(b);
    } else if (type == "NFD") {
      steps.emplace_back(normalizers::nfd{});
    } else if (type == "NFC") {
      steps.emplace_back(normalizers::nfc{});
    } else if (type == "Lowercase") {
      steps.emplace_back(normalizers::lowercase{});
    } else if (type == "StripAccents") {
      steps.emplace_back(normalizers::strip_accents{});
    } else if (type == "Strip") {
      steps.emplace_back(normalizers::strip{get(j, "strip_left", true), get(j, "strip_right", true)});
    } else if (type == "Replace") {
      const json& pattern = require(j, "pattern", "Replace normalizer");
      if (!pattern.contains("String")) fail("normalizer Replace with a Regex pattern is not supported (no regex engine)");
      steps.emplace_back(normalizers::replace{pattern["String"].get<std::string>(), get<std::string>(j, "content", "")});
    } else {
      fail("unsupported normalizer type '" + type + "'");
    }
  }

  void pre_tokenizer_steps(const json& j, std::vector<pre_tokenizer_step>& steps) const {
    if (j.is_null()) return;
    const std::string type = type_of(j, "pre_tokenizer");
    if (type == "Sequence") {
      for (const auto& p : require(j, "pretokenizers", "Sequence pre_tokenizer")) pre_tokenizer_steps(p, steps);
    } else if (type == "BertPreTokenizer") {
      steps.emplace_back(pre_tokenizers::bert{});
    } else if (type == "WhitespaceSplit") {
      steps.emplace_back(pre_tokenizers::whitespace_split{});
    } else if (type == "Whitespace") {
      steps.emplace_back(pre_tokenizers::whitespace{});
    } else if (type == "Punctuation") {
      steps.emplace_back(pre_tokenizers::punctuation{behavior(j, "Punctuation")});
    } else if (type == "Digits") {
      steps.emplace_back(pre_tokenizers::digits{get(j, "individual_digits", false)});
    } else if (type == "ByteLevel") {
      steps.emplace_back(
          pre_tokenizers::byte_level{get(j, "add_prefix_space", true), get(j, "use_regex", true), get(j, "trim_offsets", true)});
    } else if (type == "Split") {
      const json& pattern = require(j, "pattern", "Split pre_tokenizer");
      const split_behavior b = behavior(j, "Split");
      const bool invert = get(j, "invert", false);
      if (pattern.contains("String")) {
        steps.emplace_back(pre_tokenizers::split_literal{pattern["String"].get<std::string>(), b, invert});
      } else if (pattern.contains("Regex") && pattern["Regex"].get<std::string>() == gpt2_pattern_text) {
        steps.emplace_back(pre_tokenizers::gpt2_pattern{b, invert});
      } else {
        fail("pre_tokenizer Split with regex " + pattern.dump() + " is not supported (only the GPT-2 pattern is built in)");
      }
    } else {
      fail("unsupported pre_tokenizer type '" + type + "'");
    }
  }

  vocabulary vocab(const json& model) const {
    vocabulary v;
    const json& entries = require(model, "vocab", "model");
    if (!entries.is_object()) fail("model.vocab is not an object");
    for (const auto& [token, id] : entries.items()) {
      if (!id.is_number_unsigned()) fail("model.vocab['" + token + "'] is not an unsigned id");
      check_id(id.get<std::uint64_t>(), entries.size(), "model.vocab['" + token + "']");
      v.add(token, id.get<std::uint32_t>());
    }
    return v;
  }

  std::shared_ptr<const tokenize::tokenizer_model> model(const json& j, bool byte_level) const {
    std::string type = j.contains("type") ? type_of(j, "model") : (j.contains("merges") ? "BPE" : "WordPiece");
    if (type == "WordPiece") {
      wordpiece_config c;
      c.unk_token = get<std::string>(j, "unk_token", "[UNK]");
      c.continuing_subword_prefix = get<std::string>(j, "continuing_subword_prefix", "##");
      c.max_input_chars_per_word = get<std::size_t>(j, "max_input_chars_per_word", 100);
      return std::make_shared<const tokenize::tokenizer_model>(std::in_place_type<wordpiece>, vocab(j), c);
    }
    if (type == "BPE") {
      if (get(j, "dropout", 0.0) > 0.0) fail("BPE dropout is random and not supported");
      bpe_config c;
      c.byte_level = byte_level;
      if (j.contains("unk_token") && !j["unk_token"].is_null()) c.unk_token = j["unk_token"].get<std::string>();
      c.continuing_subword_prefix = get<std::string>(j, "continuing_subword_prefix", "");
      c.end_of_word_suffix = get<std::string>(j, "end_of_word_suffix", "");
      c.fuse_unk = get(j, "fuse_unk", false);
      c.byte_fallback = get(j, "byte_fallback", false);
      c.ignore_merges = get(j, "ignore_merges", false);
      std::vector<std::pair<std::string, std::string>> merges;
      for (const auto& m : require(j, "merges", "BPE model")) {
        if (m.is_array() && m.size() == 2) {
          merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else if (m.is_string()) {
          const std::string s = m.get<std::string>();
          const auto space = s.find(' ');
          if (space == std::string::npos) fail("BPE merge '" + s + "' has no space");
          merges.emplace_back(s.substr(0, space), s.substr(space + 1));
        } else {
          fail("BPE merge " + m.dump() + " is neither \"a b\" nor [a, b]");
        }
      }
      return std::make_shared<const tokenize::tokenizer_model>(std::in_place_type<bpe>, vocab(j), merges, c);
    }
    fail("unsupported model type '" + type + "'");
  }

  // Ids index flat tables, so they must stay near the number of tokens.
  void check_id(std::uint64_t id, std::size_t tokens, const std::string& what) const {
    if (id > 4 * tokens + (1u << 20))
      fail(what + " has id " + std::to_string(id) + ", far beyond the " + std::to_string(tokens) + " tokens");
  }

  static std::pair<std::string, std::uint32_t> token_and_id(const json& j) {
    return {j.at(0).get<std::string>(), j.at(1).get<std::uint32_t>()};
  }

  std::vector<template_piece> template_pieces(const json& list) const {
    std::vector<template_piece> pieces;
    for (const auto& p : list) {
      template_piece t;
      if (p.contains("Sequence")) {
        t.is_sequence = true;
        const std::string id = p["Sequence"].at("id").get<std::string>();
        if (id != "A" && id != "B") fail("TemplateProcessing sequence id '" + id + "' is neither A nor B");
        t.sequence = id == "A" ? 0 : 1;
        t.type_id = p["Sequence"].at("type_id").get<std::uint32_t>();
      } else if (p.contains("SpecialToken")) {
        t.special = p["SpecialToken"].at("id").get<std::string>();
        t.type_id = p["SpecialToken"].at("type_id").get<std::uint32_t>();
      } else {
        fail("TemplateProcessing piece " + p.dump() + " is neither Sequence nor SpecialToken");
      }
      pieces.push_back(std::move(t));
    }
    return pieces;
  }

  // BertProcessing and RobertaProcessing expressed as templates.
  static post_processor cls_sep_template(const std::pair<std::string, std::uint32_t>& cls,
                                         const std::pair<std::string, std::uint32_t>& sep, bool roberta) {
    auto special = [](const std::string& t, std::uint32_t type) { return template_piece{false, 0, t, type}; };
    auto seq = [](std::uint32_t s, std::uint32_t type) { return template_piece{true, s, "", type}; };
    const std::uint32_t b_type = roberta ? 0 : 1;
    std::vector<template_piece> single{special(cls.first, 0), seq(0, 0), special(sep.first, 0)};
    std::vector<template_piece> pair{special(cls.first, 0), seq(0, 0), special(sep.first, 0)};
    if (roberta) pair.push_back(special(sep.first, 0));
    pair.push_back(seq(1, b_type));
    pair.push_back(special(sep.first, b_type));
    std::unordered_map<std::string, template_special_token> specials{{cls.first, {{cls.second}, {cls.first}}},
                                                                     {sep.first, {{sep.second}, {sep.first}}}};
    return post_processor(std::move(single), std::move(pair), std::move(specials));
  }

  void post_processor_into(const json& j, post_processor& out) const {
    if (j.is_null()) return;
    const std::string type = type_of(j, "post_processor");
    if (type == "Sequence") {
      for (const auto& p : require(j, "processors", "Sequence post_processor")) post_processor_into(p, out);
    } else if (type == "TemplateProcessing") {
      std::unordered_map<std::string, template_special_token> specials;
      for (const auto& [name, s] : require(j, "special_tokens", "TemplateProcessing").items())
        specials[name] = {s.at("ids").get<std::vector<std::uint32_t>>(), s.at("tokens").get<std::vector<std::string>>()};
      post_processor p(template_pieces(require(j, "single", "TemplateProcessing")),
                       template_pieces(require(j, "pair", "TemplateProcessing")), std::move(specials));
      p.set_trim_offsets(out.trims_offsets(), out.adds_prefix_space());
      out = std::move(p);
    } else if (type == "BertProcessing") {
      post_processor p = cls_sep_template(token_and_id(require(j, "cls", "BertProcessing")),
                                          token_and_id(require(j, "sep", "BertProcessing")), false);
      p.set_trim_offsets(out.trims_offsets(), out.adds_prefix_space());
      out = std::move(p);
    } else if (type == "RobertaProcessing") {
      out = cls_sep_template(token_and_id(require(j, "cls", "RobertaProcessing")),
                             token_and_id(require(j, "sep", "RobertaProcessing")), true);
      out.set_trim_offsets(get(j, "trim_offsets", true), get(j, "add_prefix_space", true));
    } else if (type == "ByteLevel") {
      out.set_trim_offsets(get(j, "trim_offsets", true), get(j, "add_prefix_space", true));
    } else {
      fail("unsupported post_processor type '" + type + "'");
    }
  }

  decoder decoder_of(const json& j) const {
    if (j.is_null()) return decoders::none{};
    const std::string type = type_of(j, "decoder");
    if (type == "WordPiece") return decoders::wordpiece{get<std::string>(j, "prefix", "##"), get(j, "cleanup", true)};
    if (type == "ByteLevel") return decoders::byte_level{};
    fail("unsupported decoder type '" + type + "'");
  }

  std::optional<truncation_params> truncation(const json& j) const {
    if (j.is_null()) return std::nullopt;
    truncation_params t;
    t.max_length = get<std::size_t>(j, "max_length", 512);
    t.stride = get<std::size_t>(j, "stride", 0);
    const std::string s = get<std::string>(j, "strategy", "LongestFirst");
    if (s == "LongestFirst")
      t.strategy = truncation_strategy::longest_first;
    else if (s == "OnlyFirst")
      t.strategy = truncation_strategy::only_first;
    else if (s == "OnlySecond")
      t.strategy = truncation_strategy::only_second;
    else
      fail("unknown truncation strategy '" + s + "'");
    t.direction = get<std::string>(j, "direction", "Right") == "Left" ? truncation_direction::left : truncation_direction::right;
    return t;
  }

  std::optional<padding_params> padding(const json& j) const {
    if (j.is_null()) return std::nullopt;
    padding_params p;
    const json& strategy = require(j, "strategy", "padding");
    if (strategy.is_object() && strategy.contains("Fixed"))
      p.fixed_length = strategy["Fixed"].get<std::size_t>();
    else if (!(strategy.is_string() && strategy.get<std::string>() == "BatchLongest"))
      fail("unknown padding strategy " + strategy.dump());
    if (p.fixed_length && *p.fixed_length > (1u << 24))
      fail("padding length " + std::to_string(*p.fixed_length) + " is not plausible");
    p.direction = get<std::string>(j, "direction", "Right") == "Left" ? padding_direction::left : padding_direction::right;
    if (j.contains("pad_to_multiple_of") && !j["pad_to_multiple_of"].is_null())
      p.pad_to_multiple_of = j["pad_to_multiple_of"].get<std::size_t>();
    p.pad_id = get<std::uint32_t>(j, "pad_id", 0);
    p.pad_type_id = get<std::uint32_t>(j, "pad_type_id", 0);
    p.pad_token = get<std::string>(j, "pad_token", "[PAD]");
    return p;
  }

  tokenizer_config read(const json& root) const {
    if (!root.is_object()) fail("the top level is not a JSON object");
    tokenizer_config c;
    std::vector<normalizer_step> ns;
    normalizer_steps(root.value("normalizer", json()), ns);
    c.normalize = normalizer(std::move(ns));
    std::vector<pre_tokenizer_step> ps;
    pre_tokenizer_steps(root.value("pre_tokenizer", json()), ps);
    for (std::size_t i = 0; i + 1 < ps.size(); ++i)
      if (std::holds_alternative<pre_tokenizers::byte_level>(ps[i]))
        fail("a ByteLevel pre_tokenizer must come last in its Sequence");
    if (ps.size() > 1 && std::holds_alternative<pre_tokenizers::byte_level>(ps.back()) &&
        std::get<pre_tokenizers::byte_level>(ps.back()).add_prefix_space)
      fail("ByteLevel(add_prefix_space=true) after other pre_tokenizers is not supported");
    const bool byte_level = !ps.empty() && std::holds_alternative<pre_tokenizers::byte_level>(ps.back());
    c.pre_tokenize = pre_tokenizer(std::move(ps));
    c.model = model(require(root, "model", "tokenizer.json"), byte_level);
    const json& model_json = root["model"];
    const auto vocab_it = model_json.find("vocab");
    const std::size_t vocab_size = vocab_it == model_json.end() ? 0 : vocab_it->size();
    for (const auto& t : root.value("added_tokens", json::array())) {
      added_token a;
      a.id = t.at("id").get<std::uint32_t>();
      a.content = t.at("content").get<std::string>();
      check_id(a.id, vocab_size, "added token '" + a.content + "'");
      a.single_word = get(t, "single_word", false);
      a.lstrip = get(t, "lstrip", false);
      a.rstrip = get(t, "rstrip", false);
      a.normalized = get(t, "normalized", true);
      a.special = get(t, "special", false);
      c.added_tokens.push_back(std::move(a));
    }
    post_processor_into(root.value("post_processor", json()), c.post_process);
    c.decode = decoder_of(root.value("decoder", json()));
    c.truncation = truncation(root.value("truncation", json()));
    c.padding = padding(root.value("padding", json()));
    return c;
  }

 private:
  std::string source_;
};

}  // namespace detail

inline tokenizer_config parse_tokenizer_json(std::string_view text, const std::string& source = "tokenizer.json") {
  detail::json_reader reader(source);
  const detail::json root = io::parse_json(text, source);
  try {
    return reader.read(root);
  } catch (const detail::json::exception& e) {
    throw parse_error(source + ": " + e.what());
  }
}

inline std::string read_text_file(const std::filesystem::path& path) { return io::read_file(path); }

inline tokenizer_config load_tokenizer_json(const std::filesystem::path& path) {
  return parse_tokenizer_json(read_text_file(path), path.string());
}

namespace detail {

// Copies JSON text event by event (numbers as they were written, keys in their order),
// putting `replace[key]` in place of the top-level members named there and appending
// those the source lacks. Linear in the size of the text.
class json_rewriter : public nlohmann::json_sax<json> {
 public:
  json_rewriter(std::string& out, const std::vector<std::pair<std::string, std::string>>& replace)
      : out_(out), replace_(replace) {}

  bool null() override { return scalar("null"); }
  bool boolean(bool v) override { return scalar(v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return scalar(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& text) override { return scalar(text); }
  bool string(string_t& v) override { return scalar(json(v).dump()); }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return open('{'); }
  bool start_array(std::size_t) override { return open('['); }
  bool end_object() override { return close('}'); }
  bool end_array() override { return close(']'); }
  bool key(string_t& k) override {
    if (skip_) return true;
    if (depth_ == 1) {
      for (std::size_t i = 0; i < replace_.size(); ++i) {
        if (replace_[i].first != k) continue;
        separate();
        out_ += json(k).dump() + ":" + replace_[i].second;
        done_.push_back(i);
        skip_ = true;  // the source's value, up to its end
        skip_depth_ = depth_;
        return true;
      }
    }
    separate();
    out_ += json(k).dump() + ":";
    after_key_ = true;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    throw parse_error_at(position, e.what());
  }

 private:
  static shopml::parse_error parse_error_at(std::size_t position, const std::string& what) {
    return shopml::parse_error("tokenizer.json source at byte " + std::to_string(position) + ": " + what);
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_ += ',';
    first_ = false;
  }
  bool scalar(const std::string& text) {
    if (skip_) {
      if (depth_ == skip_depth_) skip_ = false;
      return true;
    }
    separate();
    out_ += text;
    return true;
  }
  bool open(char c) {
    ++depth_;
    if (skip_) return true;
    separate();
    out_ += c;
    first_ = true;
    return true;
  }
  bool close(char c) {
    --depth_;
    if (skip_) {
      if (depth_ == skip_depth_) skip_ = false;
      return true;
    }
    if (depth_ == 0 && c == '}') {  // the members the source lacks
      for (std::size_t i = 0; i < replace_.size(); ++i) {
        if (std::find(done_.begin(), done_.end(), i) != done_.end()) continue;
        separate();
        out_ += json(replace_[i].first).dump() + ":" + replace_[i].second;
      }
    }
    out_ += c;
    first_ = false;
    return true;
  }

  std::string& out_;
  const std::vector<std::pair<std::string, std::string>>& replace_;
  std::vector<std::size_t> done_;
  int depth_ = 0, skip_depth_ = 0;
  bool skip_ = false, first_ = true, after_key_ = false;
};

}  // namespace detail

// The tokenizer.json `source` (the text a tokenizer was read from) with the added tokens,
// truncation and padding of `c`, in HF's format: added_tokens sorted by id, each
// {id, content, single_word, lstrip, rstrip, normalized, special}. Everything else is
// copied as it was read (keys in their order, numbers as written), without indentation.
inline std::string write_tokenizer_json(std::string_view source, const tokenizer_config& c) {
  using ojson = nlohmann::ordered_json;
  std::vector<const added_token*> tokens;
  for (const auto& t : c.added_tokens) tokens.push_back(&t);
  std::stable_sort(tokens.begin(), tokens.end(), [](const added_token* a, const added_token* b) { return a->id < b->id; });
  std::string added = "[";
  for (const added_token* t : tokens) {
    if (added.size() > 1) added += ",\n";
    added += ojson{{"id", t->id},         {"content", t->content},       {"single_word", t->single_word}, {"lstrip", t->lstrip},
                   {"rstrip", t->rstrip}, {"normalized", t->normalized}, {"special", t->special}}
                 .dump();
  }
  added += "]";
  ojson truncation, padding;
  if (c.truncation) {
    const truncation_params& t = *c.truncation;
    const char* strategy = t.strategy == truncation_strategy::longest_first ? "LongestFirst"
                           : t.strategy == truncation_strategy::only_first  ? "OnlyFirst"
                                                                            : "OnlySecond";
    truncation = {{"direction", t.direction == truncation_direction::left ? "Left" : "Right"},
                  {"max_length", t.max_length},
                  {"strategy", strategy},
                  {"stride", t.stride}};
  }
  if (c.padding) {
    const padding_params& p = *c.padding;
    padding = {{"strategy", p.fixed_length ? ojson{{"Fixed", *p.fixed_length}} : ojson("BatchLongest")},
               {"direction", p.direction == padding_direction::left ? "Left" : "Right"},
               {"pad_to_multiple_of", p.pad_to_multiple_of ? ojson(*p.pad_to_multiple_of) : ojson(nullptr)},
               {"pad_id", p.pad_id},
               {"pad_type_id", p.pad_type_id},
               {"pad_token", p.pad_token}};
  }
  const std::vector<std::pair<std::string, std::string>> replace = {
      {"truncation", truncation.dump()}, {"padding", padding.dump()}, {"added_tokens", std::move(added)}};
  std::string out;
  out.reserve(source.size() + 128 * tokens.size());
  detail::json_rewriter writer(out, replace);
  detail::json::sax_parse(source, &writer);
  out += '\n';
  return out;
}

}  // namespace shopml::tokenize
