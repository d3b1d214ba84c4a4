#pragma once
// A trained logistic-regression head as a safetensors file: tensors "coef" [rows, d] and
// "intercept" [rows] (F32 or F64, rows = 1 for two classes, else n_classes) and metadata
//   format = "shopml.logistic_regression", format_version = "1", scalar = float32|float64,
//   label_type = int64|string, classes = JSON array (sorted), n_features, C,
//   fit_intercept, tol, max_iter, n_iter, converged, shopml_version.
// Values are written and read by io/safetensors_metadata.hpp (C and tol round-trip exactly,
// ±inf included; NaN is refused). Loading checks every field and throws parse_error naming
// the file and the field at fault; a head saved with one scalar type loads into the other
// (values converted).
//
//   linear_model::save_head(clf, "sentiment.safetensors");
//   auto clf2 = linear_model::load_head<float, std::string>("sentiment.safetensors");

#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/io/safetensors_metadata.hpp"
#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/version.hpp"

namespace shopml::linear_model {

inline constexpr const char* head_format_name = "shopml.logistic_regression";
inline constexpr int head_format_version = 1;

namespace detail {

template <class Scalar>
constexpr const char* scalar_name() {
  return std::is_same_v<Scalar, float> ? "float32" : "float64";
}

template <class Label>
constexpr const char* label_type_name() {
  return std::is_same_v<Label, std::string> ? "string" : "int64";
}

template <class Scalar, class Label>
std::map<std::string, std::string> head_metadata(const logistic_regression<Scalar, Label>& model) {
  const auto& p = model.get_params();
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& c : model.classes()) {
    if constexpr (std::is_same_v<Label, std::string>)
      classes.push_back(c);
    else
      classes.push_back(static_cast<std::int64_t>(c));
  }
  io::metadata_writer out;
  out.text("format", head_format_name)
      .integer("format_version", head_format_version)
      .text("scalar", scalar_name<Scalar>())
      .text("label_type", label_type_name<Label>())
      .text("classes", classes.dump())
      .integer("n_features", model.n_features_in())
      .number("C", p.C)
      .boolean("fit_intercept", p.fit_intercept)
      .number("tol", p.tol)
      .integer("max_iter", p.max_iter)
      .integer("n_iter", model.n_iter())
      .boolean("converged", model.converged())
      .text("shopml_version", version_string);
  return std::move(out).entries();
}

// Reads head files: every accessor names the file and the field it rejects.
class head_reader : public io::metadata_reader {
 public:
  explicit head_reader(const io::safetensors_file& file)
      : io::metadata_reader(file.metadata(), "'" + file.source() + "': not a valid " + head_format_name + " head: "),
        file_(file) {}

  // A float tensor of exactly `shape`, converted to Scalar.
  template <class Scalar>
  std::vector<Scalar> values(const std::string& name, const std::vector<std::size_t>& shape) const {
    if (!file_.contains(name)) fail("no tensor '" + name + "'");
    const auto& info = file_.info(name);
    if (info.shape != shape) {
      std::string want, got;
      for (auto d : shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
      for (auto d : info.shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
      fail("tensor '" + name + "' has shape [" + got + "], expected [" + want + "]");
    }
    const auto bytes = file_.raw(name);
    std::vector<Scalar> out(info.numel());
    if (info.dtype == io::dtype::F64)
      copy_as<double>(bytes, out);
    else if (info.dtype == io::dtype::F32)
      copy_as<float>(bytes, out);
    else
      fail("tensor '" + name + "' is " + std::string(io::dtype_name(info.dtype)) + ", expected F32 or F64");
    for (std::size_t i = 0; i < out.size(); ++i)
      if (!std::isfinite(out[i])) fail("tensor '" + name + "' value " + std::to_string(i) + " is not finite");
    return out;
  }

 private:
  template <class Stored, class Scalar>
  static void copy_as(std::span<const std::byte> bytes, std::vector<Scalar>& out) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      Stored v;
      std::memcpy(&v, bytes.data() + i * sizeof(Stored), sizeof(Stored));
      out[i] = static_cast<Scalar>(v);
    }
  }

  const io::safetensors_file& file_;
};

template <class Label>
std::vector<Label> parse_classes(const head_reader& head) {
  nlohmann::json list;
  try {
    list = nlohmann::json::parse(head.text("classes"));
  } catch (const nlohmann::json::exception& e) {
    head.fail(std::string("metadata 'classes' is not JSON: ") + e.what());
  }
  if (!list.is_array()) head.fail("metadata 'classes' is not a JSON array");
  std::vector<Label> classes;
  for (const auto& item : list) {
    if constexpr (std::is_same_v<Label, std::string>) {
      if (!item.is_string()) head.fail("metadata 'classes' holds a non-string label");
      classes.push_back(item.get<std::string>());
    } else {
      if (!item.is_number_integer()) head.fail("metadata 'classes' holds a non-integer label");
      const auto v = item.get<std::int64_t>();
      if (v < static_cast<std::int64_t>(std::numeric_limits<Label>::min()) ||
          (v > 0 && static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<Label>::max())))
        head.fail("label " + std::to_string(v) + " does not fit the label type");
      classes.push_back(static_cast<Label>(v));
    }
  }
  return classes;
}

}  // namespace detail

