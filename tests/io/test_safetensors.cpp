#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "shopml/io/safetensors.hpp"

namespace io = shopml::io;

namespace {

// A file whose header is `json` (padded as given) followed by `data_bytes` zero bytes.
std::vector<std::byte> raw_file(const std::string& json, std::size_t data_bytes) {
  std::vector<std::byte> out(8 + json.size() + data_bytes);
  const std::uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, json.data(), json.size());
  return out;
}

std::string parse_failure(const std::vector<std::byte>& bytes) {
  try {
    io::safetensors_file::from_bytes(bytes, "bad.safetensors");
  } catch (const shopml::parse_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("safetensors: write then read back every dtype, zero-copy F32, metadata") {
  const std::vector<float> w{1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
  const std::vector<std::int64_t> ids{0, -1, std::numeric_limits<std::int64_t>::max()};
  const std::vector<double> d{0.1, -7.0};
  const std::vector<std::uint8_t> flags{1, 0, 1};
  std::vector<std::uint16_t> half, brain;
  for (float v : w) {
    half.push_back(io::f32_to_f16(v));
    brain.push_back(io::f32_to_bf16(v));
  }
  const std::vector<io::tensor_view> tensors{
      io::tensor_view("w", {2, 3}, w),
      io::tensor_view("ids", {3}, ids),
      io::tensor_view("d", {2, 1}, d),
      io::tensor_view("flags", {3}, flags),
      io::tensor_view("half", io::dtype::F16, {6}, std::as_bytes(std::span<const std::uint16_t>(half))),
      io::tensor_view("brain", io::dtype::BF16, {6}, std::as_bytes(std::span<const std::uint16_t>(brain))),
      io::tensor_view("empty", {0, 4}, std::vector<float>{}),
  };
  const auto path = std::filesystem::temp_directory_path() / "shopml_test_roundtrip.safetensors";
  io::save_safetensors(path, tensors, {{"format", "pt"}, {"classes", "neg,pos"}});
  const auto st = io::safetensors_file::open(path);

  CHECK(st.metadata().at("classes") == "neg,pos");
  CHECK(st.keys() == std::vector<std::string>{"brain", "d", "empty", "flags", "half", "ids", "w"});
  CHECK(st.info("w").shape == std::vector<std::size_t>{2, 3});
  const auto f = st.f32("w");
  CHECK(std::vector<float>(f.begin(), f.end()) == w);
  CHECK(st.as_f32("w").borrowed());
  CHECK(st.to_i64("ids") == ids);
  CHECK(st.to_f32("d") == std::vector<float>{0.1f, -7.0f});
  CHECK(st.to_i64("flags") == std::vector<std::int64_t>{1, 0, 1});
  const auto h = st.as_f32("half");
  CHECK_FALSE(h.borrowed());
  CHECK(h.values()[2] == 3.25f);
  CHECK(std::signbit(h.values()[4]));
  CHECK(st.to_f32("brain")[1] == -2.0f);
  CHECK(st.info("empty").numel() == 0);
  CHECK_THROWS_AS(st.f32("ids"), shopml::value_error);
  CHECK_THROWS_AS(st.to_i64("w"), shopml::value_error);
  CHECK_THROWS_WITH_AS(st.info("missing"), doctest::Contains("'missing'"), shopml::parse_error);
  for (const auto& t : st.tensors())  // laid out aligned to element size
    CHECK(t.begin % io::dtype_size(t.dtype) == 0);
  std::filesystem::remove(path);
}

TEST_CASE("safetensors: F16 and BF16 conversion is bit-exact on special values") {
  CHECK(io::f16_to_f32(0x3c00) == 1.0f);
  CHECK(io::f16_to_f32(0xc000) == -2.0f);
  CHECK(io::f16_to_f32(0x0001) == std::ldexp(1.0f, -24));     // smallest subnormal
  CHECK(io::f16_to_f32(0x03ff) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(io::f16_to_f32(0x7bff) == 65504.0f);
  CHECK(std::isinf(io::f16_to_f32(0x7c00)));
  CHECK(std::isnan(io::f16_to_f32(0x7e00)));
  CHECK(io::bf16_to_f32(0x3f80) == 1.0f);
  CHECK(io::f32_to_f16(65520.0f) == 0x7c00);                      // ties to even rounds up to inf
  CHECK(io::f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie to even
  CHECK(io::f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);         // tie to even (zero)
  CHECK(io::f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);
  for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {  // every finite half survives the round trip
    const auto h = static_cast<std::uint16_t>(bits);
    if ((h & 0x7c00) == 0x7c00) continue;
    REQUIRE(io::f32_to_f16(io::f16_to_f32(h)) == h);
    REQUIRE(io::f32_to_bf16(io::bf16_to_f32(h)) == h);
  }
}

TEST_CASE("safetensors: every malformed header is a parse_error naming what is wrong") {
  const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  CHECK_NOTHROW(io::safetensors_file::from_bytes(raw_file(good, 8)));

  CHECK(contains(parse_failure(std::vector<std::byte>(5)), "too short"));
  auto huge = raw_file(good, 8);
  const std::uint64_t past = 1000;
  std::memcpy(huge.data(), &past, 8);
  CHECK(contains(parse_failure(huge), "runs past the end"));
  const std::uint64_t too_big = 1ull << 40;
  std::memcpy(huge.data(), &too_big, 8);
  CHECK(contains(parse_failure(huge), "100 MB"));
  CHECK(contains(parse_failure(raw_file(" " + good, 8)), "start with '{'"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32",)", 8)), "not valid JSON"));
  CHECK(contains(parse_failure(raw_file("{\"a\xff\":1}", 0)), "not valid JSON"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}})", 8)),
                 "tensor 'a': unknown dtype 'F31'"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)),
                 "tensor 'a': shape holds -2"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
                 "tensor 'a': F32 shape [3] needs 12 bytes"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", 8)),
                 "overflows"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 8)),
                 "tensor 'a': data_offsets [8,16] run past"));
  CHECK(
      contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)), "end before they begin"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[2]}})", 8)), "'data_offsets'"));
  CHECK(contains(parse_failure(raw_file(good, 12)), "cover 8 of the 12 bytes"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
                 "tensor 'a' starts at byte 4, leaving a hole"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                        8)),
                 "overlaps"));
  CHECK(contains(parse_failure(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                        R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                        8)),
                 "names 'a' twice"));
  CHECK(contains(parse_failure(raw_file(R"({"__metadata__":{"k":1}})", 0)), "value of 'k' is not a string"));
  CHECK(contains(parse_failure(raw_file("[1]", 0)), "start with '{'"));
  CHECK(contains(parse_failure(raw_file("{} x", 0)), "not valid JSON"));
}

