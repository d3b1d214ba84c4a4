#pragma once
// The saved form of a neighbour model: one safetensors file holding sparse matrices as
// scipy stores a csr_matrix ("shape" I64[2], "indptr" I64[rows+1], "indices" I32[nnz],
// "data" F64[nnz]) and string metadata ("format" names the model kind, "format_version",
// then the model's parameters). A model with one matrix (item-item) stores it under those
// bare names; one with several (user-user) puts each under its name: "similarity.shape",
// "user_items.indptr", ... Reading validates everything before use: the format, each
// shape, indptr starting at 0 and never decreasing up to nnz, column indices in range and
// strictly increasing within a row, finite values (csr_file.hpp, the same layout as an
// interaction file). Metadata values are written and read by io/safetensors_metadata.hpp
// (±inf read back as such, then refused by similarity_options::validate; NaN refused).
// Failures throw parse_error naming the file.

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
#include "shopml/io/safetensors_metadata.hpp"
#include "shopml/recommend/csr_file.hpp"
#include "shopml/recommend/interactions.hpp"
#include "shopml/recommend/similarity.hpp"

namespace shopml::recommend {

inline constexpr const char* saved_format_version = "1";

// One matrix of a saved model: its tensors are "<name>.shape", ... ("shape", ... when name is empty).
struct named_matrix {
  std::string name;
  const csr_matrix& matrix;
};

// A read model file: its metadata (text, number, integer, ... naming the file in errors)
// and its matrices.
struct saved_similarity : io::metadata_reader {
  using io::metadata_reader::metadata_reader;
  std::vector<csr_matrix> matrices;  // one per name asked for, in that order

  // The similarity_options written by options_metadata, validated.
  similarity_options options() const {
    similarity_options options;
    try {
      options.measure = similarity_measure_from_string(text("measure"));
      options.K = static_cast<std::int32_t>(integer("K", 1, std::numeric_limits<std::int32_t>::max()));
      options.K1 = number("K1");
      options.B = number("B");
      options.shrinkage = number("shrinkage");
      // Files saved before the history cap existed have no entry: no cap.
      if (contains("max_history"))
        options.max_history = static_cast<std::int32_t>(integer("max_history", 0, std::numeric_limits<std::int32_t>::max()));
      options.validate();
    } catch (const value_error& e) {
      fail(e.what());
    }
    return options;
  }
  // A similarity matrix over n things: n × n, each row keeping at most K neighbours.
  void check_similarity(const csr_matrix& m, std::int64_t n, std::int64_t K, const std::string& what) const {
    if (m.rows() != n || m.cols() != n)
      fail(what + " is " + std::to_string(m.rows()) + " × " + std::to_string(m.cols()) + ", expected " + std::to_string(n) +
           " × " + std::to_string(n));
    for (std::int64_t r = 0; r < m.rows(); ++r)
      if (m.outerIndexPtr()[r + 1] - m.outerIndexPtr()[r] > K)
        fail(what + " row " + std::to_string(r) + " keeps more than K = " + std::to_string(K) + " neighbours");
  }
};

inline std::map<std::string, std::string> options_metadata(const similarity_options& options) {
  io::metadata_writer out;
  out.text("measure", std::string(to_string(options.measure)))
      .integer("K", options.K)
      .number("K1", options.K1)
      .number("B", options.B)
      .number("shrinkage", options.shrinkage)
      .integer("max_history", options.max_history);
  return std::move(out).entries();
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
  saved_similarity saved(file.metadata(), "'" + file.source() + "': ");
  if (saved.text("format") != kind) saved.fail("format is '" + saved.text("format") + "', expected '" + kind + "'");
  if (saved.text("format_version") != saved_format_version)
    saved.fail("format_version '" + saved.text("format_version") + "' is not supported (expected " + saved_format_version + ")");
  for (const std::string& name : names) saved.matrices.push_back(csr_file::read(file, name, false).to_csr());
  return saved;
}

}  // namespace shopml::recommend
