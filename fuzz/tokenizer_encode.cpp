// libFuzzer target: encode arbitrary bytes with the BERT (WordPiece) and GPT-2
// (byte-level BPE) tokenizers, single or paired, with truncation/padding, and check
// the invariants of the result. Invalid UTF-8 must throw shopml::value_error; any
// other exception, crash, leak or sanitizer report is a bug.
//
// Build: clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude fuzz/tokenizer_encode.cpp -o
// tokenizer_encode_fuzz Run:   ./tokenizer_encode_fuzz -max_len=4096 fuzz/corpus/tokenizer_encode Data:  GPT-2 files from
// tests/golden/tokenize/gpt2, BERT vocab from ../shared/data/vocab
//        (override the repository root with SHOPML_REPO_DIR).

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "shopml/tokenize/tokenizer.hpp"

namespace tk = shopml::tokenize;
namespace fs = std::filesystem;

namespace {

fs::path repo() {
  if (const char* r = std::getenv("SHOPML_REPO_DIR")) return r;
  return fs::path(__FILE__).parent_path().parent_path();
}

struct tokenizers {
  tk::tokenizer bert = tk::tokenizer::from_bert_vocab(repo() / "../shared/data/vocab/bert-base-chinese-vocab.txt");
  tk::tokenizer gpt2 = tk::tokenizer::from_gpt2_files(repo() / "tests/golden/tokenize/gpt2/vocab.json",
                                                      repo() / "tests/golden/tokenize/gpt2/merges.txt");
};

void check(const tk::encoding& e, std::size_t len_a, std::size_t len_b) {
  const std::size_t n = e.ids.size();
  if (e.type_ids.size() != n || e.tokens.size() != n || e.offsets.size() != n || e.char_offsets.size() != n ||
      e.word_ids.size() != n || e.attention_mask.size() != n || e.special_tokens_mask.size() != n)
    std::abort();
  for (std::size_t i = 0; i < n; ++i) {
    const auto [b, end] = e.offsets[i];
    if (b > end || end > std::max(len_a, len_b)) std::abort();
    if (e.char_offsets[i].first > e.char_offsets[i].second || e.char_offsets[i].second > end) std::abort();
  }
  for (const auto& o : e.overflowing) check(o, len_a, len_b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tokenizers* t = new tokenizers();  // built once, never freed (process lifetime)
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  tk::tokenizer tok = (mode & 1) ? t->gpt2 : t->bert;
  if (mode & 2)
    tok.enable_truncation(8 + (mode >> 4), (mode >> 6),
                          (mode & 4) ? tk::truncation_strategy::longest_first : tk::truncation_strategy::only_second,
                          (mode & 8) ? tk::truncation_direction::left : tk::truncation_direction::right);
  if (mode & 4) tok.enable_padding(std::nullopt, (mode & 8) ? tk::padding_direction::left : tk::padding_direction::right, 8);
  try {
    const auto split = rest.find('\t');
    if (split != std::string_view::npos) {
      const auto a = rest.substr(0, split), b = rest.substr(split + 1);
      check(tok.encode(a, b), a.size(), b.size());
    } else {
      const auto e = tok.encode(rest);
      check(e, rest.size(), 0);
      (void)tok.decode(e.ids);
      (void)tok.decode(e.ids, false);
    }
  } catch (const shopml::value_error&) {
    // invalid UTF-8, or a truncation the texts cannot satisfy
  }
  return 0;
}
