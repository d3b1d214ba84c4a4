// io/safetensors_metadata.hpp: the one writer and reader of typed metadata values that the
// saved heads and the saved recommenders share.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "error_message.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/io/safetensors_metadata.hpp"

namespace io = shopml::io;

namespace {

io::metadata_reader reader(std::map<std::string, std::string> metadata) { return {std::move(metadata), "'m.st': "}; }

}  // namespace

TEST_CASE("safetensors metadata: every double but NaN round-trips bit for bit, ±inf included") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> values{0.0,
                                   -0.0,
                                   1.0,
                                   0.1,
                                   1.0 / 3.0,
                                   -2.5e-300,
                                   std::numeric_limits<double>::denorm_min(),
                                   std::numeric_limits<double>::max(),
                                   std::numeric_limits<double>::lowest(),
                                   inf,
                                   -inf};
  for (const double x : values) {
    CAPTURE(x);
    io::metadata_writer out;
    out.number("x", x);
    // Through a real file: the strings survive the JSON header unchanged.
    const auto bytes = io::serialize_safetensors(std::span<const io::tensor_view>(), out.entries());
    const auto file = io::safetensors_file::from_bytes(bytes, "m.st");
    const double back = io::metadata_reader(file.metadata(), "").number("x");
    CHECK(std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(x));
  }
  CHECK(io::metadata_writer().number("C", inf).entries().at("C") == "inf");
  CHECK(io::metadata_writer().number("C", -inf).entries().at("C") == "-inf");
  CHECK(io::metadata_writer().number("C", 0.1).entries().at("C") == "0.1");  // shortest form
  CHECK(reader({{"C", "infinity"}}).number("C") == inf);                     // std::from_chars' spellings
  CHECK(reader({{"C", "-INF"}}).number("C") == -inf);
}

TEST_CASE("safetensors metadata: NaN is refused both ways, naming the key") {
  CHECK(error_message<shopml::value_error>([] { io::metadata_writer().number("tol", std::nan("")); }) ==
        "[shopml.value] metadata 'tol' is NaN, which a saved file cannot hold");
  CHECK(error_message<shopml::parse_error>([] {
          reader({{"tol", "nan"}}).number("tol");
        }) == "[shopml.parse] 'm.st': metadata 'tol' = 'nan' is NaN, which a saved file cannot hold");
  CHECK(error_message<shopml::parse_error>([] {
          reader({{"tol", "-nan(1)"}}).number("tol");
        }).find("is NaN") != std::string::npos);
}

TEST_CASE("safetensors metadata: malformed and missing values are parse errors naming file and key") {
  CHECK(error_message<shopml::parse_error>([] { reader({}).text("K"); }) == "[shopml.parse] 'm.st': metadata has no 'K'");
  CHECK(error_message<shopml::parse_error>([] {
          reader({{"K1", "1.5x"}}).number("K1");
        }) == "[shopml.parse] 'm.st': metadata 'K1' = '1.5x' is not a number");
  CHECK(error_message<shopml::parse_error>([] {
          reader({{"K1", "+1"}}).number("K1");
        }).find("is not a number") != std::string::npos);
  CHECK(error_message<shopml::parse_error>([] {
          reader({{"K1", ""}}).number("K1");
        }).find("is not a number") != std::string::npos);
  CHECK(error_message<shopml::parse_error>([] {
          reader({{"K", "0"}}).integer("K", 1, 10);
        }) == "[shopml.parse] 'm.st': metadata 'K' = '0' is not an integer in [1, 10]");
  CHECK(error_message<shopml::parse_error>([] {
          reader({{"K", "2.0"}}).integer("K", 1, 10);
        }).find("not an integer") != std::string::npos);
  CHECK(error_message<shopml::parse_error>([] {
          reader({{"b", "True"}}).boolean("b");
        }) == "[shopml.parse] 'm.st': metadata 'b' = 'True' is not true/false");

  io::metadata_writer out;
  out.text("s", "x y").integer("n", -7).boolean("t", true).boolean("f", false);
  const auto in = reader(std::move(out).entries());
  CHECK(in.text("s") == "x y");
  CHECK(in.integer("n", -10, 10) == -7);
  CHECK(in.boolean("t"));
  CHECK(!in.boolean("f"));
  CHECK(in.contains("s"));
  CHECK(!in.contains("missing"));
}
