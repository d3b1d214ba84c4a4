#pragma once
// safetensors (huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of JSON header {name: {dtype, shape, data_offsets: [begin, end]}, optional
// "__metadata__": {string: string}}, then the data section the offsets index.
//
// Reading:   auto st = io::safetensors_file::open("model.safetensors");
//            std::span<const float> w = st.f32("pooler.dense.weight");      // zero-copy
//            io::f32_tensor t = st.as_f32("emb.weight");  // zero-copy for F32, converted from F16/BF16/...
//            std::vector<std::int64_t> ids = st.to_i64("embeddings.position_ids");
//            st.metadata().at("format");
// Writing:   io::save_safetensors("head.safetensors",
//                {io::tensor_view("coef", {2, 3}, coef), io::tensor_view("intercept", {2}, b)},
//                {{"classes", "neg,pos"}});
//
// Every field is validated before use, as the reference implementation does: header
// length within the file (and at most 100 MB), header a JSON object starting with '{',
// no duplicate names, known dtype, shape × dtype size == byte range, every range inside
// the data section, and the ranges tiling the data section with no overlap and no hole.
// Failures throw parse_error naming the file and the tensor.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/atomic_write.hpp"
#include "shopml/io/half.hpp"
#include "shopml/io/mapped_file.hpp"

namespace shopml::io {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

// The safetensors dtypes, named as in the header ("F32", "BF16", ...).
enum class dtype : std::uint8_t { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

namespace detail {
struct dtype_entry {
  dtype type;
  std::string_view name;
  std::size_t size;
};
inline constexpr std::array<dtype_entry, 15> dtype_table{{
    {dtype::BOOL, "BOOL", 1},
    {dtype::U8, "U8", 1},
    {dtype::I8, "I8", 1},
    {dtype::F8_E5M2, "F8_E5M2", 1},
    {dtype::F8_E4M3, "F8_E4M3", 1},
    {dtype::I16, "I16", 2},
    {dtype::U16, "U16", 2},
    {dtype::F16, "F16", 2},
    {dtype::BF16, "BF16", 2},
    {dtype::I32, "I32", 4},
    {dtype::U32, "U32", 4},
    {dtype::F32, "F32", 4},
    {dtype::F64, "F64", 8},
    {dtype::I64, "I64", 8},
    {dtype::U64, "U64", 8},
}};
}  // namespace detail

constexpr std::string_view dtype_name(dtype t) { return detail::dtype_table[static_cast<std::size_t>(t)].name; }
constexpr std::size_t dtype_size(dtype t) { return detail::dtype_table[static_cast<std::size_t>(t)].size; }
constexpr std::optional<dtype> dtype_from_name(std::string_view name) {
  for (const auto& e : detail::dtype_table)
    if (e.name == name) return e.type;
  return std::nullopt;
}

// One tensor's header entry; begin/end are byte offsets into the data section.
struct tensor_info {
  std::string name;
  io::dtype dtype = dtype::F32;
  std::vector<std::size_t> shape;
  std::size_t begin = 0;
  std::size_t end = 0;

  std::size_t numel() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
};

// Float32 values of one tensor: a view of the file when stored as aligned F32, else an
// owned converted copy. A view lives as long as the safetensors_file it came from.
class f32_tensor {
 public:
  f32_tensor(std::vector<std::size_t> shape, std::span<const float> view) : shape_(std::move(shape)), view_(view) {}
  f32_tensor(std::vector<std::size_t> shape, std::vector<float> owned)
      : shape_(std::move(shape)), owned_(std::move(owned)), view_(owned_) {}
  f32_tensor(const f32_tensor&) = delete;
  f32_tensor& operator=(const f32_tensor&) = delete;
  f32_tensor(f32_tensor&& other) noexcept { *this = std::move(other); }
  f32_tensor& operator=(f32_tensor&& other) noexcept {
    const bool borrowed = other.borrowed();
    shape_ = std::move(other.shape_);
    owned_ = std::move(other.owned_);  // moving a vector keeps its buffer, so views stay valid
    view_ = borrowed ? other.view_ : std::span<const float>(owned_);
    other.view_ = {};
    return *this;
  }

  std::span<const float> values() const { return view_; }
  const float* data() const { return view_.data(); }
  std::size_t size() const { return view_.size(); }
  const std::vector<std::size_t>& shape() const { return shape_; }
  // True when the values are read in place from the mapped file.
  bool borrowed() const { return owned_.empty() && !view_.empty(); }

