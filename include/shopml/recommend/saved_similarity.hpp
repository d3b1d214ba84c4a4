#pragma once
// The saved form of a neighbour model: one safetensors file holding sparse matrices as
// scipy stores a csr_matrix ("shape" I64[2], "indptr" I64[rows+1], "indices" I32[nnz],
// "data" F64[nnz]) and string metadata ("format" names the model kind, "format_version",
// then the model's parameters). A model with one matrix (item-item) stores it under those
// bare names; one with several (user-user) puts each under its name: "similarity.shape",
// "user_items.indptr", ... Reading validates everything before use: the format, each
// shape, indptr starting at 0 and never decreasing up to nnz, column indices in range and
// strictly increasing within a row, finite values. Failures throw parse_error naming the file.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/recommend/interactions.hpp"
#include "shopml/recommend/similarity.hpp"

namespace shopml::recommend {

inline constexpr const char* saved_format_version = "1";

// Shortest text that parses back to the same double.
inline std::string to_exact_text(double x) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, end);
}

// One matrix of a saved model: its tensors are "<name>.shape", ... ("shape", ... when name is empty).
struct named_matrix {
  std::string name;
  const csr_matrix& matrix;
};

struct saved_similarity {
  std::string source;
  std::map<std::string, std::string> metadata;
  std::vector<csr_matrix> matrices;  // one per name asked for, in that order

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
  // The similarity_options written by options_metadata, validated.
  similarity_options options() const {
    similarity_options options;
    try {
      options.measure = similarity_measure_from_string(text("measure"));
      options.K = static_cast<std::int32_t>(integer("K", 1, std::numeric_limits<std::int32_t>::max()));
      options.K1 = number("K1");
      options.B = number("B");
      options.shrinkage = number("shrinkage");
      options.validate();
    } catch (const value_error& e) {
      throw parse_error(source + ": " + e.what());
    }
    return options;
  }
  // A similarity matrix over n things: n × n, each row keeping at most K neighbours.
  void check_similarity(const csr_matrix& m, std::int64_t n, std::int64_t K, const std::string& what) const {
    if (m.rows() != n || m.cols() != n)
      throw parse_error(source + ": " + what + " is " + std::to_string(m.rows()) + " × " + std::to_string(m.cols()) +
                        ", expected " + std::to_string(n) + " × " + std::to_string(n));
    for (std::int64_t r = 0; r < m.rows(); ++r)
      if (m.outerIndexPtr()[r + 1] - m.outerIndexPtr()[r] > K)
        throw parse_error(source + ": " + what + " row " + std::to_string(r) + " keeps more than K = " +
                          std::to_string(K) + " neighbours");
  }
};

inline std::map<std::string, std::string> options_metadata(const similarity_options& options) {
  return {{"measure", std::string(to_string(options.measure))}, {"K", std::to_string(options.K)},
          {"K1", to_exact_text(options.K1)}, {"B", to_exact_text(options.B)},
          {"shrinkage", to_exact_text(options.shrinkage)}};
}

