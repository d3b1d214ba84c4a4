// tokenizer::add_tokens and save against HF tokenizers 0.23.3: all-MiniLM-L6-v2's tokenizer
// grown by the single-character CJK tokens of bert-base-chinese's vocab.txt it lacks, on
// real Chinese and English reviews; HF's add_tokens semantics case by case; save -> from_file.
// Goldens from scripts/golden/added_tokens.py.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "golden_reader.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/tokenize/tokenizer.hpp"

namespace tk = shopml::tokenize;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace golden = shopml::test::golden;

namespace {

const fs::path golden_dir = shopml::test::golden::path("tokenize/added_tokens");
constexpr std::uint32_t unk_id = 100;

tk::tokenizer minilm() {
  return tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json").no_truncation().no_padding();
}

const std::vector<std::string>& inputs() {
  static const std::vector<std::string> texts = golden::inputs(SHOPML_DATA_DIR, golden_dir);
  return texts;
}
// The manifest lists the Chinese file first: its lines are the ones with CJK characters.
bool is_chinese(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    if (tk::unicode::properties(tk::utf8::decode(text, i)) & tk::unicode::chinese) return true;
  }
  return false;
}

// Single-character tokens of vocab.txt that BertNormalizer pads as Chinese and `t` lacks, in file order.
std::vector<std::string> cjk_tokens(const tk::tokenizer& t) {
  std::vector<std::string> out;
  for (const std::string& w :
       golden::split_lines(golden::read_text(fs::path(SHOPML_DATA_DIR) / "vocab/bert-base-chinese-vocab.txt"))) {
    if (w.empty()) continue;
    std::size_t i = 0;
    const char32_t c = tk::utf8::decode(w, i);
    if (i == w.size() && (tk::unicode::properties(c) & tk::unicode::chinese) && !t.token_to_id(w)) out.push_back(w);
  }
  return out;
}

// "key value" pairs of a golden file's header line.
std::map<std::string, std::string> header(const fs::path& p) {
  const std::string line = golden::split_lines(golden::read_text(p)).at(0);
  std::map<std::string, std::string> out;
  std::istringstream words(line);
  std::string key, value;
  while (words >> key) {
    if (key.rfind("unk_", 0) == 0 || key == "added" || key == "vocab_size") {
      words >> value;
      out[key] = value;
    }
  }
  return out;
}

std::string describe(const std::vector<std::uint32_t>& v) {
  std::ostringstream s;
  for (auto x : v) s << x << ' ';
  return s.str();
}

// Encodings of inputs() against a .golden file: ids, code-point offsets, word ids.
std::size_t mismatches(const std::vector<tk::encoding>& got, const fs::path& golden_file) {
  const auto records = golden::read_golden(golden_file);
  REQUIRE(records.size() == got.size());
  std::size_t bad = 0;
  for (const auto& [index, want] : records) {
    const tk::encoding& e = got.at(index);
    if (e.ids == want.ids && e.char_offsets == want.offsets && e.word_ids == want.word_ids) continue;
    if (++bad <= 5)
      MESSAGE(golden_file.filename().string() << " input " << index << " '" << inputs()[index].substr(0, 80) << "': got "
                                              << describe(e.ids) << "want " << describe(want.ids));
  }
  return bad;
}

struct unk_count {
  std::size_t unk = 0, total = 0;
  std::string text() const { return std::to_string(unk) + "/" + std::to_string(total); }
  double percent() const { return total ? 100.0 * static_cast<double>(unk) / static_cast<double>(total) : 0.0; }
};
// [UNK] share of the tokens of the Chinese (or the other) inputs, [CLS]/[SEP] not counted.
unk_count unk_rate(const std::vector<tk::encoding>& encodings, bool chinese) {
  unk_count c;
  for (std::size_t i = 0; i < encodings.size(); ++i) {
    if (is_chinese(inputs()[i]) != chinese) continue;
    const tk::encoding& e = encodings[i];
    for (std::size_t k = 0; k < e.size(); ++k) {
      if (!e.word_ids[k]) continue;
      ++c.total;
      c.unk += e.ids[k] == unk_id;
    }
  }
  return c;
}

