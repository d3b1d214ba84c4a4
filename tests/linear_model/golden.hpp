#pragma once
// Access to the scikit-learn goldens made by scripts/golden/linear_model.py
// (tests/golden/linear_model/): embeddings of real shared reviews, fitted sklearn
// models and sklearn.metrics values. Shared by the linear_model and metrics tests.

#include <Eigen/Core>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "golden_files.hpp"
#include "shopml/io/safetensors.hpp"

namespace shopml::test::golden {

using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct store {
  shopml::io::safetensors_file features = golden::open("linear_model/features.safetensors");
  shopml::io::safetensors_file cases = golden::open("linear_model/cases.safetensors");
  nlohmann::json json = golden::read_json("linear_model/cases.json");

  // F32 embeddings widened to double (sklearn fits on exactly these values).
  row_matrix X(const std::string& name) const {
    const auto& info = features.info(name);
    const auto values = features.to_f32(name);
    row_matrix out(static_cast<Eigen::Index>(info.shape[0]), static_cast<Eigen::Index>(info.shape[1]));
    for (Eigen::Index i = 0; i < out.size(); ++i) out.data()[i] = values[static_cast<std::size_t>(i)];
    return out;
  }

  std::vector<std::int64_t> i64(const std::string& name) const { return cases.to_i64(name); }

  // An F64 tensor as a row-major matrix (1-D tensors become one column).
  row_matrix f64(const std::string& name) const {
    const auto& info = cases.info(name);
    const auto values = golden::f64(cases, name);
    const auto rows = static_cast<Eigen::Index>(info.shape[0]);
    const auto cols = static_cast<Eigen::Index>(info.shape.size() > 1 ? info.shape[1] : 1);
    row_matrix out(rows, cols);
    std::memcpy(out.data(), values.data(), values.size() * sizeof(double));
    return out;
  }

  const nlohmann::json& find_case(const std::string& name) const {
    for (const auto& c : json["cases"])
      if (c["name"] == name) return c;
    throw std::runtime_error("no golden case " + name);
  }
};

inline const store& get() {
  static const store s;
  return s;
}

template <class T>
std::vector<T> labels(const std::string& key) {
  return get().json["labels"][key].get<std::vector<T>>();
}

inline std::vector<std::size_t> indices(const std::vector<std::int64_t>& v) {
  return std::vector<std::size_t>(v.begin(), v.end());
}

}  // namespace shopml::test::golden