 private:
  std::vector<std::size_t> shape_;
  std::vector<float> owned_;
  std::span<const float> view_;
};

class safetensors_file {
 public:
  // The largest header accepted (the reference implementation's limit).
  static constexpr std::size_t max_header_bytes = 100u << 20;

  // Memory-maps and validates `path`.
  static safetensors_file open(const std::filesystem::path& path) {
    auto file = std::make_shared<mapped_file>(path);
    const auto bytes = file->bytes();
    return safetensors_file(std::move(file), bytes, path.string());
  }

  // Validates an in-memory copy of a file; `source` names it in error messages.
  static safetensors_file from_bytes(std::span<const std::byte> bytes, std::string source = "<memory>") {
    auto owned = std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end());
    const std::span<const std::byte> view(*owned);
    return safetensors_file(std::move(owned), view, std::move(source));
  }

  const std::string& source() const { return source_; }
  // "__metadata__" (empty when the header has none).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Every tensor, in data-section order.
  const std::vector<tensor_info>& tensors() const { return tensors_; }
  // Tensor names, sorted (safe_open(...).keys()).
  std::vector<std::string> keys() const {
    std::vector<std::string> names;
    for (const auto& t : tensors_) names.push_back(t.name);
    std::sort(names.begin(), names.end());
    return names;
  }
  bool contains(std::string_view name) const { return index_.find(std::string(name)) != index_.end(); }

  // parse_error naming the file and tensor when absent.
  const tensor_info& info(std::string_view name) const {
    const auto it = index_.find(std::string(name));
    if (it == index_.end()) throw parse_error("'" + source_ + "': no tensor named '" + std::string(name) + "'");
    return tensors_[it->second];
  }

  std::span<const std::byte> raw(std::string_view name) const {
    const auto& t = info(name);
    return data_.subspan(t.begin, t.end - t.begin);
  }

  // Zero-copy view of an F32 tensor; value_error when it is another dtype or unaligned.
  std::span<const float> f32(std::string_view name) const {
    const auto& t = info(name);
    if (t.dtype != dtype::F32) throw value_error(where(t) + " is " + std::string(dtype_name(t.dtype)) + ", not F32");
    const auto bytes = raw(name);
    if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(float) != 0)
      throw value_error(where(t) + " is not 4-byte aligned in the file; use to_f32");
    return {reinterpret_cast<const float*>(bytes.data()), t.numel()};
  }

  // Any floating or integer tensor as float32: zero-copy for aligned F32, converted otherwise.
  f32_tensor as_f32(std::string_view name) const {
    const auto& t = info(name);
    const auto bytes = raw(name);
    if (t.dtype == dtype::F32 && reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(float) == 0)
      return f32_tensor(t.shape, f32(name));
    return f32_tensor(t.shape, to_f32(name));
  }

  // Copy converted to float32 (F32, F16, BF16, F64 and the integer dtypes).
  std::vector<float> to_f32(std::string_view name) const {
    const auto& t = info(name);
    const auto bytes = raw(name);
    std::vector<float> out(t.numel());
    switch (t.dtype) {
      case dtype::F32:
        convert<float>(bytes, out, [](float v) { return v; });
        break;
      case dtype::F16:
        convert<std::uint16_t>(bytes, out, f16_to_f32);
        break;
      case dtype::BF16:
        convert<std::uint16_t>(bytes, out, bf16_to_f32);
        break;
      case dtype::F64:
        convert<double>(bytes, out, [](double v) { return static_cast<float>(v); });
        break;
      case dtype::F8_E5M2:
      case dtype::F8_E4M3:
        throw value_error(where(t) + ": " + std::string(dtype_name(t.dtype)) + " is not convertible to F32 here");
      default: {
        const auto ints = to_i64(name);
        std::transform(ints.begin(), ints.end(), out.begin(), [](std::int64_t v) { return static_cast<float>(v); });
      }
    }
    return out;
  }

