// libFuzzer target: parse arbitrary bytes as tokenizer.json; what loads must then
// encode and decode without crashing. Only shopml::error may escape the loader.
//
// Build: clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude fuzz/tokenizer_json.cpp -o tokenizer_json_fuzz
// Run:   ./tokenizer_json_fuzz -max_len=8192 fuzz/corpus/tokenizer_json

#include <cstdint>
#include <string>
#include <string_view>

#include "shopml/tokenize/tokenizer.hpp"

namespace tk = shopml::tokenize;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const tk::tokenizer t = tk::tokenizer::from_json(text);
    for (const std::string_view s : {"Hello, World! 你好 don't  😀", "", " a\tb\n", "[CLS] <s> </s> ##"}) {
      try {
        const auto e = t.encode(s);
        (void)t.decode(e.ids);
        (void)t.encode(s, s);
      } catch (const shopml::value_error&) {
      }
    }
    (void)t.vocab_size();
  } catch (const shopml::error&) {
  }
  return 0;
}
