#pragma once
// The one loader of the committed golden files (tests/golden/, written by scripts/golden/*.py)
// for every test: a path relative to tests/golden (an absolute path is taken as it is), read
// as text, JSON, a raw float32 array or a safetensors file, through the library's own readers,
// so that a missing or broken golden fails with shopml's io_error / parse_error naming it.
// The per-component headers (tests/<component>/golden*.hpp) build their formats on these.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/io/open_file.hpp"
#include "shopml/io/safetensors.hpp"

namespace shopml::test::golden {

// tests/golden/<relative>.
inline std::filesystem::path path(const std::filesystem::path& relative = {}) {
  return std::filesystem::path(SHOPML_GOLDEN_DIR) / relative;
}

inline std::string read_text(const std::filesystem::path& file) { return shopml::io::read_file(path(file)); }

inline nlohmann::json read_json(const std::filesystem::path& file) { return shopml::io::read_json(path(file)); }

// A file of raw little-endian float32 values (numpy's tofile), `row` values a row.
inline std::vector<float> read_f32(const std::filesystem::path& file, std::size_t row = 1) {
  const std::string bytes = read_text(file);
  if (bytes.size() % (sizeof(float) * row) != 0)
    throw shopml::shape_error("'" + path(file).string() + "' does not hold rows of " + std::to_string(row) + " floats");
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

inline shopml::io::safetensors_file open(const std::filesystem::path& file) {
  return shopml::io::safetensors_file::open(path(file));
}

// An F64 tensor's values, bit for bit.
inline std::vector<double> f64(const shopml::io::safetensors_file& file, const std::string& name) {
  const auto& info = file.info(name);
  if (info.dtype != shopml::io::dtype::F64) throw shopml::parse_error("'" + file.source() + "': " + name + " is not F64");
  std::vector<double> out(info.numel());
  std::memcpy(out.data(), file.raw(name).data(), out.size() * sizeof(double));
  return out;
}

}  // namespace shopml::test::golden