  // Copy of an integer or BOOL tensor as int64; value_error for float dtypes or U64 values past INT64_MAX.
  std::vector<std::int64_t> to_i64(std::string_view name) const {
    const auto& t = info(name);
    const auto bytes = raw(name);
    std::vector<std::int64_t> out(t.numel());
    const auto as_i64 = [](auto v) { return static_cast<std::int64_t>(v); };
    switch (t.dtype) {
      case dtype::BOOL:
      case dtype::U8:
        convert<std::uint8_t>(bytes, out, as_i64);
        break;
      case dtype::I8:
        convert<std::int8_t>(bytes, out, as_i64);
        break;
      case dtype::I16:
        convert<std::int16_t>(bytes, out, as_i64);
        break;
      case dtype::U16:
        convert<std::uint16_t>(bytes, out, as_i64);
        break;
      case dtype::I32:
        convert<std::int32_t>(bytes, out, as_i64);
        break;
      case dtype::U32:
        convert<std::uint32_t>(bytes, out, as_i64);
        break;
      case dtype::I64:
        convert<std::int64_t>(bytes, out, as_i64);
        break;
      case dtype::U64:
        convert<std::uint64_t>(bytes, out, [&](std::uint64_t v) {
          if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            throw value_error(where(t) + ": U64 value " + std::to_string(v) + " does not fit int64");
          return static_cast<std::int64_t>(v);
        });
        break;
      default:
        throw value_error(where(t) + " is " + std::string(dtype_name(t.dtype)) + ", not an integer dtype");
    }
    return out;
  }

 private:
  safetensors_file(std::shared_ptr<const void> owner, std::span<const std::byte> file, std::string source)
      : owner_(std::move(owner)), source_(std::move(source)) {
    parse(file);
  }

  std::string where(const tensor_info& t) const { return "'" + source_ + "': tensor '" + t.name + "'"; }
  [[noreturn]] void fail(const std::string& what) const { throw parse_error("'" + source_ + "': " + what); }

  template <class Stored, class Out, class Fn>
  static void convert(std::span<const std::byte> bytes, std::vector<Out>& out, Fn&& fn) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      Stored v;
      std::memcpy(&v, bytes.data() + i * sizeof(Stored), sizeof(Stored));  // tolerates misalignment
      out[i] = static_cast<Out>(fn(v));
    }
  }

  static bool checked_mul(std::size_t a, std::size_t b, std::size_t& out) {
    if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
    out = a * b;
    return true;
  }

  void parse(std::span<const std::byte> file) {
    if (file.size() < 8) fail("file of " + std::to_string(file.size()) + " bytes is too short for the 8-byte header length");
    std::uint64_t header_len = 0;
    std::memcpy(&header_len, file.data(), 8);
    if (header_len > max_header_bytes) fail("header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
    if (header_len > file.size() - 8)
      fail("header length " + std::to_string(header_len) + " runs past the end of the file (" + std::to_string(file.size()) +
           " bytes)");
    const auto* header_begin = reinterpret_cast<const char*>(file.data() + 8);
    const std::string_view header(header_begin, static_cast<std::size_t>(header_len));
    if (header.empty() || header.front() != '{') fail("header does not start with '{'");
    data_ = file.subspan(8 + static_cast<std::size_t>(header_len));

    // Duplicate names would make the file mean two things: reject them while parsing.
    std::vector<std::string> duplicate;
    std::unordered_map<std::string, int> seen;
    const nlohmann::json::parser_callback_t reject_duplicates = [&](int depth, nlohmann::json::parse_event_t event,
                                                                    nlohmann::json& parsed) {
      if (depth == 1 && event == nlohmann::json::parse_event_t::key && ++seen[parsed.get<std::string>()] == 2)
        duplicate.push_back(parsed.get<std::string>());
      return true;
    };
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(header.begin(), header.end(), reject_duplicates);
    } catch (const nlohmann::json::exception& e) {
      fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!duplicate.empty()) fail("header names '" + duplicate.front() + "' twice");
    if (!json.is_object()) fail("header is not a JSON object");

    for (auto& [name, entry] : json.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) fail("__metadata__ is not an object");
        for (auto& [key, value] : entry.items()) {
          if (!value.is_string()) fail("__metadata__ value of '" + key + "' is not a string");
          metadata_[key] = value.get<std::string>();
        }
        continue;
      }
      tensors_.push_back(parse_entry(name, entry));
    }

    std::sort(tensors_.begin(), tensors_.end(),
              [](const tensor_info& a, const tensor_info& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    std::size_t covered = 0;
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const auto& t = tensors_[i];
      if (t.begin < covered) fail("tensor '" + t.name + "' overlaps tensor '" + tensors_[i - 1].name + "'");
      if (t.begin > covered)
        fail("tensor '" + t.name + "' starts at byte " + std::to_string(t.begin) + ", leaving a hole after byte " +
             std::to_string(covered) + " of the data section");
      covered = t.end;
      index_.emplace(t.name, i);
    }
    if (covered != data_.size())
      fail("the tensors cover " + std::to_string(covered) + " of the " + std::to_string(data_.size()) +
           " bytes of the data section");
  }

  tensor_info parse_entry(const std::string& name, const nlohmann::json& entry) const {
    const std::string at = "tensor '" + name + "'";
    if (!entry.is_object()) fail(at + ": entry is not an object");
    tensor_info t;
    t.name = name;

    const auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string()) fail(at + ": missing string 'dtype'");
    const auto type = dtype_from_name(dtype_it->get<std::string>());
    if (!type) fail(at + ": unknown dtype '" + dtype_it->get<std::string>() + "'");
    t.dtype = *type;

    const auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array()) fail(at + ": missing array 'shape'");
    std::size_t bytes = dtype_size(t.dtype);
    for (const auto& d : *shape_it) {
      if (!d.is_number_unsigned()) fail(at + ": shape holds " + d.dump() + ", not a non-negative integer");
      const auto dim = d.get<std::uint64_t>();
      if (dim > std::numeric_limits<std::size_t>::max() || !checked_mul(bytes, static_cast<std::size_t>(dim), bytes))
        fail(at + ": shape " + shape_it->dump() + " overflows");
      t.shape.push_back(static_cast<std::size_t>(dim));
    }

    const auto offsets_it = entry.find("data_offsets");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
      fail(at + ": 'data_offsets' is not [begin, end] of non-negative integers");
    const auto begin = (*offsets_it)[0].get<std::uint64_t>();
    const auto end = (*offsets_it)[1].get<std::uint64_t>();
    if (begin > end) fail(at + ": data_offsets " + offsets_it->dump() + " end before they begin");
    if (end > data_.size())
      fail(at + ": data_offsets " + offsets_it->dump() + " run past the " + std::to_string(data_.size()) + "-byte data section");
    if (end - begin != bytes)
      fail(at + ": " + std::string(dtype_name(t.dtype)) + " shape " + shape_it->dump() + " needs " + std::to_string(bytes) +
           " bytes but data_offsets " + offsets_it->dump() + " hold " + std::to_string(end - begin));
    t.begin = static_cast<std::size_t>(begin);
    t.end = static_cast<std::size_t>(end);
    return t;
  }

  std::shared_ptr<const void> owner_;  // the mapping or the in-memory copy
  std::string source_;
  std::span<const std::byte> data_;
  std::map<std::string, std::string> metadata_;
  std::vector<tensor_info> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
};

