// LogisticRegression heads (scikit-learn's names: fit, predict_proba, predict, classes_,
// coef_, ...), one class per label type; python/shopml/linear_model.py picks one from y.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "shopml/error.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/linear_model/saved_head.hpp"

namespace shopml_python {

namespace lm = shopml::linear_model;

namespace {

template <class Label>
using head = lm::logistic_regression<double, Label>;

template <class Label>
using row_map = Eigen::Map<const typename head<Label>::row_matrix>;

template <class Label>
row_map<Label> rows_of(const input_array<double, nb::ndim<2>>& X) {
  return row_map<Label>(X.data(), static_cast<Eigen::Index>(X.shape(0)), static_cast<Eigen::Index>(X.shape(1)));
}

nb::ndarray<nb::numpy, double> matrix_array(Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>&& m) {
  using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const std::size_t rows = static_cast<std::size_t>(m.rows()), cols = static_cast<std::size_t>(m.cols());
  return owning_array<double>(std::move(m), +[](matrix& x) { return x.data(); }, {rows, cols});
}

// class_weight as scikit-learn takes it: None, "balanced" or {label: weight}.
template <class Label>
typename head<Label>::class_weight_spec class_weight_of(const nb::object& spec) {
  if (spec.is_none()) return std::monostate{};
  if (nb::isinstance<nb::str>(spec)) {
    if (nb::cast<std::string>(spec) == "balanced") return lm::balanced;
    throw shopml::value_error("class_weight must be None, 'balanced' or a dict {label: weight}, got '" +
                              nb::cast<std::string>(spec) + "'");
  }
  return nb::cast<std::map<Label, double>>(spec);
}

template <class Label>
void bind_head(nb::module_& m, const char* name) {
  using model = head<Label>;
  nb::class_<model>(m, name)
      .def(
          "__init__",
          [](model* self, double C, bool fit_intercept, int max_iter, double tol, const nb::object& class_weight, int threads) {
            new (self) model(typename model::params{.C = C,
                                                    .fit_intercept = fit_intercept,
                                                    .max_iter = max_iter,
                                                    .tol = tol,
                                                    .class_weight = class_weight_of<Label>(class_weight),
                                                    .threads = threads});
          },
          nb::arg("C") = 1.0, nb::arg("fit_intercept") = true, nb::arg("max_iter") = 100, nb::arg("tol") = 1e-4,
          nb::arg("class_weight") = nb::none(), nb::arg("threads") = 0)
      .def(
          "fit",
          [](model& self, const input_array<double, nb::ndim<2>>& X, const std::vector<Label>& y,
             std::optional<input_array<double, nb::ndim<1>>> sample_weight) -> model& {
            const std::span<const double> weights = sample_weight
                                                        ? std::span<const double>(sample_weight->data(), sample_weight->shape(0))
                                                        : std::span<const double>();
            nb::gil_scoped_release unlocked;
            return self.fit(rows_of<Label>(X), std::span<const Label>(y), weights);
          },
          nb::arg("X"), nb::arg("y"), nb::arg("sample_weight") = nb::none(), nb::rv_policy::reference)
      .def(
          "predict_proba",
          [](const model& self, const input_array<double, nb::ndim<2>>& X) {
            typename model::row_matrix p;
            {
              nb::gil_scoped_release unlocked;
              p = self.predict_proba(rows_of<Label>(X));
            }
            return matrix_array(std::move(p));
          },
          nb::arg("X"))
      .def(
          "decision_function",
          [](const model& self, const input_array<double, nb::ndim<2>>& X) {
            typename model::row_matrix p;
            {
              nb::gil_scoped_release unlocked;
              p = self.decision_function(rows_of<Label>(X));
            }
            return matrix_array(std::move(p));
          },
          nb::arg("X"))
      .def(
          "predict",
          [](const model& self, const input_array<double, nb::ndim<2>>& X) {
            nb::gil_scoped_release unlocked;
            return self.predict(rows_of<Label>(X));
          },
          nb::arg("X"))
      .def_prop_ro("classes_", [](const model& self) { return self.classes(); })
      .def_prop_ro(
          "coef_", [](const model& self) { return matrix_array(typename model::row_matrix(self.coef())); }, nb::rv_policy::move)
      .def_prop_ro(
          "intercept_",
          [](const model& self) {
            const auto& b = self.intercept();
            return to_numpy(std::vector<double>(b.data(), b.data() + b.size()), {static_cast<std::size_t>(b.size())});
          },
          nb::rv_policy::move)
      .def_prop_ro("n_iter_", &model::n_iter)
      .def_prop_ro("n_features_in_", &model::n_features_in)
      .def_prop_ro("converged_", &model::converged)
      .def_prop_ro("is_fitted", &model::is_fitted)
      .def(
          "save", [](const model& self, const std::filesystem::path& path) { lm::save_head(self, path); }, nb::arg("path"))
      .def_static(
          "load", [](const std::filesystem::path& path) { return lm::load_head<double, Label>(path); }, nb::arg("path"));
}

}  // namespace

void bind_linear_model(nb::module_& m) {
  bind_head<std::int64_t>(m, "_LogisticRegressionInt");
  bind_head<std::string>(m, "_LogisticRegressionStr");
  m.def(
      "_head_label_type",
      [](const std::filesystem::path& path) {
        const auto file = shopml::io::safetensors_file::open(path);
        const auto& meta = file.metadata();
        const auto it = meta.find("label_type");
        if (it == meta.end()) throw shopml::parse_error(path.string() + ": no 'label_type' metadata: not a saved shopml head");
        return it->second;
      },
      nb::arg("path"), "'int64' or 'string': the label type a saved head was fitted with.");
}

}  // namespace shopml_python