const tk::tokenizer& minilm_cjk() {
  static const tk::tokenizer t = [] {
    tk::tokenizer x = minilm();
    x.add_tokens(cjk_tokens(x));
    return x;
  }();
  return t;
}

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() / ("shopml-added-tokens-" + std::to_string(std::rand()));
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("added tokens: MiniLM + bert-base-chinese CJK chars, parity with HF on real zh/en reviews, [UNK] rates") {
  tk::tokenizer t = minilm();
  const auto before = t.encode_batch(inputs());
  CHECK(mismatches(before, golden_dir / "minilm.golden") == 0);
  const std::vector<std::string> cjk = cjk_tokens(t);
  const auto want = header(golden_dir / "minilm-cjk.golden");
  const std::size_t size_before = t.vocab_size();
  const std::size_t added = t.add_tokens(cjk);
  CHECK(std::to_string(added) == want.at("added"));
  CHECK(added == cjk.size());
  CHECK(std::to_string(t.vocab_size()) == want.at("vocab_size"));
  CHECK(t.vocab_size() == size_before + added);
  const auto after = t.encode_batch(inputs());
  CHECK(mismatches(after, golden_dir / "minilm-cjk.golden") == 0);
  // The same with one thread and through encode.
  for (std::size_t i = 0; i < inputs().size(); i += 7) CHECK(t.encode(inputs()[i]).ids == after[i].ids);

  const unk_count zh_before = unk_rate(before, true), en_before = unk_rate(before, false);
  const unk_count zh_after = unk_rate(after, true), en_after = unk_rate(after, false);
  CHECK(zh_before.text() == want.at("unk_before_zh"));
  CHECK(en_before.text() == want.at("unk_before_en"));
  CHECK(zh_after.text() == want.at("unk_after_zh"));
  CHECK(en_after.text() == want.at("unk_after_en"));
  std::ostringstream report;
  report.precision(2);
  report << std::fixed << "[UNK] share of tokens, all-MiniLM-L6-v2 tokenizer, " << inputs().size()
         << " reviews; before -> after add_tokens of " << added << " CJK chars (vocab " << size_before << " -> " << t.vocab_size()
         << "): Chinese " << zh_before.text() << " = " << zh_before.percent() << " % -> " << zh_after.text() << " = "
         << zh_after.percent() << " %; English " << en_before.text() << " = " << en_before.percent() << " % -> "
         << en_after.text() << " = " << en_after.percent() << " %";
  std::cout << report.str() << '\n';
  MESSAGE(report.str());
}

TEST_CASE("added tokens: add_tokens semantics case by case as HF (in-vocab tokens, repeats, [CLS], inside words, case)") {
  std::istringstream lines(golden::read_text(golden_dir / "quirks.jsonl"));
  std::size_t cases = 0;
  for (std::string line; std::getline(lines, line);) {
    const json r = json::parse(line);
    ++cases;
    INFO(r["add"].dump());
    tk::tokenizer t = minilm();
    const tk::tokenizer copy = t;
    const auto add = r["add"].get<std::vector<std::string>>();
    CHECK(t.add_tokens(add) == r["count"].get<std::size_t>());
    CHECK(t.vocab_size() == r["vocab_size"].get<std::size_t>());
    CHECK(copy.vocab_size() == 30522);
    for (const auto& [token, id] : r["token_to_id"].items()) CHECK(t.token_to_id(token) == id.get<std::uint32_t>());
    for (const auto& [id, token] : r["id_to_token"].items()) CHECK(t.id_to_token(std::stoul(id)) == token.get<std::string>());
    for (const json& w : r["encodings"]) {
      const std::string text = w["text"];
      INFO(text);
      const tk::encoding e = t.encode(text);
      CHECK(e.ids == w["ids"].get<std::vector<std::uint32_t>>());
      CHECK(e.tokens == w["tokens"].get<std::vector<std::string>>());
      std::vector<std::pair<std::size_t, std::size_t>> offsets;
      for (const auto& o : w["offsets"]) offsets.emplace_back(o[0].get<std::size_t>(), o[1].get<std::size_t>());
      CHECK(e.char_offsets == offsets);
      std::vector<std::optional<std::uint32_t>> words;
      for (const auto& x : w["word_ids"])
        words.push_back(x.get<int>() < 0 ? std::nullopt : std::optional<std::uint32_t>(x.get<std::uint32_t>()));
      CHECK(e.word_ids == words);
      CHECK(t.decode(e.ids) == w["decode"].get<std::string>());
      CHECK(t.decode(e.ids, false) == w["decode_with_special"].get<std::string>());
    }
    CHECK(t.add_tokens(add) == 0);  // all there now, with the same properties
  }
  CHECK(cases >= 5);
}