TEST_CASE("safetensors: writer rejects inconsistent tensors") {
  const std::vector<float> v(3);
  CHECK_THROWS_AS(io::tensor_view("x", {2, 2}, v), shopml::shape_error);
  const std::vector<io::tensor_view> twice{io::tensor_view("x", {3}, v), io::tensor_view("x", {3}, v)};
  CHECK_THROWS_AS(io::serialize_safetensors(twice), shopml::value_error);
  CHECK_THROWS_AS(io::save_safetensors("/nonexistent-dir/x.safetensors", {io::tensor_view("x", {3}, v)}), shopml::io_error);
}

TEST_CASE("safetensors: the real all-MiniLM-L6-v2 weights open zero-copy") {
  const std::filesystem::path path = std::filesystem::path(SHOPML_MODEL_DIR) / "model.safetensors";
  const auto st = io::safetensors_file::open(path);
  CHECK(st.metadata().at("format") == "pt");
  CHECK(st.info("embeddings.word_embeddings.weight").shape == std::vector<std::size_t>{30522, 384});
  CHECK(st.as_f32("encoder.layer.5.output.LayerNorm.weight").borrowed());
  const auto positions = st.to_i64("embeddings.position_ids");
  REQUIRE(positions.size() == 512);
  CHECK(positions[511] == 511);
  CHECK_THROWS_AS(io::safetensors_file::open(path.parent_path() / "missing.safetensors"), shopml::io_error);
}
