#pragma once
// The saved form of a neighbour model: one safetensors file holding a sparse matrix as
// scipy stores a csr_matrix ("shape" I64[2], "indptr" I64[rows+1], "indices" I32[nnz],
// "data" F64[nnz]) and string metadata ("format" names the model kind, "format_version",
// then the model's parameters). Reading validates everything before use: the format, the
// shape, indptr starting at 0 and never decreasing up to nnz, column indices in range and
// strictly increasing within a row, finite scores. Failures throw parse_error naming the file.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/recommend/interactions.hpp"

namespace shopml::recommend {

inline constexpr const char* saved_format_version = "1";

// Shortest text that parses back to the same double.
inline std::string to_exact_text(double x) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, end);
}

struct saved_similarity {
  std::string source;
  std::map<std::string, std::string> metadata;
  csr_matrix matrix;

  const std::string& text(const std::string& key) const {
    const auto it = metadata.find(key);
    if (it == metadata.end()) throw parse_error(source + ": metadata has no '" + key + "'");
    return it->second;
  }
  double number(const std::string& key) const {
    const std::string& t = text(key);
    double x = 0.0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
    if (ec != std::errc() || end != t.data() + t.size() || !std::isfinite(x))
      throw parse_error(source + ": metadata '" + key + "' = '" + t + "' is not a finite number");
    return x;
  }
  std::int64_t integer(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    const std::string& t = text(key);
    std::int64_t x = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
    if (ec != std::errc() || end != t.data() + t.size() || x < lo || x > hi)
      throw parse_error(source + ": metadata '" + key + "' = '" + t + "' is not an integer in " + std::to_string(lo) +
                        ".." + std::to_string(hi));
    return x;
  }
  void check_row_lengths(std::int64_t max_length) const {
    for (std::int64_t r = 0; r < matrix.rows(); ++r)
      if (matrix.outerIndexPtr()[r + 1] - matrix.outerIndexPtr()[r] > max_length)
        throw parse_error(source + ": row " + std::to_string(r) + " keeps more than K = " + std::to_string(max_length) +
                          " neighbours");
  }
};

namespace detail {
// Calls fn(tensors, metadata) with the saved form of m; the views live for the call only.
template <class Fn>
decltype(auto) with_saved_tensors(const std::string& kind, const csr_matrix& m, std::map<std::string, std::string> metadata,
                                  Fn&& fn) {
  csr_matrix c = m;
  c.makeCompressed();
  const std::vector<std::int64_t> shape{c.rows(), c.cols()};
  const std::vector<std::int64_t> indptr(c.outerIndexPtr(), c.outerIndexPtr() + c.rows() + 1);
  const std::span<const std::int32_t> indices(c.innerIndexPtr(), static_cast<std::size_t>(c.nonZeros()));
  const std::span<const double> data(c.valuePtr(), static_cast<std::size_t>(c.nonZeros()));
  metadata["format"] = kind;
  metadata["format_version"] = saved_format_version;
  const io::tensor_view tensors[] = {
      io::tensor_view("shape", {2}, shape),
      io::tensor_view("indptr", {indptr.size()}, indptr),
      io::tensor_view("indices", {indices.size()}, indices),
      io::tensor_view("data", {data.size()}, data),
  };
  return fn(std::span<const io::tensor_view>(tensors), metadata);
}
}  // namespace detail

inline std::vector<std::byte> similarity_bytes(const std::string& kind, const csr_matrix& m,
                                               std::map<std::string, std::string> metadata) {
  return detail::with_saved_tensors(kind, m, std::move(metadata), [](auto tensors, const auto& md) {
    return io::serialize_safetensors(tensors, md);
  });
}

inline void save_similarity(const std::filesystem::path& path, const std::string& kind, const csr_matrix& m,
                            std::map<std::string, std::string> metadata) {
  detail::with_saved_tensors(kind, m, std::move(metadata), [&](auto tensors, const auto& md) {
    io::save_safetensors(path, tensors, md);
  });
}