namespace detail {
inline std::string tensor_name(const std::string& matrix, const char* part) {
  return matrix.empty() ? std::string(part) : matrix + "." + part;
}

// Calls fn(tensors, metadata) with the saved form of the matrices; the views live for the call only.
template <class Fn>
decltype(auto) with_saved_tensors(const std::string& kind, std::span<const named_matrix> matrices,
                                  std::map<std::string, std::string> metadata, Fn&& fn) {
  std::vector<csr_matrix> compressed;
  std::vector<std::vector<std::int64_t>> shapes, indptrs;
  compressed.reserve(matrices.size());  // the views below point into these
  shapes.reserve(matrices.size());
  indptrs.reserve(matrices.size());
  std::vector<io::tensor_view> tensors;
  for (const named_matrix& named : matrices) {
    csr_matrix& c = compressed.emplace_back(named.matrix);
    c.makeCompressed();
    const auto& shape = shapes.emplace_back(std::vector<std::int64_t>{c.rows(), c.cols()});
    const auto& indptr = indptrs.emplace_back(c.outerIndexPtr(), c.outerIndexPtr() + c.rows() + 1);
    const std::span<const std::int32_t> indices(c.innerIndexPtr(), static_cast<std::size_t>(c.nonZeros()));
    const std::span<const double> data(c.valuePtr(), static_cast<std::size_t>(c.nonZeros()));
    tensors.emplace_back(tensor_name(named.name, "shape"), std::vector<std::size_t>{2}, shape);
    tensors.emplace_back(tensor_name(named.name, "indptr"), std::vector<std::size_t>{indptr.size()}, indptr);
    tensors.emplace_back(tensor_name(named.name, "indices"), std::vector<std::size_t>{indices.size()}, indices);
    tensors.emplace_back(tensor_name(named.name, "data"), std::vector<std::size_t>{data.size()}, data);
  }
  metadata["format"] = kind;
  metadata["format_version"] = saved_format_version;
  return fn(std::span<const io::tensor_view>(tensors), metadata);
}

// The CSR matrix stored under `name`, every part checked; fail(why) throws.
template <class Fail>
csr_matrix read_csr(const io::safetensors_file& file, const std::string& name, Fail&& fail) {
  const std::string what = name.empty() ? std::string() : "'" + name + "' ";
  const auto expect = [&](const char* part, io::dtype type) -> const io::tensor_info& {
    const std::string tensor = tensor_name(name, part);
    const io::tensor_info& t = file.info(tensor);
    if (t.dtype != type || t.shape.size() != 1)
      fail("tensor '" + tensor + "' must be a 1-d " + std::string(io::dtype_name(type)) + " tensor");
    return t;
  };
  expect("shape", io::dtype::I64);
  const std::vector<std::int64_t> shape = file.to_i64(tensor_name(name, "shape"));
  if (shape.size() != 2) fail("tensor '" + tensor_name(name, "shape") + "' must hold 2 values");
  constexpr std::int64_t max_dim = std::numeric_limits<std::int32_t>::max() - 1;
  if (shape[0] < 0 || shape[1] < 0 || shape[0] > max_dim || shape[1] > max_dim)
    fail(what + "shape " + std::to_string(shape[0]) + " × " + std::to_string(shape[1]) + " is out of range");
  const auto rows = static_cast<std::int32_t>(shape[0]);
  const auto cols = static_cast<std::int32_t>(shape[1]);

  expect("indptr", io::dtype::I64);
  const std::vector<std::int64_t> indptr = file.to_i64(tensor_name(name, "indptr"));
  const io::tensor_info& indices_info = expect("indices", io::dtype::I32);
  const io::tensor_info& data_info = expect("data", io::dtype::F64);
  const std::size_t nnz = indices_info.numel();
  if (nnz > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) fail(what + "has more than 2^31-1 entries");
  if (data_info.numel() != nnz)
    fail(what + "'indices' has " + std::to_string(nnz) + " entries, 'data' " + std::to_string(data_info.numel()));
  if (indptr.size() != static_cast<std::size_t>(rows) + 1)
    fail(what + "'indptr' has " + std::to_string(indptr.size()) + " entries for " + std::to_string(rows) + " rows");
  if (indptr.front() != 0 || indptr.back() != static_cast<std::int64_t>(nnz))
    fail(what + "'indptr' must run from 0 to nnz = " + std::to_string(nnz));
  for (std::size_t r = 0; r + 1 < indptr.size(); ++r)  // with both ends fixed, this bounds every entry
    if (indptr[r + 1] < indptr[r]) fail(what + "'indptr' decreases at row " + std::to_string(r));

  const auto index_bytes = file.raw(tensor_name(name, "indices"));
  const auto data_bytes = file.raw(tensor_name(name, "data"));
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
      if (c < 0 || c >= cols) fail(what + "row " + std::to_string(r) + ": column " + std::to_string(c) + " is out of range");
      if (p > begin && c <= m.innerIndexPtr()[p - 1])
        fail(what + "row " + std::to_string(r) + ": column indices are not strictly increasing");
      if (!std::isfinite(m.valuePtr()[p])) fail(what + "row " + std::to_string(r) + ": value is not finite");
    }
  }
  m.outerIndexPtr()[rows] = static_cast<std::int32_t>(nnz);
  return m;
}
}  // namespace detail

inline std::vector<std::byte> similarity_bytes(const std::string& kind, std::initializer_list<named_matrix> matrices,
                                               std::map<std::string, std::string> metadata) {
  return detail::with_saved_tensors(kind, std::span(matrices.begin(), matrices.size()), std::move(metadata),
                                    [](auto tensors, const auto& md) { return io::serialize_safetensors(tensors, md); });
}
inline std::vector<std::byte> similarity_bytes(const std::string& kind, const csr_matrix& m,
                                               std::map<std::string, std::string> metadata) {
  return similarity_bytes(kind, {{"", m}}, std::move(metadata));
}

inline void save_similarity(const std::filesystem::path& path, const std::string& kind,
                            std::initializer_list<named_matrix> matrices, std::map<std::string, std::string> metadata) {
  detail::with_saved_tensors(kind, std::span(matrices.begin(), matrices.size()), std::move(metadata),
                             [&](auto tensors, const auto& md) { io::save_safetensors(path, tensors, md); });
}

// Checks the format and reads the matrices stored under `names` (a single "" for the bare names).
inline saved_similarity read_similarity(const io::safetensors_file& file, const std::string& kind,
                                        std::initializer_list<std::string> names = {""}) {
  saved_similarity saved;
  saved.source = "'" + file.source() + "'";
  saved.metadata = file.metadata();
  const auto fail = [&](const std::string& why) { throw parse_error(saved.source + ": " + why); };
  if (saved.text("format") != kind) fail("format is '" + saved.text("format") + "', expected '" + kind + "'");
  if (saved.text("format_version") != saved_format_version)
    fail("format_version '" + saved.text("format_version") + "' is not supported (expected " + saved_format_version + ")");
  for (const std::string& name : names) saved.matrices.push_back(detail::read_csr(file, name, fail));
  return saved;
}

}  // namespace shopml::recommend
