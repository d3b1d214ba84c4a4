// libFuzzer target for the safetensors reader: any byte string either parses into tensors
// whose ranges lie inside the buffer, or throws shopml::parse_error / value_error; never
// a crash, a hang or an out-of-bounds read.
//
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude fuzz/safetensors.cpp -o build/fuzz_safetensors
//   ./build/fuzz_safetensors -max_total_time=60 -max_len=4096 fuzz/corpus/safetensors

#include "shopml/io/safetensors.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto file = shopml::io::safetensors_file::from_bytes(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), "fuzz");
    for (const auto& t : file.tensors()) {
      const auto raw = file.raw(t.name);
      volatile std::byte sink{};
      for (std::byte b : raw) sink = sink ^ b;  // touch every byte the header promised
      try {
        const auto values = file.as_f32(t.name);
        volatile float first = values.size() ? values.values()[0] : 0.0f;
        (void)first;
      } catch (const shopml::value_error&) {  // a dtype that has no float32 reading
      }
    }
  } catch (const shopml::parse_error&) {
  }
  return 0;
}
