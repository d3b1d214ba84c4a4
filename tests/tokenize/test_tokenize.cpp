// Behaviour outside the golden files: bad input, very long words, threads, loading
// errors, the API around encode (truncation/padding switches, decode, vocabulary).

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "golden_files.hpp"
#include "shopml/tokenize/tokenizer.hpp"

namespace tk = shopml::tokenize;
namespace fs = std::filesystem;

namespace {

const fs::path gpt2_dir = shopml::test::golden::path("tokenize/gpt2");

const tk::tokenizer& bert() {
  static const tk::tokenizer t =
      tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json").no_truncation().no_padding();
  return t;
}
const tk::tokenizer& gpt2() {
  static const tk::tokenizer t = tk::tokenizer::from_gpt2_files(gpt2_dir / "vocab.json", gpt2_dir / "merges.txt");
  return t;
}

template <class Fn>
double seconds(Fn&& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const shopml::error& e) {
    return e.what();
  }
  return "";
}

// A minimal tokenizer.json around a given component.
std::string json_with(const std::string& key, const std::string& component) {
  return R"({"model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[UNK]":0,"a":1}},")" + key + "\":" + component + "}";
}

}  // namespace

TEST_CASE("utf8: invalid input is rejected with its byte offset") {
  CHECK(tk::utf8::find_invalid("abc") == std::string_view::npos);
  CHECK(tk::utf8::find_invalid("ab\xC3") == 2);
  CHECK(tk::utf8::find_invalid("\xED\xA0\x80") == 0);  // an encoded lone surrogate
  CHECK(tk::utf8::find_invalid("a\xC0\xAF") == 1);     // overlong '/'
  CHECK(tk::utf8::find_invalid("\xF4\x90\x80\x80") == 0);
  CHECK(tk::utf8::find_invalid("\xE4\xBD\xA0\xE5\xA5") == 3);
  const std::string e = error_of([] { (void)bert().encode("caf\xC3(ok"); });
  CHECK(e.find("[shopml.value]") == 0);
  CHECK(e.find("byte 3") != std::string::npos);
  CHECK_THROWS_AS((void)gpt2().encode("ok", "\xFF"), shopml::value_error);
}

TEST_CASE("encode: empty text, NUL bytes and only-dropped characters") {
  const auto empty = bert().encode("");
  CHECK(empty.tokens == std::vector<std::string>{"[CLS]", "[SEP]"});
  CHECK(gpt2().encode("").ids.empty());
  const auto nul = bert().encode(std::string("a\0b", 3));
  CHECK(nul.tokens == std::vector<std::string>{"[CLS]", "ab", "[SEP]"});  // clean_text drops NUL
  CHECK(nul.offsets[1] == std::pair<std::size_t, std::size_t>{0, 3});
  CHECK(gpt2().encode(std::string("\0", 1)).tokens == std::vector<std::string>{"\xC4\x80"});  // byte 0 -> U+0100
  CHECK(bert().encode("\xE2\x80\x8B\xE2\x80\x8B").size() == 2);                               // zero-width spaces vanish
}

TEST_CASE("encode: 1 MB single words take linear time") {
  const std::string word(1 << 20, 'a');
  tk::encoding e;
  const double t_bert = seconds([&] { e = bert().encode(word); });
  CHECK(e.tokens == std::vector<std::string>{"[CLS]", "[UNK]", "[SEP]"});  // longer than max_input_chars_per_word
  CHECK(e.offsets[1] == std::pair<std::size_t, std::size_t>{0, word.size()});
  const double t_gpt2 = seconds([&] { e = gpt2().encode(word); });
  std::size_t covered = 0;
  for (const auto& [b, end] : e.offsets) covered += end - b;
  CHECK(covered == word.size());
  std::string cjk;
  for (int i = 0; i < (1 << 20) / 3; ++i) cjk += "\xE4\xB8\xAD";  // one \p{L}+ run of U+4E2D
  const double t_cjk = seconds([&] { e = gpt2().encode(cjk); });
  std::string marks = "a";
  for (int i = 0; i < (1 << 19); ++i) marks += (i % 2) ? "\xCC\x81" : "\xCC\x96";  // combining marks to reorder
  const double t_marks = seconds([&] { e = bert().encode(marks); });
  CHECK(e.tokens == std::vector<std::string>{"[CLS]", "a", "[SEP]"});
  MESSAGE("1 MB: bert " << t_bert << " s, gpt2 " << t_gpt2 << " s, gpt2 CJK " << t_cjk << " s, bert marks " << t_marks << " s");
  // Quadratic work on 1 MB would take minutes; sanitizer builds are ~10x slower.
  CHECK(t_bert + t_gpt2 + t_cjk + t_marks < 60.0);
}

