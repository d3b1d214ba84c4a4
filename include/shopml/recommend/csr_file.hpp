#pragma once
// A users × items interaction matrix as a safetensors file, so that a log of 10^8 rows is
// mapped into memory rather than parsed from CSV on every run:
//
//   recommend::save_csr("log.safetensors", user_items);            // or a csr_view of raw arrays
//   auto file = recommend::csr_file::open("log.safetensors");       // memory-mapped, validated
//   recommend::csr_matrix user_items = file.to_csr();                // what the recommenders fit on
//
// The layout is scipy.sparse's save_npz, as safetensors tensors:
//   "indptr"  I64 [rows + 1]   (I32 accepted)
//   "indices" I32 [nnz]        each row's column indices strictly ascending
//   "data"    F32 or F64 [nnz] finite, >= 0
//   "shape"   I64 [2]          rows, cols
// so Python writes one with safetensors.numpy.save_file({"indptr": m.indptr.astype(np.int64),
// "indices": m.indices.astype(np.int32), "data": m.data, "shape": np.array(m.shape)}, path).
// open() checks everything it relies on — the four tensors, dtypes and shapes, indptr
// starting at 0, non-decreasing and ending at nnz, every index inside 0..cols-1 and
// ascending within its row, every value finite and >= 0 — and throws parse_error naming
// the file, the tensor and the row at fault. save_csr writes to a temporary name and
// renames (io/atomic_write.hpp). Saved recommenders store their matrices the same way
// (saved_similarity.hpp reads them with csr_file::read).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/recommend/interactions.hpp"

