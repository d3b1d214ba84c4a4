// The error paths a newcomer meets first, walked one by one, and their one wording style:
// "[shopml.<kind>] ", paths in single quotes, "cannot open '<path>': <the system's reason>",
// the index of the text at fault in a batch, and whether an unknown id is a user or an item.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "error_message.hpp"
#include "shopml/io/csv.hpp"
#include "shopml/io/embeddings.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/nn/sentence_encoder.hpp"
#include "shopml/recommend/interactions.hpp"
#include "shopml/tokenize/tokenizer.hpp"

namespace fs = std::filesystem;
namespace tk = shopml::tokenize;

namespace {

const tk::tokenizer& minilm() {
  static const auto t = tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json").no_padding().no_truncation();
  return t;
}

bool have_model() { return fs::exists(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json"); }

}  // namespace

TEST_CASE("errors: every 'cannot open' quotes the path and gives the system's reason") {
  const fs::path missing = fs::temp_directory_path() / "shopml_no_such_dir" / "file";
  const fs::path dir = fs::temp_directory_path();
  const std::string enoent = "[shopml.io] cannot open '" + missing.string() + "': No such file or directory";
  const std::string eisdir = "[shopml.io] cannot open '" + dir.string() + "': Is a directory";
  const std::vector<std::pair<const char*, std::function<void(const fs::path&)>>> readers{
      {"io::read_csv", [](const fs::path& p) { shopml::io::read_csv(p); }},
      {"io::read_json", [](const fs::path& p) { shopml::io::read_json(p); }},
      {"io::safetensors_file::open", [](const fs::path& p) { shopml::io::safetensors_file::open(p); }},
      {"io::load_embeddings", [](const fs::path& p) { shopml::io::load_embeddings(p); }},
      {"tokenizer::from_file", [](const fs::path& p) { tk::tokenizer::from_file(p); }},
      {"tokenizer::from_bert_vocab", [](const fs::path& p) { tk::tokenizer::from_bert_vocab(p); }},
      {"tokenizer::from_gpt2_files (vocab.json)", [](const fs::path& p) { tk::tokenizer::from_gpt2_files(p, p); }},
      {"recommend::read_interactions", [](const fs::path& p) { shopml::recommend::read_interactions(p); }},
  };
  for (const auto& [name, read] : readers) {
    CAPTURE(name);
    CHECK(error_message<shopml::io_error>([&] { read(missing); }) == enoent);
    if (std::string(name) != "io::safetensors_file::open" && std::string(name) != "io::load_embeddings")
      CHECK(error_message<shopml::io_error>([&] { read(dir); }) == eisdir);
    else  // mmap reports a directory as not a regular file
      CHECK(error_message<shopml::io_error>([&] { read(dir); }) == "[shopml.io] '" + dir.string() + "' is not a regular file");
  }
  // GPT-2 merges.txt, after a readable vocab.json.
  const fs::path vocab = fs::temp_directory_path() / "shopml_test_errors_vocab.json";
  std::ofstream(vocab) << R"({"a": 0, "b": 1})";
  CHECK(error_message<shopml::io_error>([&] { tk::tokenizer::from_gpt2_files(vocab, missing); }) == enoent);
  fs::remove(vocab);
  // Writing: the temporary file beside the target, and why it failed.
  CHECK(error_message<shopml::io_error>([&] { shopml::io::save_embeddings(missing, shopml::io::embeddings_matrix(1, 1)); }) ==
        "[shopml.io] cannot open '" + missing.string() + ".partial' for writing: No such file or directory");
  // A model directory that exists but lacks its files (which one is named first is unspecified).
  const fs::path empty = fs::temp_directory_path() / "shopml_test_errors_empty_model";
  fs::create_directories(empty);
  const std::string got = error_message<shopml::io_error>([&] { shopml::nn::sentence_encoder<>::from_directory(empty); });
  CHECK((got == "[shopml.io] cannot open '" + (empty / "tokenizer.json").string() + "': No such file or directory" ||
         got == "[shopml.io] cannot open '" + (empty / "config.json").string() + "': No such file or directory" ||
         got == "[shopml.io] cannot open '" + (empty / "model.safetensors").string() + "': No such file or directory"));
  fs::remove(empty);
}

TEST_CASE("errors: invalid UTF-8 names the text's index in a batch, and the byte") {
  if (!have_model()) {
    MESSAGE("skipped: no model in " SHOPML_MODEL_DIR);
    return;
  }
  const auto& tok = minilm();
  CHECK(error_message<shopml::value_error>([&] {
          tok.encode(
              "ab\xFF"
              "cd");
        }) ==
        "[shopml.value] text is not valid UTF-8 at byte 2 (0xFF); replace_invalid_utf8() reads such bytes as U+FFFD instead");
  const std::vector<std::string> texts{"fine", "also fine", "caf\xC3", "bad \xE0\x80"};
  CHECK(error_message<shopml::value_error>([&] { tok.encode_batch(texts, true, 2); }) ==
        "[shopml.value] text 2 is not valid UTF-8 at byte 3 (0xC3); replace_invalid_utf8() reads such bytes as U+FFFD instead");
  const std::vector<std::pair<std::string, std::string>> pairs{{"a", "b"}, {"c", "d\x80"}};
  CHECK(error_message<shopml::value_error>([&] { tok.encode_batch(pairs); }) ==
        "[shopml.value] second text of pair 1 is not valid UTF-8 at byte 1 (0x80); replace_invalid_utf8() reads such bytes as "
        "U+FFFD instead");
  CHECK(error_message<shopml::value_error>([&] { tok.encode("ok", "\xFE"); }) ==
        "[shopml.value] second text is not valid UTF-8 at byte 0 (0xFE); replace_invalid_utf8() reads such bytes as U+FFFD "
        "instead");

  // sentence_encoder::encode goes through encode_batch: the same message.
  auto model = shopml::nn::sentence_encoder<>::from_directory(SHOPML_MODEL_DIR);
  CHECK(error_message<shopml::value_error>([&] {
          model.encode(texts);
        }).starts_with("[shopml.value] text 2 is not valid UTF-8 at byte 3 (0xC3)"));
  model.replace_invalid_utf8();
  const auto repaired = model.encode(texts);
  const std::vector<std::string> by_hand{"fine", "also fine", "caf\xEF\xBF\xBD", "bad \xEF\xBF\xBD\xEF\xBF\xBD"};
  CHECK(repaired == model.encode(by_hand));
}

TEST_CASE("errors: replace_invalid_utf8 reads invalid bytes as Python's errors=\"replace\" does, off by default") {
  // bytes.decode("utf-8", errors="replace").encode() in Python 3.11.
  const std::vector<std::pair<std::string, std::string>> python{
      {"ab\xFF"
       "cd",
       "ab\xEF\xBF\xBD"
       "cd"},
      {"\xE0\x80x", "\xEF\xBF\xBD\xEF\xBF\xBDx"},
      {"\xF0\x9F\x98", "\xEF\xBF\xBD"},
      {"\xED\xA0\x80!", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!"},
      {"\xC3", "\xEF\xBF\xBD"},
      {"\xF4\x90\x80\x80z", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz"},
      {"ok\xE4\xB8", "ok\xEF\xBF\xBD"},
      {"valid \xE4\xB8\xAD", "valid \xE4\xB8\xAD"},
  };
  for (const auto& [in, out] : python) CHECK(tk::utf8::replace_invalid(in) == out);

  if (!have_model()) return;
  auto tok = tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json").no_padding().no_truncation();
  CHECK_FALSE(tok.replaces_invalid_utf8());
  CHECK_THROWS_AS(tok.encode("\xFF"), shopml::value_error);
  tok.replace_invalid_utf8();
  CHECK(tok.replaces_invalid_utf8());
  for (const auto& [in, out] : python) CHECK(tok.encode(in).ids == tok.encode(out).ids);
  const std::vector<std::string> batch{"x\xFF", "y"};
  CHECK(tok.encode_batch(batch)[0].ids == tok.encode("x\xEF\xBF\xBD").ids);
  CHECK(tok.encode("a\xFF", "b\xC3").ids == tok.encode("a\xEF\xBF\xBD", "b\xEF\xBF\xBD").ids);
  // Chainable on a temporary, like no_padding().
  CHECK(tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json").replace_invalid_utf8().replaces_invalid_utf8());
}

TEST_CASE("errors: an unknown id says whether it is a user or an item") {
  shopml::recommend::interactions<std::string, int> log;
  log.add("ana", 7);
  log.add("ben", 9);
  CHECK(error_message<shopml::value_error>([&] { (void)log.users().index("zoe"); }) == "[shopml.value] unknown user id 'zoe'");
  CHECK(error_message<shopml::value_error>([&] { (void)log.items().index(8); }) == "[shopml.value] unknown item id '8'");
  CHECK(error_message<shopml::value_error>([&] { (void)log.users().id(5); }) == "[shopml.value] user index 5 is outside 0..1");
  CHECK(error_message<shopml::value_error>([&] { (void)shopml::recommend::id_map<int>().index(3); }) ==
        "[shopml.value] unknown id '3'");
}

TEST_CASE("errors: parse errors name the file in quotes and the line") {
  const fs::path vocab = fs::temp_directory_path() / "shopml_test_errors_vocab.txt";
  std::ofstream(vocab, std::ios::binary) << "[PAD]\n[UNK]\nbad\xFF\n";
  CHECK(error_message<shopml::value_error>([&] { tk::tokenizer::from_bert_vocab(vocab); }) ==
        "[shopml.value] '" + vocab.string() + "' line 3 is not valid UTF-8 at byte 3 (0xFF)");
  fs::remove(vocab);
  CHECK(error_message<shopml::parse_error>([] { shopml::io::parse_csv("a,b\n1\n", "reviews.csv"); }) ==
        "[shopml.parse] 'reviews.csv' line 2: a record with 1 field, the header has 2");
}
