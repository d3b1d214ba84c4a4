// Embedding search: EmbeddingIndex (exact) and HnswIndex (approximate). search returns
// (scores, ids) as faiss's (D, I): float32 and int64 arrays [queries × k], best first.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "bindings.hpp"
#include "shopml/error.hpp"
#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/hnsw_index.hpp"

namespace shopml_python {

namespace rec = shopml::recommend;

namespace {

using vectors_array = input_array<float, nb::ndim<2>>;

rec::embedding_metric metric_named(const std::string& name) {
  if (name == "cosine") return rec::embedding_metric::cosine;
  if (name == "inner_product") return rec::embedding_metric::inner_product;
  throw shopml::value_error("metric must be 'cosine' or 'inner_product', got '" + name + "'");
}

rec::vector_storage storage_named(const std::string& name) {
  for (auto s : {rec::vector_storage::f32, rec::vector_storage::f16, rec::vector_storage::i8})
    if (name == rec::to_string(s)) return s;
  throw shopml::value_error("storage must be 'f32', 'f16' or 'i8', got '" + name + "'");
}

std::span<const float> values_of(const vectors_array& a, std::size_t dim, const char* what) {
  if (a.shape(1) != dim)
    throw shopml::shape_error(std::string(what) + ": rows of " + std::to_string(a.shape(1)) + " values, the index has dim " +
                              std::to_string(dim));
  return {a.data(), a.shape(0) * a.shape(1)};
}

std::tuple<nb::ndarray<nb::numpy, float>, nb::ndarray<nb::numpy, std::int64_t>> hits_arrays(rec::knn_result&& r) {
  const std::size_t q = r.queries(), k = r.k;
  std::vector<std::int64_t> ids(r.ids.begin(), r.ids.end());
  return {to_numpy(std::move(r.scores), {q, k}), to_numpy(std::move(ids), {q, k})};
}

using exact_index = rec::embedding_index<>;
using hnsw_index = rec::hnsw_index<>;

}  // namespace

void bind_search(nb::module_& m) {
  nb::class_<exact_index>(
      m, "EmbeddingIndex",
      "Exact k-nearest-neighbour search over float32 rows (cosine or inner product), built from all rows at once.")
      .def(
          "__init__",
          [](exact_index* self, const vectors_array& vectors, const std::string& metric, const std::string& storage,
             int threads) {
            const auto met = metric_named(metric);
            const auto sto = storage_named(storage);
            std::vector<float> rows(vectors.data(), vectors.data() + vectors.shape(0) * vectors.shape(1));
            const std::size_t dim = vectors.shape(1);
            nb::gil_scoped_release unlocked;
            new (self) exact_index(std::move(rows), dim, met, threads, sto);
          },
          nb::arg("vectors"), nb::arg("metric") = "cosine", nb::arg("storage") = "f32", nb::arg("threads") = 0)
      .def(
          "search",
          [](const exact_index& self, const vectors_array& queries, std::size_t k, int threads) {
            const auto q = values_of(queries, self.dim(), "EmbeddingIndex.search: queries");
            rec::knn_result r;
            {
              nb::gil_scoped_release unlocked;
              r = self.search(q, k, threads);
            }
            return hits_arrays(std::move(r));
          },
          nb::arg("queries"), nb::arg("k"), nb::arg("threads") = 0,
          "(scores, ids) [queries × min(k, ntotal)]: descending score, ties by lower row.")
      .def_prop_ro("ntotal", &exact_index::size)
      .def("__len__", &exact_index::size)
      .def_prop_ro("d", &exact_index::dim)
      .def_prop_ro("metric",
                   [](const exact_index& self) {
                     return std::string(self.metric() == rec::embedding_metric::cosine ? "cosine" : "inner_product");
                   })
      .def_prop_ro("storage_bytes", &exact_index::storage_bytes)
      .def_ro_static(
          "block_rows", &exact_index::block_rows,
          "Rows scored together; shards whose sizes are multiples of it score every row bit for bit as one index does.");

  nb::class_<hnsw_index>(m, "HnswIndex", "Approximate search: a hierarchical navigable small world graph (hnswlib's algorithm).")
      .def(
          "__init__",
          [](hnsw_index* self, std::size_t dim, std::size_t M, std::size_t ef_construction, const std::string& metric,
             const std::string& storage, std::uint64_t seed) {
            new (self) hnsw_index(dim, rec::hnsw_options{.M = M,
                                                         .ef_construction = ef_construction,
                                                         .storage = storage_named(storage),
                                                         .metric = metric_named(metric),
                                                         .seed = seed});
          },
          nb::arg("dim"), nb::arg("M") = 16, nb::arg("ef_construction") = 200, nb::arg("metric") = "cosine",
          nb::arg("storage") = "f32", nb::arg("seed") = 100)
      .def(
          "add",
          [](hnsw_index& self, const vectors_array& vectors, std::optional<input_array<std::int32_t, nb::ndim<1>>> ids,
             int threads) {
            const auto values = values_of(vectors, self.dim(), "HnswIndex.add: vectors");
            std::vector<std::int32_t> own_ids;
            std::span<const std::int32_t> id_span;
            if (ids) {
              id_span = {ids->data(), ids->shape(0)};
            } else {  // no ids: the next free row numbers, as hnswlib's add_items without ids
              own_ids.resize(vectors.shape(0));
              for (std::size_t i = 0; i < own_ids.size(); ++i) own_ids[i] = static_cast<std::int32_t>(self.slots() + i);
              id_span = own_ids;
            }
            nb::gil_scoped_release unlocked;
            self.add(id_span, values, {.threads = threads});
          },
          nb::arg("vectors"), nb::arg("ids") = nb::none(), nb::arg("threads") = 0,
          "Inserts rows under `ids` (int32; an id already present is replaced).")
      .def(
          "remove",
          [](hnsw_index& self, const input_array<std::int32_t, nb::ndim<1>>& ids) {
            self.remove({ids.data(), ids.shape(0)});
          },
          nb::arg("ids"))
      .def(
          "search",
          [](const hnsw_index& self, const vectors_array& queries, std::size_t k, std::size_t ef,
             std::optional<input_array<std::int32_t, nb::ndim<1>>> allowed_ids, int threads) {
            const auto q = values_of(queries, self.dim(), "HnswIndex.search: queries");
            rec::knn_result r;
            {
              nb::gil_scoped_release unlocked;
              const rec::hnsw_search_options how{.ef = ef, .threads = threads};
              if (allowed_ids) {
                const std::unordered_set<std::int32_t> allowed(allowed_ids->data(), allowed_ids->data() + allowed_ids->shape(0));
                r = self.search(q, k, self.filter([&](std::int32_t id) { return allowed.count(id) != 0; }), how);
              } else {
                r = self.search(q, k, how);
              }
            }
            return hits_arrays(std::move(r));
          },
          nb::arg("queries"), nb::arg("k"), nb::arg("ef") = 64, nb::arg("allowed_ids") = nb::none(), nb::arg("threads") = 0,
          "(scores, ids) [queries × k], best first; with allowed_ids only those items are returned.")
      .def("__len__", &hnsw_index::size)
      .def("__contains__", &hnsw_index::contains, nb::arg("id"))
      .def_prop_ro("dim", &hnsw_index::dim)
      .def("save", &hnsw_index::save, nb::arg("path"))
      .def_static("load", &hnsw_index::load, nb::arg("path"))
      .def_static("load_mapped", &hnsw_index::load_mapped, nb::arg("path"),
                  "Reads the vectors and graph in place from a mapped file.");
}

}  // namespace shopml_python