TEST_CASE("added tokens: save -> from_file gives the same tokenizer, the file is HF's format") {
  const tk::tokenizer& t = minilm_cjk();
  const fs::path dir = temp_dir();
  const fs::path path = dir / "tokenizer.json";
  t.save(path);
  CHECK(!fs::exists(dir / "tokenizer.json.partial"));
  if (const char* keep = std::getenv("SHOPML_KEEP_SAVED_TOKENIZER")) {
    fs::copy_file(path, keep, fs::copy_options::overwrite_existing);
    MESSAGE("saved tokenizer kept at " << std::string(keep)
                                       << " (check: .venv-golden/bin/python scripts/golden/added_tokens.py --check-saved "
                                       << std::string(keep) << ")");
  }
  tk::tokenizer back = tk::tokenizer::from_file(path);
  CHECK(!back.truncation());  // the settings as they were when saved
  CHECK(!back.padding());
  CHECK(back.vocab_size() == t.vocab_size());
  const auto a = t.encode_batch(inputs()), b = back.encode_batch(inputs());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    differ +=
        !(a[i].ids == b[i].ids && a[i].tokens == b[i].tokens && a[i].offsets == b[i].offsets && a[i].word_ids == b[i].word_ids);
  CHECK(differ == 0);
  CHECK(mismatches(b, golden_dir / "minilm-cjk.golden") == 0);
  CHECK(back.add_tokens(cjk_tokens(minilm())) == 0);
  CHECK(back.to_json() == t.to_json());

  const json j = shopml::io::read_json(path);
  const json& added = j["added_tokens"];
  REQUIRE(added.size() == 5 + t.vocab_size() - 30522);
  std::uint32_t last = 0;
  for (const json& a : added) {
    CHECK(a["id"].get<std::uint32_t>() >= last);
    last = a["id"].get<std::uint32_t>();
  }
  const json& first_new = added.at(5);
  CHECK(first_new.dump() == json{{"id", 30522},
                                 {"content", cjk_tokens(minilm()).at(0)},
                                 {"single_word", false},
                                 {"lstrip", false},
                                 {"rstrip", false},
                                 {"normalized", true},
                                 {"special", false}}
                                .dump());
  CHECK(added.at(0)["content"] == "[PAD]");
  CHECK(added.at(0)["special"] == true);
  CHECK(j["model"]["vocab"].size() == 30522);  // the model's vocabulary is written back as it was
  fs::remove_all(dir);
}

TEST_CASE("added tokens: truncation and padding are saved as they are now") {
  tk::tokenizer t = tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json");
  const tk::tokenizer as_loaded = tk::tokenizer::from_json(t.to_json());
  REQUIRE(as_loaded.truncation());
  CHECK(as_loaded.truncation()->max_length == 128);
  REQUIRE(as_loaded.padding());
  CHECK(as_loaded.padding()->fixed_length == 128);
  t.enable_truncation(64, 4, tk::truncation_strategy::only_first, tk::truncation_direction::left);
  t.enable_padding(std::nullopt, tk::padding_direction::left, 8, 0, 0, "[PAD]");
  const tk::tokenizer back = tk::tokenizer::from_json(t.to_json());
  REQUIRE(back.truncation());
  CHECK(back.truncation()->max_length == 64);
  CHECK(back.truncation()->stride == 4);
  CHECK(back.truncation()->strategy == tk::truncation_strategy::only_first);
  CHECK(back.truncation()->direction == tk::truncation_direction::left);
  REQUIRE(back.padding());
  CHECK(!back.padding()->fixed_length);
  CHECK(back.padding()->direction == tk::padding_direction::left);
  CHECK(back.padding()->pad_to_multiple_of == 8u);
  const auto x = t.encode_batch({"a short one", "and a somewhat longer second review text"});
  const auto y = back.encode_batch({"a short one", "and a somewhat longer second review text"});
  CHECK(x[0].ids == y[0].ids);
  CHECK(x[1].attention_mask == y[1].attention_mask);
}

TEST_CASE("added tokens: errors leave the tokenizer as it was, only a tokenizer.json can be saved") {
  tk::tokenizer t = minilm();
  CHECK_THROWS_AS(t.add_tokens({"zzqqx", "bad\xC3"}), shopml::value_error);
  CHECK(t.vocab_size() == 30522);
  CHECK(!t.token_to_id("zzqqx").has_value());
  CHECK(t.add_tokens({"", ""}) == 0);

  const tk::tokenizer chinese = tk::tokenizer::from_bert_vocab(fs::path(SHOPML_DATA_DIR) / "vocab/bert-base-chinese-vocab.txt");
  std::string message;
  try {
    (void)chinese.to_json();
  } catch (const shopml::value_error& e) {
    message = e.what();
  }
  CHECK(message.find("not read from a tokenizer.json") != std::string::npos);
  CHECK_THROWS_AS(chinese.save(temp_dir() / "tokenizer.json"), shopml::value_error);
  CHECK_THROWS_AS(minilm_cjk().save(fs::path("/nonexistent-dir-shopml/tokenizer.json")), shopml::io_error);
}
