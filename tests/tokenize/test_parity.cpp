// Parity with HF tokenizers 0.23.3 on >= 20,000 real review lines per configuration
// plus hard Unicode cases; goldens from scripts/golden/tokenizer.py.

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "golden_reader.hpp"
#include "shopml/tokenize/tokenizer.hpp"

namespace tk = shopml::tokenize;
namespace fs = std::filesystem;

namespace golden = shopml::test::golden;

namespace {

const fs::path golden_dir = shopml::test::golden::path("tokenize");

const std::vector<std::string>& inputs() {
  static const std::vector<std::string> texts = golden::inputs(SHOPML_DATA_DIR, golden_dir);
  return texts;
}

tk::tokenizer make(const std::string& config) {
  if (config == "bert-base-uncased")
    return tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json").no_truncation().no_padding();
  if (config == "bert-base-chinese")
    return tk::tokenizer::from_bert_vocab(fs::path(SHOPML_DATA_DIR) / "vocab/bert-base-chinese-vocab.txt");
  if (config == "gpt2") return tk::tokenizer::from_gpt2_files(golden_dir / "gpt2/vocab.json", golden_dir / "gpt2/merges.txt");
  if (config == "gpt2-trimmed") {
    tk::gpt2_vocab_options o;
    o.add_prefix_space = true;
    o.byte_level_post_processor = true;
    return tk::tokenizer::from_gpt2_files(golden_dir / "gpt2/vocab.json", golden_dir / "gpt2/merges.txt", o);
  }
  throw std::runtime_error("unknown config " + config);
}

// Byte offsets the code-point offsets of `text` stand for.
std::pair<std::size_t, std::size_t> to_bytes(const std::string& text, std::pair<std::size_t, std::size_t> chars) {
  std::size_t ch = 0, first = text.size(), second = text.size();
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (ch == chars.first && first == text.size()) first = i;
    if (ch == chars.second) {
      second = i;
      break;
    }
    ++ch;
  }
  return {chars.first == chars.second ? std::min(first, second) : first, second};
}

std::string describe(const std::vector<std::uint32_t>& v) {
  std::ostringstream s;
  for (auto x : v) s << x << ' ';
  return s.str();
}

// Compares one encoding with the golden fields present in `g` (nlohmann json or golden::record).
struct comparison {
  std::size_t mismatches = 0;
  std::vector<std::string> examples;
  void fail(const std::string& what) {
    if (examples.size() < 5) examples.push_back(what);
    ++mismatches;
  }
};

void compare_main(const std::string& config, comparison& c) {
  const auto& texts = inputs();
  const auto records = golden::read_golden(golden_dir / (config + ".golden"));
  REQUIRE(records.size() == texts.size());
  const tk::tokenizer t = make(config);
  const auto encodings = t.encode_batch(texts);
  for (const auto& [index, want] : records) {
    const tk::encoding& e = encodings.at(index);
    const std::string& text = texts[index];
    bool ok = e.ids == want.ids && e.char_offsets == want.offsets && e.word_ids == want.word_ids;
    for (std::size_t k = 0; ok && k < e.size(); ++k) {
      const bool special = !want.word_ids[k].has_value();
      ok = e.type_ids[k] == 0 && e.attention_mask[k] == 1 && e.special_tokens_mask[k] == (special ? 1u : 0u) &&
           e.offsets[k] == (special ? std::pair<std::size_t, std::size_t>{0, 0} : to_bytes(text, want.offsets[k]));
    }
    if (!ok)
      c.fail(config + " input " + std::to_string(index) + " '" + text.substr(0, 80) + "': got " + describe(e.ids) + "want " +
             describe(want.ids));
  }
}

using json = nlohmann::json;

