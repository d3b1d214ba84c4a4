// Item-item recommenders (implicit's names: fit, similar_items, recommend) and the block
// fit behind shopml.distributed. CSR matrices cross as (shape, indptr, indices, data)
// arrays; python/shopml/recommend.py turns scipy.sparse matrices into them.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "bindings.hpp"
#include "shopml/error.hpp"
#include "shopml/recommend/csr_file.hpp"
#include "shopml/recommend/item_block.hpp"
#include "shopml/recommend/item_item.hpp"

namespace shopml_python {

namespace rec = shopml::recommend;

namespace {

using index_array = input_array<std::int32_t, nb::ndim<1>>;
using indptr_array = input_array<std::int64_t, nb::ndim<1>>;
using value_array = input_array<double, nb::ndim<1>>;

template <class T, class A>
std::span<const T> span_of(const A& a) {
  return {a.data(), a.shape(0)};
}

// Arrays from Python, checked (shape, indptr, indices in range and ascending, values
// finite) before anything reads through them.
rec::csr_view<double> view_of(std::int32_t rows, std::int32_t cols, const indptr_array& indptr, const index_array& indices,
                              const value_array& data, const char* what) {
  const rec::csr_view<double> v{rows, cols, span_of<std::int64_t>(indptr), span_of<std::int32_t>(indices), span_of<double>(data)};
  rec::detail::validate_csr(v, what, "", /*non_negative=*/false);
  return v;
}

using csr_arrays =
    std::tuple<nb::ndarray<nb::numpy, std::int64_t>, nb::ndarray<nb::numpy, std::int32_t>, nb::ndarray<nb::numpy, double>>;

csr_arrays arrays_of(const rec::csr_matrix& m) {
  const auto rows = static_cast<std::size_t>(m.rows()), nnz = static_cast<std::size_t>(m.nonZeros());
  return {to_numpy(std::vector<std::int64_t>(m.outerIndexPtr(), m.outerIndexPtr() + rows + 1), {rows + 1}),
          to_numpy(std::vector<std::int32_t>(m.innerIndexPtr(), m.innerIndexPtr() + nnz), {nnz}),
          to_numpy(std::vector<double>(m.valuePtr(), m.valuePtr() + nnz), {nnz})};
}

std::tuple<nb::ndarray<nb::numpy, std::int32_t>, nb::ndarray<nb::numpy, double>> scored_arrays(
    const std::vector<rec::scored>& s) {
  std::vector<std::int32_t> ids;
  std::vector<double> scores;
  for (const auto& x : s) {
    ids.push_back(x.index);
    scores.push_back(x.score);
  }
  return {to_numpy(std::move(ids), {s.size()}), to_numpy(std::move(scores), {s.size()})};
}

rec::similarity_options options_of(const std::string& measure, std::int32_t K, double K1, double B, double shrinkage,
                                   std::int32_t max_history) {
  rec::similarity_options o{.measure = rec::similarity_measure_from_string(measure),
                            .K = K,
                            .K1 = K1,
                            .B = B,
                            .shrinkage = shrinkage,
                            .max_history = max_history};
  o.validate();
  return o;
}

rec::recommend_options recommend_options_of(std::int32_t N, bool filter_already_liked_items,
                                            const std::optional<index_array>& filter_items,
                                            const std::optional<index_array>& items) {
  return {.N = N,
          .filter_already_liked_items = filter_already_liked_items,
          .filter_items = filter_items ? span_of<std::int32_t>(*filter_items) : std::span<const std::int32_t>(),
          .items = items ? span_of<std::int32_t>(*items) : std::span<const std::int32_t>()};
}

}  // namespace

void bind_recommend(nb::module_& m) {
  using model = rec::item_item_recommender;
  nb::class_<model>(m, "_ItemItemRecommender")
      .def(
          "__init__",
          [](model* self, const std::string& measure, std::int32_t K, double K1, double B, double shrinkage,
             std::int32_t max_history,
             int threads) { new (self) model(options_of(measure, K, K1, B, shrinkage, max_history), threads); },
          nb::arg("measure"), nb::arg("K"), nb::arg("K1"), nb::arg("B"), nb::arg("shrinkage"), nb::arg("max_history"),
          nb::arg("threads"))
      .def(
          "fit",
          [](model& self, std::int32_t rows, std::int32_t cols, const indptr_array& indptr, const index_array& indices,
             const value_array& data) {
            const rec::csr_view<double> v = view_of(rows, cols, indptr, indices, data, "fit: user_items");
            nb::gil_scoped_release unlocked;
            self.fit(rec::to_csr(v));
          },
          nb::arg("rows"), nb::arg("cols"), nb::arg("indptr"), nb::arg("indices"), nb::arg("data"))
      .def(
          "similar_items",
          [](const model& self, std::int32_t item, std::int32_t N, bool include_self) {
            std::vector<rec::scored> s;
            {
              nb::gil_scoped_release unlocked;
              s = self.similar_items(item, rec::similar_items_options{.N = N, .include_self = include_self});
            }
            return scored_arrays(s);
          },
          nb::arg("item"), nb::arg("N"), nb::arg("include_self"))
      .def(
          "recommend_row",
          [](const model& self, const index_array& liked, const value_array& values, std::int32_t N,
             bool filter_already_liked_items, std::optional<index_array> filter_items, std::optional<index_array> items) {
            std::vector<rec::scored> s;
            {
              nb::gil_scoped_release unlocked;
              s = self.recommend(span_of<std::int32_t>(liked), span_of<double>(values),
                                 recommend_options_of(N, filter_already_liked_items, filter_items, items));
            }
            return scored_arrays(s);
          },
          nb::arg("liked"), nb::arg("values"), nb::arg("N"), nb::arg("filter_already_liked_items"),
          nb::arg("filter_items").none(), nb::arg("items").none())
      .def(
          "recommend_rows",
          [](const model& self, std::int32_t rows, std::int32_t cols, const indptr_array& indptr, const index_array& indices,
             const value_array& data, std::int32_t N, bool filter_already_liked_items, std::optional<index_array> filter_items,
             std::optional<index_array> items, int threads) {
            const rec::csr_view<double> v = view_of(rows, cols, indptr, indices, data, "recommend: user_items");
            rec::recommendation_batch batch;
            {
              nb::gil_scoped_release unlocked;
              const rec::csr_matrix user_items = rec::to_csr(v);
              std::vector<std::int32_t> users(static_cast<std::size_t>(rows));
              for (std::int32_t u = 0; u < rows; ++u) users[static_cast<std::size_t>(u)] = u;
              batch = self.recommend(users, user_items, recommend_options_of(N, filter_already_liked_items, filter_items, items),
                                     threads);
            }
            const std::size_t n = static_cast<std::size_t>(rows), width = static_cast<std::size_t>(batch.N);
            return std::make_tuple(to_numpy(std::move(batch.ids), {n, width}), to_numpy(std::move(batch.scores), {n, width}));
          },
          nb::arg("rows"), nb::arg("cols"), nb::arg("indptr"), nb::arg("indices"), nb::arg("data"), nb::arg("N"),
          nb::arg("filter_already_liked_items"), nb::arg("filter_items").none(), nb::arg("items").none(), nb::arg("threads"))
      .def_prop_ro(
          "similarity_arrays", [](const model& self) { return arrays_of(self.similarity()); }, nb::rv_policy::move)
      .def_prop_ro("n_items", &model::n_items)
      .def_prop_ro("measure", [](const model& self) { return std::string(rec::to_string(self.options().measure)); })
      .def_prop_ro("K", [](const model& self) { return self.options().K; })
      .def_prop_ro("K1", [](const model& self) { return self.options().K1; })
      .def_prop_ro("B", [](const model& self) { return self.options().B; })
      .def_prop_ro("shrinkage", [](const model& self) { return self.options().shrinkage; })
      .def_prop_ro("max_history", [](const model& self) { return self.options().max_history; })
      .def_prop_rw("threads", &model::threads, &model::set_threads)
      .def("save", &model::save, nb::arg("path"))
      .def_static("load", &model::load, nb::arg("path"));

  // The block fit (include/shopml/recommend/item_block.hpp), driven by shopml.distributed.
  m.def(
      "_weighted_for_blocks",
      [](const model& like, std::int32_t rows, std::int32_t cols, const indptr_array& indptr, const index_array& indices,
         const value_array& data) {
        const rec::csr_view<double> v = view_of(rows, cols, indptr, indices, data, "fit: user_items");
        rec::csr_matrix by_user, by_item;
        {
          nb::gil_scoped_release unlocked;
          by_user = rec::weighted_for_blocks(rec::to_csr(v), like.options());
          by_item = by_user.transpose();
        }
        return std::make_tuple(arrays_of(by_user), arrays_of(by_item));
      },
      nb::arg("like"), nb::arg("rows"), nb::arg("cols"), nb::arg("indptr"), nb::arg("indices"), nb::arg("data"),
      "(by_user, by_item) CSR arrays: the weighted matrix `like`'s measure ranks, and its transpose.");
  m.def(
      "_item_block_knn",
      [](std::int32_t users, std::int32_t items, const indptr_array& user_indptr, const index_array& user_indices,
         const value_array& user_data, const indptr_array& item_indptr, const index_array& item_indices,
         const value_array& item_data, std::int32_t begin, std::int32_t end, std::int32_t K) {
        const rec::csr_view<double> by_user = view_of(users, items, user_indptr, user_indices, user_data, "item block: by_user");
        const rec::csr_view<double> by_item = view_of(items, users, item_indptr, item_indices, item_data, "item block: by_item");
        rec::item_block b;
        {
          nb::gil_scoped_release unlocked;
          b = rec::item_block_knn(by_user, by_item, begin, end, K);
        }
        const std::size_t rows = b.indptr.size(), nnz = b.indices.size();
        return std::make_tuple(to_numpy(std::move(b.indptr), {rows}), to_numpy(std::move(b.indices), {nnz}),
                               to_numpy(std::move(b.data), {nnz}));
      },
      nb::arg("users"), nb::arg("items"), nb::arg("user_indptr"), nb::arg("user_indices"), nb::arg("user_data"),
      nb::arg("item_indptr"), nb::arg("item_indices"), nb::arg("item_data"), nb::arg("begin"), nb::arg("end"), nb::arg("K"));
  m.def(
      "_item_item_from_blocks",
      [](const model& like, std::int32_t n_items,
         const std::vector<std::tuple<std::int32_t, std::int32_t, index_array, index_array, value_array>>& blocks) {
        std::vector<rec::item_block> parts;
        for (const auto& [begin, end, indptr, indices, data] : blocks) {
          const auto p = span_of<std::int32_t>(indptr), i = span_of<std::int32_t>(indices);
          const auto d = span_of<double>(data);
          parts.push_back({begin, end, {p.begin(), p.end()}, {i.begin(), i.end()}, {d.begin(), d.end()}});
        }
        nb::gil_scoped_release unlocked;
        model merged = rec::item_item_from_blocks(std::move(parts), n_items, like.options());
        merged.set_threads(like.threads());
        return merged;
      },
      nb::arg("like"), nb::arg("n_items"), nb::arg("blocks"),
      "The model `like` would be after a fit, from the blocks (begin, end, indptr, indices, data) of its similarity.");
}

}  // namespace shopml_python
