#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "error_message.hpp"
#include "shopml/io/embeddings.hpp"

namespace io = shopml::io;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("embeddings: save then load in one call each, bit for bit, with metadata") {
  io::embeddings_matrix X(3, 4);
  X << 0.5f, -1.0f, 1e-30f, 3.25f,  //
      -0.0f, 2.0f, 7.0f, -8.5f,     //
      1.0f / 3.0f, 0.1f, 0.2f, 0.3f;
  const fs::path path = fs::temp_directory_path() / "shopml_test_embeddings.safetensors";
  io::save_embeddings(path, X, {{"model", "all-MiniLM-L6-v2"}});
  const io::embeddings_matrix back = io::load_embeddings(path);
  REQUIRE(back.rows() == 3);
  REQUIRE(back.cols() == 4);
  CHECK(std::memcmp(back.data(), X.data(), sizeof(float) * 12) == 0);

  // What Python sees: one F32 tensor "embeddings" [3, 4], and the metadata.
  const auto st = io::safetensors_file::open(path);
  CHECK(st.keys() == std::vector<std::string>{"embeddings"});
  CHECK(st.info("embeddings").dtype == io::dtype::F32);
  CHECK(st.info("embeddings").shape == std::vector<std::size_t>{3, 4});
  CHECK(st.metadata().at("model") == "all-MiniLM-L6-v2");

  // A column-major matrix, a block of rows and columns, an empty matrix, another name.
  const Eigen::MatrixXf col_major = X;
  io::save_embeddings(path, col_major);
  CHECK(io::load_embeddings(path) == X);
  io::save_embeddings(path, X.block(1, 1, 2, 2));
  CHECK(io::load_embeddings(path) == io::embeddings_matrix(X.block(1, 1, 2, 2)));
  io::save_embeddings(path, io::embeddings_matrix(0, 384));
  CHECK(io::load_embeddings(path).rows() == 0);
  CHECK(io::load_embeddings(path).cols() == 384);
  io::save_embeddings(path, X, {}, "titles");
  CHECK(io::load_embeddings(path, "titles") == X);
  fs::remove(path);
}

TEST_CASE("embeddings: F16 and F64 files (numpy float16 / float64) load as float") {
  const std::vector<std::uint16_t> half{io::f32_to_f16(1.5f), io::f32_to_f16(-2.0f)};
  const std::vector<double> wide{0.25, -4.0, 8.0};
  const fs::path path = fs::temp_directory_path() / "shopml_test_embeddings_types.safetensors";
  io::save_safetensors(
      path, {io::tensor_view("embeddings", io::dtype::F16, {2, 1}, std::as_bytes(std::span<const std::uint16_t>(half))),
             io::tensor_view("wide", {1, 3}, wide)});
  CHECK(io::load_embeddings(path) == (io::embeddings_matrix(2, 1) << 1.5f, -2.0f).finished());
  CHECK(io::load_embeddings(path, "wide") == (io::embeddings_matrix(1, 3) << 0.25f, -4.0f, 8.0f).finished());
  fs::remove(path);
}

TEST_CASE("embeddings: errors name the file and what is wrong") {
  const fs::path path = fs::temp_directory_path() / "shopml_test_embeddings_bad.safetensors";
  io::save_safetensors(path, {io::tensor_view("coef", {6}, std::vector<float>(6, 1.0f)),
                              io::tensor_view("intercept", {1}, std::vector<float>{0.0f})});
  CHECK(error_message<shopml::parse_error>([&] { io::load_embeddings(path); }) ==
        "[shopml.parse] '" + path.string() + "': no tensor named 'embeddings'; the file has 'coef', 'intercept'");
  CHECK(error_message<shopml::parse_error>([&] { io::load_embeddings(path, "coef"); }) ==
        "[shopml.parse] '" + path.string() + "': tensor 'coef' has shape [6], not [rows, dimension]");
  fs::remove(path);
  const fs::path missing = fs::temp_directory_path() / "shopml_no_such_dir" / "e.safetensors";
  CHECK(error_message<shopml::io_error>([&] { io::load_embeddings(missing); }) ==
        "[shopml.io] cannot open '" + missing.string() + "': No such file or directory");
  CHECK(contains(error_message<shopml::io_error>([&] { io::save_embeddings(missing, io::embeddings_matrix(1, 1)); }),
                 missing.parent_path().string()));
}
