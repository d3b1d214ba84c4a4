// io/json_file.hpp: the one "read a JSON file" of the library and its error wording.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "error_message.hpp"
#include "shopml/io/json_file.hpp"

namespace io = shopml::io;
namespace fs = std::filesystem;

TEST_CASE("read_json: a file that is not JSON is a parse_error naming the file, then where and why") {
  const fs::path path = fs::temp_directory_path() / "shopml_test_json_file_bad.json";
  std::ofstream(path) << "{\"hidden_size\": 4,\n \"layers\": }";
  const std::string got = error_message<shopml::parse_error>([&] { io::read_json(path); });
  fs::remove(path);
  CAPTURE(got);
  CHECK(got.starts_with("[shopml.parse] '" + path.string() +
                        "': invalid JSON: [json.exception.parse_error.101] parse error at line 2, column 12"));
  CHECK(error_message<shopml::parse_error>([] {
          io::parse_json("[1, 2", "inline.json");
        }).starts_with("[shopml.parse] 'inline.json': invalid JSON: [json.exception.parse_error.101]"));
  CHECK(error_message<shopml::parse_error>([] {
          io::parse_json("", "empty.json");
        }).starts_with("[shopml.parse] 'empty.json': invalid JSON: "));
  // A file that cannot be read is an io_error, not a parse_error.
  CHECK(error_message<shopml::io_error>([] { io::read_json("/nonexistent/shopml/config.json"); }) ==
        "[shopml.io] cannot open '/nonexistent/shopml/config.json': No such file or directory");
}

TEST_CASE("read_json: valid JSON round-trips through write_json") {
  const fs::path path = fs::temp_directory_path() / "shopml_test_json_file_good.json";
  const nlohmann::json value = {{"hidden_size", 384}, {"architectures", {"BertModel"}}, {"layer_norm_eps", 1e-12}};
  io::write_json(path, value);
  CHECK(io::read_json(path) == value);
  CHECK(io::parse_json(R"({"a": [1, 2.5, "x", null]})", "inline") == nlohmann::json::parse(R"({"a": [1, 2.5, "x", null]})"));
  fs::remove(path);
}