// A tensor to write: a name, dtype, shape and its little-endian bytes (not owned).
struct tensor_view {
  std::string name;
  io::dtype dtype = dtype::F32;
  std::vector<std::size_t> shape;
  std::span<const std::byte> bytes;

  tensor_view(std::string name_, io::dtype type, std::vector<std::size_t> shape_, std::span<const std::byte> bytes_)
      : name(std::move(name_)), dtype(type), shape(std::move(shape_)), bytes(bytes_) {
    std::size_t n = dtype_size(type);
    for (std::size_t d : shape) n *= d;
    if (n != bytes.size())
      throw shape_error("tensor '" + name + "': " + std::string(dtype_name(type)) + " shape needs " + std::to_string(n) +
                        " bytes, got " + std::to_string(bytes.size()));
  }

  // Typed values: float -> F32, double -> F64, int64/int32/int16/int8 -> I64/I32/I16/I8,
  // uint64/uint32/uint16/uint8 -> U64/U32/U16/U8, bool -> BOOL.
  template <class T>
  tensor_view(std::string name_, std::vector<std::size_t> shape_, std::span<const T> values)
      : tensor_view(std::move(name_), dtype_of<T>(), std::move(shape_), std::as_bytes(values)) {}
  template <class T>
  tensor_view(std::string name_, std::vector<std::size_t> shape_, const std::vector<T>& values)
      : tensor_view(std::move(name_), std::move(shape_), std::span<const T>(values)) {}