inline saved_similarity read_similarity(const io::safetensors_file& file, const std::string& kind) {
  saved_similarity saved;
  saved.source = "'" + file.source() + "'";
  saved.metadata = file.metadata();
  const auto fail = [&](const std::string& why) { throw parse_error(saved.source + ": " + why); };
  if (saved.text("format") != kind) fail("format is '" + saved.text("format") + "', expected '" + kind + "'");
  if (saved.text("format_version") != saved_format_version)
    fail("format_version '" + saved.text("format_version") + "' is not supported (expected " + saved_format_version + ")");

  const auto expect = [&](const char* name, io::dtype type) -> const io::tensor_info& {
    const io::tensor_info& t = file.info(name);
    if (t.dtype != type || t.shape.size() != 1)
      fail(std::string("tensor '") + name + "' must be a 1-d " + std::string(io::dtype_name(type)) + " tensor");
    return t;
  };
  expect("shape", io::dtype::I64);
  const std::vector<std::int64_t> shape = file.to_i64("shape");
  if (shape.size() != 2) fail("tensor 'shape' must hold 2 values");
  constexpr std::int64_t max_dim = std::numeric_limits<std::int32_t>::max() - 1;
  if (shape[0] < 0 || shape[1] < 0 || shape[0] > max_dim || shape[1] > max_dim)
    fail("shape " + std::to_string(shape[0]) + " × " + std::to_string(shape[1]) + " is out of range");
  const auto rows = static_cast<std::int32_t>(shape[0]);
  const auto cols = static_cast<std::int32_t>(shape[1]);

  expect("indptr", io::dtype::I64);
  const std::vector<std::int64_t> indptr = file.to_i64("indptr");
  const io::tensor_info& indices_info = expect("indices", io::dtype::I32);
  const io::tensor_info& data_info = expect("data", io::dtype::F64);
  const std::size_t nnz = indices_info.numel();
  if (nnz > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) fail("more than 2^31-1 entries");
  if (data_info.numel() != nnz) fail("'indices' has " + std::to_string(nnz) + " entries, 'data' " + std::to_string(data_info.numel()));
  if (indptr.size() != static_cast<std::size_t>(rows) + 1)
    fail("'indptr' has " + std::to_string(indptr.size()) + " entries for " + std::to_string(rows) + " rows");
  if (indptr.front() != 0 || indptr.back() != static_cast<std::int64_t>(nnz))
    fail("'indptr' must run from 0 to nnz = " + std::to_string(nnz));
  for (std::size_t r = 0; r + 1 < indptr.size(); ++r)  // with both ends fixed, this bounds every entry
    if (indptr[r + 1] < indptr[r]) fail("'indptr' decreases at row " + std::to_string(r));

  const auto index_bytes = file.raw("indices");
  const auto data_bytes = file.raw("data");
  csr_matrix m(rows, cols);
  m.resizeNonZeros(static_cast<Eigen::Index>(nnz));
  if (nnz > 0) {
    std::memcpy(m.innerIndexPtr(), index_bytes.data(), nnz * sizeof(std::int32_t));
    std::memcpy(m.valuePtr(), data_bytes.data(), nnz * sizeof(double));
  }
  for (std::int32_t r = 0; r < rows; ++r) {
    const std::int64_t begin = indptr[static_cast<std::size_t>(r)], end = indptr[static_cast<std::size_t>(r) + 1];
    m.outerIndexPtr()[r] = static_cast<std::int32_t>(begin);
    for (std::int64_t p = begin; p < end; ++p) {
      const std::int32_t c = m.innerIndexPtr()[p];
      if (c < 0 || c >= cols) fail("row " + std::to_string(r) + ": column " + std::to_string(c) + " is out of range");
      if (p > begin && c <= m.innerIndexPtr()[p - 1])
        fail("row " + std::to_string(r) + ": column indices are not strictly increasing");
      if (!std::isfinite(m.valuePtr()[p])) fail("row " + std::to_string(r) + ": score is not finite");
    }
  }
  m.outerIndexPtr()[rows] = static_cast<std::int32_t>(nnz);
  saved.matrix = std::move(m);
  return saved;
}

}  // namespace shopml::recommend