namespace shopml::recommend {

// A CSR matrix over arrays someone else owns (a mapped file, a generator's vectors).
template <class Value>
struct csr_view {
  std::int32_t rows = 0, cols = 0;
  std::span<const std::int64_t> indptr;
  std::span<const std::int32_t> indices;
  std::span<const Value> data;

  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
};

namespace detail {

// Throws parse_error "'<source>': <what>" at the first rule the arrays break (see the
// top of the file); `what` names the matrix ("" or "'user_items' "). Values must be finite,
// and >= 0 when they are interactions.
template <class Value>
void validate_csr(const csr_view<Value>& m, const std::string& source, const std::string& what = "", bool non_negative = true) {
  const auto fail = [&](const std::string& why) { throw parse_error("'" + source + "': " + what + why); };
  if (m.rows < 0 || m.cols < 0) fail("negative shape");
  if (m.indptr.size() != static_cast<std::size_t>(m.rows) + 1)
    fail("'indptr' has " + std::to_string(m.indptr.size()) + " entries for " + std::to_string(m.rows) + " rows");
  if (m.data.size() != m.indices.size())
    fail("'indices' has " + std::to_string(m.indices.size()) + " entries, 'data' " + std::to_string(m.data.size()));
  if (m.indptr.front() != 0 || m.indptr.back() != m.nnz()) fail("'indptr' must run from 0 to nnz = " + std::to_string(m.nnz()));
  for (std::size_t r = 0; r + 1 < m.indptr.size(); ++r)  // with both ends fixed, this bounds every entry
    if (m.indptr[r + 1] < m.indptr[r]) fail("'indptr' decreases at row " + std::to_string(r));
  for (std::int32_t r = 0; r < m.rows; ++r) {
    const std::int64_t begin = m.indptr[static_cast<std::size_t>(r)], end = m.indptr[static_cast<std::size_t>(r) + 1];
    for (std::int64_t p = begin; p < end; ++p) {
      const std::int32_t c = m.indices[static_cast<std::size_t>(p)];
      if (c < 0 || c >= m.cols) fail("row " + std::to_string(r) + ": column " + std::to_string(c) + " is out of range");
      if (p > begin && c <= m.indices[static_cast<std::size_t>(p) - 1])
        fail("row " + std::to_string(r) + ": column indices are not strictly increasing");
      const double v = static_cast<double>(m.data[static_cast<std::size_t>(p)]);
      if (!std::isfinite(v) || (non_negative && v < 0.0))
        fail("row " + std::to_string(r) + ", column " + std::to_string(c) + ": value " + std::to_string(v) +
             (non_negative ? " is not a finite number >= 0" : " is not finite"));
    }
  }
}

}  // namespace detail

// A copy as the recommenders take it: values as double, every stored entry kept (a stored
// zero stays, as in scipy, and counts as an interaction with value 0).
template <class Value>
csr_matrix to_csr(const csr_view<Value>& m) {
  if (m.nnz() > std::numeric_limits<std::int32_t>::max())
    throw value_error("to_csr: " + std::to_string(m.nnz()) + " entries exceed the 2^31-1 a csr_matrix indexes");
  csr_matrix out(m.rows, m.cols);
  out.resizeNonZeros(static_cast<Eigen::Index>(m.nnz()));
  for (std::size_t r = 0; r < m.indptr.size(); ++r) out.outerIndexPtr()[r] = static_cast<std::int32_t>(m.indptr[r]);
  std::copy(m.indices.begin(), m.indices.end(), out.innerIndexPtr());
  std::transform(m.data.begin(), m.data.end(), out.valuePtr(), [](Value v) { return static_cast<double>(v); });
  return out;
}

// Writes the matrix as the file format above (float or double values).
template <class Value>
void save_csr(const std::filesystem::path& path, const csr_view<Value>& m) {
  static_assert(std::is_same_v<Value, float> || std::is_same_v<Value, double>, "save_csr: values must be float or double");
  detail::validate_csr(m, path.string());
  const std::vector<std::int64_t> shape = {m.rows, m.cols};
  const io::tensor_view tensors[] = {io::tensor_view("indptr", {m.indptr.size()}, m.indptr),
                                     io::tensor_view("indices", {m.indices.size()}, m.indices),
                                     io::tensor_view("data", {m.data.size()}, m.data), io::tensor_view("shape", {2}, shape)};
  io::save_safetensors(path, tensors, {{"format", "shopml.csr"}});
}

inline void save_csr(const std::filesystem::path& path, const csr_matrix& m) {
  if (!m.isCompressed()) return save_csr(path, csr_matrix(m));
  const auto rows = static_cast<std::size_t>(m.rows());
  const std::vector<std::int64_t> indptr(m.outerIndexPtr(), m.outerIndexPtr() + rows + 1);
  const auto nnz = static_cast<std::size_t>(m.nonZeros());
  save_csr(path,
           csr_view<double>{static_cast<std::int32_t>(m.rows()), static_cast<std::int32_t>(m.cols()), indptr,
                            std::span<const std::int32_t>(m.innerIndexPtr(), nnz), std::span<const double>(m.valuePtr(), nnz)});
}

// A validated CSR matrix in a safetensors file, read in place from its memory map: an
// interaction file (open, from_bytes), or one matrix of a saved model (read: its tensors
// are "<name>.shape", ..., and values need only be finite).
class csr_file {
 public:
  static csr_file open(const std::filesystem::path& path) { return csr_file(io::safetensors_file::open(path), "", true); }
  static csr_file from_bytes(std::span<const std::byte> bytes, std::string source = "<csr bytes>") {
    return csr_file(io::safetensors_file::from_bytes(bytes, std::move(source)), "", true);
  }
  static csr_file read(io::safetensors_file file, const std::string& name, bool interactions) {
    return csr_file(std::move(file), name, interactions);
  }
  // Movable, not copyable: the views point into the mapping and into widened_.
  csr_file(csr_file&&) noexcept = default;
  csr_file& operator=(csr_file&&) noexcept = default;
  csr_file(const csr_file&) = delete;
  csr_file& operator=(const csr_file&) = delete;

  std::int32_t rows() const { return rows_; }
  std::int32_t cols() const { return cols_; }
  std::int64_t nnz() const { return static_cast<std::int64_t>(indices_.size()); }
  // The values' stored type: io::dtype::F32 or F64.
  io::dtype value_type() const { return file_.info(tensor("data")).dtype; }