 private:
  template <class T>
  static constexpr io::dtype dtype_of() {
    if constexpr (std::is_same_v<T, float>)
      return dtype::F32;
    else if constexpr (std::is_same_v<T, double>)
      return dtype::F64;
    else if constexpr (std::is_same_v<T, bool>)
      return dtype::BOOL;
    else if constexpr (std::is_same_v<T, std::int64_t>)
      return dtype::I64;
    else if constexpr (std::is_same_v<T, std::int32_t>)
      return dtype::I32;
    else if constexpr (std::is_same_v<T, std::int16_t>)
      return dtype::I16;
    else if constexpr (std::is_same_v<T, std::int8_t>)
      return dtype::I8;
    else if constexpr (std::is_same_v<T, std::uint64_t>)
      return dtype::U64;
    else if constexpr (std::is_same_v<T, std::uint32_t>)
      return dtype::U32;
    else if constexpr (std::is_same_v<T, std::uint16_t>)
      return dtype::U16;
    else if constexpr (std::is_same_v<T, std::uint8_t>)
      return dtype::U8;
    else
      static_assert(sizeof(T) == 0, "no safetensors dtype for this element type");
  }
};

namespace detail {

// The header (padded so the data section starts 8-byte aligned) and the tensors in file
// order: by decreasing element size (as the reference writer does), so every tensor stays
// aligned to its element size and F32 tensors read back zero-copy.
struct safetensors_layout {
  std::string header;
  std::vector<const tensor_view*> order;
  std::size_t data_bytes = 0;
};

inline safetensors_layout layout_safetensors(std::span<const tensor_view> tensors,
                                             const std::map<std::string, std::string>& metadata) {
  safetensors_layout layout;
  auto& order = layout.order;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__") throw value_error("a tensor cannot be named '__metadata__'");
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const tensor_view* a, const tensor_view* b) {
    if (dtype_size(a->dtype) != dtype_size(b->dtype)) return dtype_size(a->dtype) > dtype_size(b->dtype);
    return a->name < b->name;
  });
  std::set<std::string_view> names;
  for (const auto* t : order)
    if (!names.insert(t->name).second) throw value_error("tensor '" + t->name + "' is given twice");

  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  for (const auto* t : order) {
    header[t->name] = {{"dtype", dtype_name(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {layout.data_bytes, layout.data_bytes + t->bytes.size()}}};
    layout.data_bytes += t->bytes.size();
  }
  layout.header = header.dump();
  layout.header.append((8 - (8 + layout.header.size()) % 8) % 8, ' ');
  return layout;
}

}  // namespace detail

// The bytes of a safetensors file holding `tensors` and `metadata`.
inline std::vector<std::byte> serialize_safetensors(std::span<const tensor_view> tensors,
                                                    const std::map<std::string, std::string>& metadata = {}) {
  const auto layout = detail::layout_safetensors(tensors, metadata);
  std::vector<std::byte> out(8 + layout.header.size() + layout.data_bytes);
  const std::uint64_t header_len = layout.header.size();
  std::memcpy(out.data(), &header_len, 8);
  std::memcpy(out.data() + 8, layout.header.data(), layout.header.size());
  std::byte* data = out.data() + 8 + layout.header.size();
  for (const auto* t : layout.order) {
    if (!t->bytes.empty()) std::memcpy(data, t->bytes.data(), t->bytes.size());
    data += t->bytes.size();
  }
  return out;
}

// Writes a safetensors file readable by huggingface/safetensors (safe_open, load_file),
// streaming the tensors (no copy of them in memory). The file is written beside `path`
// and renamed into place, so readers never see half a file.
inline void save_safetensors(const std::filesystem::path& path, std::span<const tensor_view> tensors,
                             const std::map<std::string, std::string>& metadata = {}) {
  const auto layout = detail::layout_safetensors(tensors, metadata);
  write_atomically(path, [&](std::ostream& out) {
    const std::uint64_t header_len = layout.header.size();
    out.write(reinterpret_cast<const char*>(&header_len), 8);
    out.write(layout.header.data(), static_cast<std::streamsize>(layout.header.size()));
    for (const auto* t : layout.order)
      out.write(reinterpret_cast<const char*>(t->bytes.data()), static_cast<std::streamsize>(t->bytes.size()));
  });
}

inline void save_safetensors(const std::filesystem::path& path, std::initializer_list<tensor_view> tensors,
                             const std::map<std::string, std::string>& metadata = {}) {
  save_safetensors(path, std::span<const tensor_view>(tensors.begin(), tensors.size()), metadata);
}

}  // namespace shopml::io