TEST_CASE("encode_batch: same as encode, whatever the thread count") {
  std::vector<std::string> texts;
  for (int i = 0; i < 300; ++i)
    texts.push_back("Review " + std::to_string(i) + ": the fabric is soft 质量很好 😀 don't " + std::string(i % 7, '!'));
  std::vector<tk::encoding> one;
  for (const auto& t : texts) one.push_back(gpt2().encode(t));
  for (int threads : {1, 2, 4}) {
    const auto batch = gpt2().encode_batch(texts, true, threads);
    REQUIRE(batch.size() == texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) CHECK(batch[i].ids == one[i].ids);
  }
}

TEST_CASE("encode_batch: an error in one text is reported, not lost") {
  const std::vector<std::string> texts{"fine", "bad \xFF", "fine"};
  CHECK_THROWS_AS((void)bert().encode_batch(texts, true, 2), shopml::value_error);
}

TEST_CASE("tokenizer.json settings: truncation and padding are kept and can be switched") {
  auto t = tk::tokenizer::from_file(fs::path(SHOPML_MODEL_DIR) / "tokenizer.json");
  REQUIRE(t.truncation().has_value());
  CHECK(t.truncation()->max_length == 128);
  CHECK(t.encode("short").size() == 128);  // Fixed(128) padding, as HF
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "word ";
  const auto e = t.encode(long_text);
  CHECK(e.size() == 128);
  CHECK(e.ids.back() == 102);
  CHECK(e.overflowing.size() == 2);
  t.no_padding();
  CHECK(t.encode("short").size() == 3);
  CHECK_THROWS_AS(t.enable_truncation(10, 8), shopml::value_error);  // stride must leave room
}

TEST_CASE("vocabulary and decode") {
  CHECK(bert().vocab_size() == 30522);
  CHECK(bert().token_to_id("[CLS]") == 101u);
  CHECK(bert().token_to_id("##ing") == 2075u);
  CHECK(!bert().token_to_id("not-a-token").has_value());
  CHECK(bert().id_to_token(7592) == "hello");
  const auto e = bert().encode("Hello, unaffable world!");
  CHECK(bert().decode(e.ids) == "hello, unaffable world!");
  CHECK(bert().decode(e.ids, false) == "[CLS] hello, unaffable world! [SEP]");
  CHECK(gpt2().vocab_size() == 50257);
  const std::string text = "Hello world, 你好 😀";
  CHECK(gpt2().decode(gpt2().encode(text).ids) == text);
  const std::vector<std::uint32_t> half{gpt2().encode("😀").ids[0]};
  CHECK(gpt2().decode(half) == "\xEF\xBF\xBD");  // an incomplete UTF-8 byte sequence decodes lossily
}