void compare_full(const tk::encoding& e, const json& want, const std::string& where, comparison& c) {
  std::vector<std::pair<std::size_t, std::size_t>> offsets;
  for (const auto& o : want["offsets"]) offsets.emplace_back(o[0].get<std::size_t>(), o[1].get<std::size_t>());
  std::vector<std::optional<std::uint32_t>> words;
  for (const auto& w : want["word_ids"])
    words.push_back(w.get<int>() < 0 ? std::nullopt : std::optional<std::uint32_t>(w.get<std::uint32_t>()));
  std::string special, attention;
  for (auto m : e.special_tokens_mask) special += static_cast<char>('0' + m);
  for (auto m : e.attention_mask) attention += static_cast<char>('0' + m);
  const bool ok = e.ids == want["ids"].get<std::vector<std::uint32_t>>() &&
                  e.type_ids == want["type_ids"].get<std::vector<std::uint32_t>>() && e.char_offsets == offsets &&
                  e.word_ids == words && special == want["special"].get<std::string>() &&
                  attention == want["attention"].get<std::string>() &&
                  (!want.contains("tokens") || e.tokens == want["tokens"].get<std::vector<std::string>>()) &&
                  e.overflowing.size() == want["overflowing"].size();
  if (!ok) {
    c.fail(where + ": got " + describe(e.ids) + " want " + want["ids"].dump() + " (overflowing " +
           std::to_string(e.overflowing.size()) + " vs " + std::to_string(want["overflowing"].size()) + ")");
    return;
  }
  for (std::size_t k = 0; k < e.overflowing.size(); ++k)
    compare_full(e.overflowing[k], want["overflowing"][k], where + " overflowing " + std::to_string(k), c);
}

void compare_extra(const std::string& config, comparison& c) {
  const auto& texts = inputs();
  std::map<std::string, tk::tokenizer> tokenizers;
  auto tokenizer_for = [&](const std::string& variant) -> tk::tokenizer& {
    auto it = tokenizers.find(variant);
    if (it != tokenizers.end()) return it->second;
    tk::tokenizer t = make(config);
    std::string base = variant.substr(0, variant.rfind("_single") == variant.size() - 7 ? variant.size() - 7 : variant.size());
    if (base == "longest_first_32_stride4") t.enable_truncation(32, 4, tk::truncation_strategy::longest_first);
    if (base == "only_first_40") t.enable_truncation(40, 0, tk::truncation_strategy::only_first);
    if (base == "only_second_40") t.enable_truncation(40, 0, tk::truncation_strategy::only_second);
    if (base == "left_24_stride2")
      t.enable_truncation(24, 2, tk::truncation_strategy::longest_first, tk::truncation_direction::left);
    if (base.rfind("pad_", 0) == 0) {
      t.enable_truncation(60);
      const auto pad = t.token_to_id("[PAD]");
      const std::string pad_token = pad ? "[PAD]" : "<|endoftext|>";
      if (base == "pad_longest_multiple8")
        t.enable_padding(std::nullopt, tk::padding_direction::right, 8, pad.value_or(0), 0, pad_token);
      if (base == "pad_left_fixed64")
        t.enable_padding(64, tk::padding_direction::left, std::nullopt, pad.value_or(0), 0, pad_token);
    }
    return tokenizers.emplace(variant, std::move(t)).first->second;
  };
  std::map<std::size_t, std::vector<tk::encoding>> batches;  // padding records, by batch start
  std::size_t records = 0;
  std::istringstream lines(golden::read_text(golden_dir / (config + ".extra.jsonl")));
  for (std::string line; std::getline(lines, line);) {
    const json r = json::parse(line);
    ++records;
    const std::string variant = r["variant"];
    const auto a = r["a"].get<std::size_t>();
    const auto b = r["b"].get<long>();
    const std::string where = config + " " + variant + " input " + std::to_string(a);
    tk::tokenizer& t = tokenizer_for(variant);
    if (variant == "decode") {
      const auto ids = r["ids"].get<std::vector<std::uint32_t>>();
      if (t.decode(ids) != r["text"].get<std::string>() || t.decode(ids, false) != r["text_with_special"].get<std::string>())
        c.fail(where + ": decode '" + t.decode(ids) + "' want '" + r["text"].get<std::string>() + "'");
      continue;
    }
    if (r.contains("error")) {
      bool threw = false;
      try {
        (void)(b >= 0 ? t.encode(texts[a], texts[b]) : t.encode(texts[a]));
      } catch (const shopml::value_error&) {
        threw = true;
      }
      if (!threw) c.fail(where + ": HF failed (" + r["error"].get<std::string>() + ") but shopml did not throw");
      continue;
    }
    tk::encoding e;
    if (r.contains("batch")) {
      const auto start = r["batch"].get<std::size_t>();
      auto& batch = batches[start * 16 + (variant == "pad_left_fixed64")];
      if (batch.empty()) {
        // The golden batch: this record and the next ones with the same batch start.
        std::vector<std::string> members;
        std::istringstream rest(golden::read_text(golden_dir / (config + ".extra.jsonl")));
        for (std::string l2; std::getline(rest, l2);) {
          const json r2 = json::parse(l2);
          if (r2["variant"] == variant && r2.contains("batch") && r2["batch"] == r["batch"])
            members.push_back(texts[r2["a"].get<std::size_t>()]);
        }
        batch = t.encode_batch(members);
        std::reverse(batch.begin(), batch.end());
      }
      e = std::move(batch.back());
      batch.pop_back();
    } else if (variant == "single_no_special") {
      e = t.encode(texts[a], false);
    } else {
      e = b >= 0 ? t.encode(texts[a], texts[b]) : t.encode(texts[a]);
    }
    compare_full(e, r, where, c);
  }
  CHECK(records > 100);
}

