#pragma once
// Tokenizers from plain vocabulary files, configured like transformers' fast
// tokenizers: BERT's vocab.txt (BertTokenizerFast) and GPT-2's vocab.json +
// merges.txt (GPT2TokenizerFast).

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "shopml/error.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/io/open_file.hpp"
#include "shopml/tokenize/tokenizer_config.hpp"
#include "shopml/tokenize/tokenizer_json.hpp"

namespace shopml::tokenize {

struct bert_vocab_options {
  bool lowercase = true;              // do_lower_case
  std::optional<bool> strip_accents;  // unset: follows lowercase
  bool handle_chinese_chars = true;   // tokenize_chinese_chars
  bool clean_text = true;
  std::string unk_token = "[UNK]", sep_token = "[SEP]", pad_token = "[PAD]", cls_token = "[CLS]", mask_token = "[MASK]";
  std::size_t max_input_chars_per_word = 100;
};

// One token per line, the line number is the id (a repeated token keeps its last line).
inline vocabulary read_vocab_txt(const std::filesystem::path& path) {
  std::ifstream in = io::open_input(path);
  vocabulary v;
  std::string line;
  std::uint32_t id = 0;
  while (std::getline(in, line)) {
    utf8::validate(line, "'" + path.string() + "' line " + std::to_string(id + 1));
    v.add(line, id++);
  }
  if (v.size() == 0) throw parse_error("'" + path.string() + "': empty vocabulary");
  return v;
}

inline tokenizer_config bert_config_from_vocab(const std::filesystem::path& vocab_txt, const bert_vocab_options& o = {}) {
  vocabulary v = read_vocab_txt(vocab_txt);
  tokenizer_config c;
  c.normalize = normalizer({normalizers::bert{o.clean_text, o.handle_chinese_chars, o.strip_accents, o.lowercase}});
  c.pre_tokenize = pre_tokenizer({pre_tokenizers::bert{}});
  const std::string where = vocab_txt.string() + ":";
  const std::uint32_t cls = v.require(o.cls_token, where + " cls_token");
  const std::uint32_t sep = v.require(o.sep_token, where + " sep_token");
  for (const std::string* t : {&o.pad_token, &o.unk_token, &o.cls_token, &o.sep_token, &o.mask_token})
    if (auto id = v.token_to_id(*t)) c.added_tokens.push_back({*id, *t, false, false, false, false, true});
  std::sort(c.added_tokens.begin(), c.added_tokens.end(), [](const added_token& a, const added_token& b) { return a.id < b.id; });
  c.post_process = detail::json_reader::cls_sep_template({o.cls_token, cls}, {o.sep_token, sep}, false);
  c.model = std::make_shared<const tokenizer_model>(std::in_place_type<wordpiece>, std::move(v),
                                                    wordpiece_config{o.unk_token, "##", o.max_input_chars_per_word});
  c.decode = decoders::wordpiece{"##", true};
  return c;
}

struct gpt2_vocab_options {
  bool add_prefix_space = false;
  // transformers' GPT2TokenizerFast post-processes with a plain template ($A, $B:1),
  // so offsets keep their leading 'Ġ'; true uses ByteLevel(trim_offsets) instead.
  bool byte_level_post_processor = false;
  bool trim_offsets = true;
  std::string special_token = "<|endoftext|>";
};

inline tokenizer_config gpt2_config_from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                                               const gpt2_vocab_options& o = {}) {
  const nlohmann::json vocab_root = io::read_json(vocab_json);
  nlohmann::json model{{"type", "BPE"}, {"vocab", vocab_root}, {"merges", nlohmann::json::array()}};
  std::ifstream in = io::open_input(merges_txt);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    if (line.find(' ') == std::string::npos)
      throw parse_error("'" + merges_txt.string() + "' line " + std::to_string(number) + ": no space in merge");
    model["merges"].push_back(line);
  }
  nlohmann::json byte_level{
      {"type", "ByteLevel"}, {"add_prefix_space", o.add_prefix_space}, {"trim_offsets", o.trim_offsets}, {"use_regex", true}};
  auto sequence = [](const char* id, int type) { return nlohmann::json{{"Sequence", {{"id", id}, {"type_id", type}}}}; };
  nlohmann::json plain_template{{"type", "TemplateProcessing"},
                                {"single", {sequence("A", 0)}},
                                {"pair", {sequence("A", 0), sequence("B", 1)}},
                                {"special_tokens", nlohmann::json::object()}};
  nlohmann::json root{{"model", model},
                      {"pre_tokenizer", byte_level},
                      {"post_processor", o.byte_level_post_processor ? byte_level : plain_template},
                      {"decoder", byte_level},
                      {"normalizer", nullptr},
                      {"added_tokens", nlohmann::json::array()}};
  if (auto it = vocab_root.find(o.special_token); it != vocab_root.end())
    root["added_tokens"].push_back({{"id", *it},
                                    {"content", o.special_token},
                                    {"special", true},
                                    {"normalized", false},
                                    {"single_word", false},
                                    {"lstrip", false},
                                    {"rstrip", false}});
  return parse_tokenizer_json(root.dump(), vocab_json.string());
}

}  // namespace shopml::tokenize