namespace detail {
// Views of the model's coefficients (valid while the model lives).
template <class Scalar, class Label>
std::vector<io::tensor_view> head_tensors(const logistic_regression<Scalar, Label>& model) {
  const auto& coef = model.coef();
  const auto& b = model.intercept();
  return {io::tensor_view("coef", {static_cast<std::size_t>(coef.rows()), static_cast<std::size_t>(coef.cols())},
                          std::span<const Scalar>(coef.data(), static_cast<std::size_t>(coef.size()))),
          io::tensor_view("intercept", {static_cast<std::size_t>(b.size())},
                          std::span<const Scalar>(b.data(), static_cast<std::size_t>(b.size())))};
}
}  // namespace detail

// The head as safetensors bytes.
template <class Scalar, class Label>
std::vector<std::byte> head_to_bytes(const logistic_regression<Scalar, Label>& model) {
  return io::serialize_safetensors(detail::head_tensors(model), detail::head_metadata(model));
}

template <class Scalar, class Label>
void save_head(const logistic_regression<Scalar, Label>& model, const std::filesystem::path& path) {
  io::save_safetensors(path, detail::head_tensors(model), detail::head_metadata(model));
}

// Rebuilds a head from a validated safetensors file.
template <class Scalar = double, class Label = std::int64_t>
logistic_regression<Scalar, Label> load_head(const io::safetensors_file& file) {
  const detail::head_reader head(file);
  if (head.text("format") != head_format_name) head.fail("format is '" + head.text("format") + "'");
  const long long version = head.integer("format_version", 1, 1'000'000);
  if (version != head_format_version)
    head.fail("format_version " + std::to_string(version) + " is not supported (this build reads " +
              std::to_string(head_format_version) + ")");
  const std::string& scalar = head.text("scalar");
  if (scalar != "float32" && scalar != "float64") head.fail("scalar '" + scalar + "' is not float32/float64");
  if (head.text("label_type") != detail::label_type_name<Label>())
    head.fail("labels are " + head.text("label_type") + ", but the model was asked for " + detail::label_type_name<Label>() +
              " labels");

  typename logistic_regression<Scalar, Label>::params p;
  p.C = head.number("C");
  p.fit_intercept = head.boolean("fit_intercept");
  p.tol = head.number("tol");
  p.max_iter = static_cast<int>(head.integer("max_iter", 0, std::numeric_limits<int>::max()));
  if (!(p.C > 0.0) || !(p.tol >= 0.0)) head.fail("C must be > 0 and tol >= 0");

  typename logistic_regression<Scalar, Label>::fitted_state state;
  state.classes = detail::parse_classes<Label>(head);
  if (state.classes.size() < 2) head.fail("fewer than 2 classes");
  const auto d = static_cast<std::size_t>(head.integer("n_features", 1, 1LL << 32));
  const std::size_t rows = state.classes.size() == 2 ? 1 : state.classes.size();
  const auto coef = head.values<Scalar>("coef", {rows, d});
  const auto intercept = head.values<Scalar>("intercept", {rows});
  state.coef = Eigen::Map<const typename logistic_regression<Scalar, Label>::row_matrix>(
      coef.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(d));
  state.intercept = Eigen::Map<const Eigen::Vector<Scalar, Eigen::Dynamic>>(intercept.data(), static_cast<Eigen::Index>(rows));
  state.n_iter = static_cast<int>(head.integer("n_iter", 0, std::numeric_limits<int>::max()));
  state.converged = head.boolean("converged");
  try {
    return logistic_regression<Scalar, Label>::restore(std::move(p), std::move(state));
  } catch (const error& e) {
    head.fail(e.what());
  }
}

template <class Scalar = double, class Label = std::int64_t>
logistic_regression<Scalar, Label> load_head(const std::filesystem::path& path) {
  return load_head<Scalar, Label>(io::safetensors_file::open(path));
}

// From the bytes of a head file (`source` names it in errors).
template <class Scalar = double, class Label = std::int64_t>
logistic_regression<Scalar, Label> load_head_from_bytes(std::span<const std::byte> bytes, std::string source = "<memory>") {
  return load_head<Scalar, Label>(io::safetensors_file::from_bytes(bytes, std::move(source)));
}

}  // namespace shopml::linear_model