void report(const comparison& c) {
  for (const auto& e : c.examples) MESSAGE(e);
  CHECK(c.mismatches == 0);
}

}  // namespace

TEST_CASE("parity: bert-base-uncased (all-MiniLM-L6-v2 tokenizer.json) on 20k real lines") {
  comparison c;
  compare_main("bert-base-uncased", c);
  report(c);
}
TEST_CASE("parity: bert-base-chinese (vocab.txt) on 20k real lines") {
  comparison c;
  compare_main("bert-base-chinese", c);
  report(c);
}
TEST_CASE("parity: gpt2 byte-level BPE on 20k real lines") {
  comparison c;
  compare_main("gpt2", c);
  report(c);
}
TEST_CASE("parity: pairs, truncation, stride, padding and decode") {
  for (const std::string config : {"bert-base-uncased", "bert-base-chinese", "gpt2", "gpt2-trimmed"}) {
    comparison c;
    compare_extra(config, c);
    INFO(config);
    report(c);
  }
}

TEST_CASE("parity: normalizers and pre-tokenizers one by one") {
  const auto& texts = inputs();
  const tk::detail::json_reader reader("components.jsonl");
  std::istringstream lines(golden::read_text(golden_dir / "components.jsonl"));
  std::size_t configs = 0;
  for (std::string line; std::getline(lines, line);) {
    const json r = json::parse(line);
    ++configs;
    comparison c;
    const auto picks = r["inputs"].get<std::vector<std::size_t>>();
    if (r.contains("normalizer")) {
      std::vector<tk::normalizer_step> steps;
      reader.normalizer_steps(r["normalizer"], steps);
      const tk::normalizer n(std::move(steps));
      for (std::size_t k = 0; k < picks.size(); ++k) {
        tk::normalized_string s(texts[picks[k]], 0);
        n(s);
        if (s.text != r["outputs"][k].get<std::string>())
          c.fail(r["normalizer"].dump() + " on input " + std::to_string(picks[k]) + ": '" + s.text + "'");
      }
    } else {
      std::vector<tk::pre_tokenizer_step> steps;
      reader.pre_tokenizer_steps(r["pre_tokenizer"], steps);
      const tk::pre_tokenizer p(std::move(steps));
      std::vector<tk::byte_range> words;
      for (std::size_t k = 0; k < picks.size(); ++k) {
        const std::string& text = texts[picks[k]];
        tk::normalized_string s(text, 0);
        p.split(s, words);
        std::vector<std::size_t> got;
        std::size_t chars = 0, at = 0;
        auto char_index = [&](std::size_t byte) {  // words come in order, so walk forward
          if (byte < at) chars = 0, at = 0;
          for (; at < byte; ++at) chars += (static_cast<unsigned char>(text[at]) & 0xC0) != 0x80;
          return chars;
        };
        for (const auto& w : words) {
          got.push_back(char_index(w.begin));
          got.push_back(char_index(w.end));
        }
        if (got != r["outputs"][k].get<std::vector<std::size_t>>())
          c.fail(r["pre_tokenizer"].dump() + " on input " + std::to_string(picks[k]) + " '" + text.substr(0, 60) + "'");
      }
    }
    report(c);
  }
  CHECK(configs >= 30);
}