  // The arrays as stored; value_error when the values are not of that type.
  template <class Value>
  csr_view<Value> view() const {
    constexpr io::dtype wanted = std::is_same_v<Value, float> ? io::dtype::F32 : io::dtype::F64;
    if (value_type() != wanted)
      throw value_error("'" + file_.source() + "': '" + tensor("data") + "' is " + std::string(io::dtype_name(value_type())) +
                        ", not " + std::string(io::dtype_name(wanted)));
    return {rows_, cols_, indptr_, indices_, typed<Value>(file_.raw(tensor("data")))};
  }

  csr_matrix to_csr() const {
    return value_type() == io::dtype::F32 ? recommend::to_csr(view<float>()) : recommend::to_csr(view<double>());
  }

 private:
  csr_file(io::safetensors_file file, std::string name, bool interactions) : file_(std::move(file)), name_(std::move(name)) {
    const std::string what = name_.empty() ? std::string() : "'" + name_ + "' ";
    const auto fail = [&](const std::string& why) { throw parse_error("'" + file_.source() + "': " + why); };
    const auto check = [&](const char* part, std::initializer_list<io::dtype> dtypes) -> const io::tensor_info& {
      const std::string name = tensor(part);
      if (!file_.contains(name)) fail("no tensor '" + name + "' (a CSR matrix is shape, indptr, indices, data)");
      const auto& t = file_.info(name);
      if (t.shape.size() != 1 || std::find(dtypes.begin(), dtypes.end(), t.dtype) == dtypes.end())
        fail("tensor '" + name + "' must be a 1-d " + std::string(io::dtype_name(*dtypes.begin())) + " tensor, not " +
             std::string(io::dtype_name(t.dtype)) + " of " + std::to_string(t.shape.size()) + " dimensions");
      return t;
    };
    const auto& shape = check("shape", {io::dtype::I64});
    const auto& indptr = check("indptr", {io::dtype::I64, io::dtype::I32});
    check("indices", {io::dtype::I32});
    check("data", {io::dtype::F64, io::dtype::F32});
    if (shape.numel() != 2) fail("tensor '" + tensor("shape") + "' must hold 2 values");
    const auto dims = file_.to_i64(tensor("shape"));
    constexpr std::int64_t max_dim = std::numeric_limits<std::int32_t>::max() - 1;
    if (dims[0] < 0 || dims[1] < 0 || dims[0] > max_dim || dims[1] > max_dim)
      fail(what + "shape " + std::to_string(dims[0]) + " × " + std::to_string(dims[1]) + " is out of range");
    rows_ = static_cast<std::int32_t>(dims[0]);
    cols_ = static_cast<std::int32_t>(dims[1]);
    if (indptr.dtype == io::dtype::I64) {
      indptr_ = typed<std::int64_t>(file_.raw(tensor("indptr")));
    } else {
      widened_ = file_.to_i64(tensor("indptr"));
      indptr_ = widened_;
    }
    indices_ = typed<std::int32_t>(file_.raw(tensor("indices")));
    if (value_type() == io::dtype::F32)
      detail::validate_csr(view<float>(), file_.source(), what, interactions);
    else
      detail::validate_csr(view<double>(), file_.source(), what, interactions);
  }

  std::string tensor(const char* part) const { return name_.empty() ? std::string(part) : name_ + "." + part; }

  // The writer aligns every tensor to its element size; a file that does not is refused.
  template <class T>
  std::span<const T> typed(std::span<const std::byte> bytes) const {
    if (!bytes.empty() && reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(T) != 0)
      throw parse_error("'" + file_.source() + "': a tensor is not aligned to its element size in the file");
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
  }

  io::safetensors_file file_;
  std::string name_;
  std::int32_t rows_ = 0, cols_ = 0;
  std::vector<std::int64_t> widened_;
  std::span<const std::int64_t> indptr_;
  std::span<const std::int32_t> indices_;
};

}  // namespace shopml::recommend