TEST_CASE("loading errors name the file and the component") {
  CHECK(error_of([] { (void)tk::tokenizer::from_file("/nonexistent/tokenizer.json"); }) ==
        "[shopml.io] cannot open '/nonexistent/tokenizer.json': No such file or directory");
  CHECK(error_of([] {
          (void)tk::tokenizer::from_json("{not json");
        }).starts_with("[shopml.parse] 'tokenizer.json': invalid JSON: [json.exception.parse_error"));
  {  // GPT-2's vocab.json goes through the same reader: the same wording, naming the file.
    const std::filesystem::path vocab = std::filesystem::temp_directory_path() / "shopml_test_bad_vocab.json";
    std::ofstream(vocab) << R"({"a": 0,)";
    const std::string got = error_of([&] { (void)tk::tokenizer::from_gpt2_files(vocab, vocab); });
    std::filesystem::remove(vocab);
    CHECK(got.starts_with("[shopml.parse] '" + vocab.string() + "': invalid JSON: [json.exception.parse_error"));
  }
  CHECK(error_of([] {
          (void)tk::tokenizer::from_json(json_with("normalizer", R"({"type":"NFKC"})"));
        }).find("unsupported normalizer type 'NFKC'") != std::string::npos);
  CHECK(error_of([] {
          (void)tk::tokenizer::from_json(json_with("pre_tokenizer", R"({"type":"Metaspace"})"));
        }).find("unsupported pre_tokenizer type 'Metaspace'") != std::string::npos);
  CHECK(error_of([] {
          (void)tk::tokenizer::from_json(
              json_with("pre_tokenizer", R"({"type":"Split","pattern":{"Regex":"\\d+"},"behavior":"Isolated"})"));
        }).find("not supported") != std::string::npos);
  CHECK(error_of([] {
          (void)tk::tokenizer::from_json(json_with("decoder", R"({"type":"Metaspace"})"));
        }).find("unsupported decoder type 'Metaspace'") != std::string::npos);
  CHECK(error_of([] {
          (void)tk::tokenizer::from_json(R"({"model":{"type":"Unigram","vocab":[]}})");
        }).find("unsupported model type 'Unigram'") != std::string::npos);
  CHECK(error_of([] {
          (void)tk::tokenizer::from_json(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}})");
        }).find("BPE merge #0 'a b'") != std::string::npos);
  CHECK(
      error_of([] {
        (void)tk::tokenizer::from_json(
            R"({"model":{"type":"BPE","vocab":{"a":0,"<0x61>":1},"merges":[],"byte_fallback":true,"continuing_subword_prefix":"##"}})");
      }).find("byte_fallback together with continuing_subword_prefix") != std::string::npos);
  CHECK(error_of([] {
          (void)tk::tokenizer::from_json(R"({"model":{"type":"WordPiece","vocab":{"a":0}}})");
        }).find("unk_token '[UNK]'") != std::string::npos);
  CHECK_THROWS_AS((void)tk::tokenizer::from_bert_vocab("/nonexistent/vocab.txt"), shopml::io_error);
}

TEST_CASE("added tokens: lstrip, rstrip and single_word") {
  const std::string json = R"({
    "added_tokens": [
      {"id": 5, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": true, "normalized": false, "special": true},
      {"id": 6, "content": "xx", "single_word": true, "lstrip": false, "rstrip": false, "normalized": true, "special": false}],
    "normalizer": {"type": "Lowercase"},
    "pre_tokenizer": {"type": "WhitespaceSplit"},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "b": 2, "##x": 3, "x": 4, "<mask>": 5, "xx": 6}}})";
  const auto t = tk::tokenizer::from_json(json);
  // Expected values from HF tokenizers 0.23.3 on the same tokenizer.json.
  const auto e = t.encode("a  <mask>  b XX axx xx");
  CHECK(e.ids == std::vector<std::uint32_t>{1, 5, 2, 6, 1, 3, 3, 6});  // "xx" inside "axx" is not a single word
  CHECK(e.offsets[1] == std::pair<std::size_t, std::size_t>{1, 11});   // the stripped spaces belong to the token
  CHECK(e.offsets[3] == std::pair<std::size_t, std::size_t>{13, 15});
  CHECK(e.special_tokens_mask == std::vector<std::uint32_t>(8, 0));
  CHECK(t.decode(e.ids) == "a b xx a ##x ##x xx");
  // single_word boundaries are HF's regex \w (Alphabetic, marks, Nd, Pc, Join_Control), not
  // letters and numbers: '_' and U+200D are word chars, U+00B2 (No) is not.
  CHECK(t.encode("_xx \xC2\xB2xx").ids == std::vector<std::uint32_t>{0, 0, 6});
  CHECK(t.encode("xx_ xx\xC2\xB2 xx\xE2\x80\x8D").ids == std::vector<std::uint32_t>{0, 6, 0, 0});
}
