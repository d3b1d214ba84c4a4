// The sparse road at catalogue scale: neighbour lists on a generated 10^5-item catalogue
// (bench/recommend/power_law_interactions.hpp) identical to implicit 0.7.3's, stored as one
// hash per row plus sampled rows in tests/golden/recommend/power_law_1e5.safetensors
// (scripts/golden/recommend_scale.py); the interaction file format, the history cap and
// progress reporting.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden.hpp"
#include "power_law_interactions.hpp"
#include "shopml/recommend/csr_file.hpp"
#include "shopml/recommend/item_item.hpp"

using namespace shopml;
using namespace shopml::recommend;

namespace {

std::uint64_t fnv1a_row(const csr_matrix& m, std::int32_t row) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (csr_matrix::InnerIterator it(m, row); it; ++it) {
    const auto index = static_cast<std::uint32_t>(it.index());
    for (int byte = 0; byte < 4; ++byte) h = (h ^ ((index >> (8 * byte)) & 0xFFu)) * 0x100000001B3ull;
  }
  return h;
}

bench::power_law_spec golden_spec(const io::safetensors_file& golden) {
  const auto& meta = golden.metadata();
  return {.users = std::stoi(meta.at("users")),
          .items = std::stoi(meta.at("items")),
          .interactions = std::stoll(meta.at("interactions")),
          .exponent = std::stod(meta.at("exponent")),
          .user_exponent = std::stod(meta.at("user_exponent")),
          .seed = std::stoull(meta.at("seed"))};
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("shopml_test_scale_" + std::to_string(::getpid()) + "_" + name);
}

}  // namespace

TEST_CASE("parity: the sparse road's neighbours on a generated 10^5-item catalogue equal implicit's") {
  const auto golden = shopml::test::golden::open("recommend/power_law_1e5.safetensors");
  const auto log = bench::power_law_interactions(golden_spec(golden), 2);
  const csr_matrix user_items = to_csr(log.view());
  REQUIRE(user_items.nonZeros() == std::stoll(golden.metadata().at("interactions_stored")));
  for (const std::string name : {"cosine", "tfidf", "bm25"}) {
    CAPTURE(name);
    auto model = name == "cosine"  ? cosine_recommender(50, 2)
                 : name == "tfidf" ? tfidf_recommender(50, 2)
                                   : bm25_recommender(50, 1.2, 0.75, 2);
    model.fit(user_items, {.road = knn_road::sparse});
    const csr_matrix& s = model.similarity();
    const auto hashes = golden.raw(name + ".hash");
    REQUIRE(hashes.size() == static_cast<std::size_t>(s.rows()) * 8);
    std::int32_t mismatched = 0, first = -1;
    for (std::int32_t i = 0; i < s.rows(); ++i) {
      std::uint64_t expected = 0;
      std::memcpy(&expected, hashes.data() + static_cast<std::size_t>(i) * 8, 8);
      if (fnv1a_row(s, i) != expected && mismatched++ == 0) first = i;
    }
    INFO("first mismatched row: " << first);
    CHECK(mismatched == 0);

    const auto rows = golden.to_i64(name + ".sample_rows");
    const csr_matrix sample = test::golden_csr(golden, name + ".sample", s.cols());
    double worst = 0.0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const auto i = static_cast<std::int32_t>(rows[r]);
      csr_matrix::InnerIterator ours(s, i), theirs(sample, static_cast<std::int32_t>(r));
      for (; ours && theirs; ++ours, ++theirs) {
        REQUIRE(ours.index() == theirs.index());
        worst = std::max(worst, std::abs(ours.value() - theirs.value()) / std::max(1.0, std::abs(theirs.value())));
      }
      CHECK(!ours);
      CHECK(!theirs);
    }
    CHECK(worst <= 1e-12);
  }
}

TEST_CASE("all_pairs_knn: the sparse road is independent of the thread count and reports progress") {
  const auto log = bench::power_law_interactions({.users = 3000, .items = 2000, .interactions = 30000, .seed = 7}, 1);
  const csr_matrix w = normalize_items(to_csr(log.view()));
  const csr_matrix dense = all_pairs_knn(w, 10, {.threads = 1, .road = knn_road::dense});
  std::size_t last_done = 0, last_total = 0, calls = 0;
  const csr_matrix sparse =
      all_pairs_knn(w, 10, {.threads = 2, .road = knn_road::sparse, .progress = [&](std::size_t done, std::size_t total) {
                              CHECK(done >= last_done);
                              last_done = done;
                              last_total = total;
                              ++calls;
                            }});
  CHECK(last_total == 2000);
  CHECK(last_done == 2000);
  CHECK(calls >= 2);
  REQUIRE(dense.nonZeros() == sparse.nonZeros());
  CHECK(std::equal(dense.innerIndexPtr(), dense.innerIndexPtr() + dense.nonZeros(), sparse.innerIndexPtr()));
  CHECK(std::equal(dense.valuePtr(), dense.valuePtr() + dense.nonZeros(), sparse.valuePtr()));
  CHECK(std::equal(dense.outerIndexPtr(), dense.outerIndexPtr() + dense.rows() + 1, sparse.outerIndexPtr()));

  // A row that touches every item (a user who has them all), on both roads.
  const csr_matrix everything = normalize_items(to_csr({{0, 0, 1, 0}, {0, 1, 2, 0}, {0, 2, 3, 0}, {1, 1, 1, 0}}, 2, 3));
  const csr_matrix all_sparse = all_pairs_knn(everything, 2, {.threads = 1, .road = knn_road::sparse});
  CHECK(all_sparse.isApprox(all_pairs_knn(everything, 2, {.threads = 1, .road = knn_road::dense}), 0.0));
  CHECK(all_sparse.nonZeros() == 6);

  // A callback that throws stops the fit; the exception comes out of the call.
  CHECK_THROWS_WITH_AS(all_pairs_knn(w, 10,
                                     {.threads = 2,
                                      .road = knn_road::sparse,
                                      .progress =
                                          [](std::size_t done, std::size_t) {
                                            if (done >= 128) throw std::runtime_error("cancelled");
                                          }}),
                       "cancelled", std::runtime_error);
  // The dense road cannot run on negative weights, nor with a transform.
  csr_matrix negative = w;
  negative.valuePtr()[0] = -1.0;
  CHECK_THROWS_AS(all_pairs_knn(negative, 10, {.road = knn_road::dense}), value_error);
  CHECK_THROWS_AS(
      all_pairs_knn(w, 10, {.road = knn_road::dense}, [](std::int32_t, std::int32_t, double s, std::int32_t) { return s; }),
      value_error);
}

TEST_CASE("similarity_options: max_history caps long histories, off by default") {
  const auto log = bench::power_law_interactions({.users = 500, .items = 400, .interactions = 8000, .seed = 3}, 1);
  const csr_matrix m = to_csr(log.view());
  const csr_matrix capped = limit_history(m, 20);
  for (std::int32_t u = 0; u < m.rows(); ++u) {
    const std::int32_t had = m.outerIndexPtr()[u + 1] - m.outerIndexPtr()[u];
    const std::int32_t has = capped.outerIndexPtr()[u + 1] - capped.outerIndexPtr()[u];
    CHECK(has == std::min(had, 20));
    for (csr_matrix::InnerIterator it(capped, u); it; ++it) CHECK(m.coeff(u, it.index()) == it.value());
  }
  const csr_matrix again = limit_history(m, 20);
  CHECK(std::equal(capped.innerIndexPtr(), capped.innerIndexPtr() + capped.nonZeros(), again.innerIndexPtr()));
  CHECK_THROWS_AS(limit_history(m, 0), value_error);

  const csr_matrix uncapped = item_similarity(m, {.K = 10}, 1);
  const csr_matrix by_option = item_similarity(m, {.K = 10, .max_history = 20}, 1);
  const csr_matrix by_hand = item_similarity(capped, {.K = 10}, 1);
  CHECK(by_option.isApprox(by_hand, 0.0));
  CHECK(!by_option.isApprox(uncapped));
  CHECK_THROWS_AS(item_similarity(m, {.K = 10, .max_history = -1}, 1), value_error);

  // Saved and loaded with the model; a file without the entry loads as "no cap".
  auto model = cosine_recommender(10, 1);
  model = item_item_recommender({.K = 10, .max_history = 20}, 1);
  model.fit(m);
  CHECK(item_item_recommender::load_bytes(model.to_bytes()).options().max_history == 20);
}

TEST_CASE("csr_file: an interaction file round-trips, maps in place and refuses corrupt or truncated files") {
  const auto log = bench::power_law_interactions({.users = 200, .items = 1000, .interactions = 1500, .seed = 5}, 1);
  const auto path = temp_path("log.safetensors");
  save_csr(path, log.view());
  {
    const auto file = csr_file::open(path);
    CHECK(file.rows() == 200);
    CHECK(file.cols() == 1000);
    CHECK(file.nnz() == 1500);
    CHECK(file.value_type() == io::dtype::F32);
    const auto view = file.view<float>();
    CHECK(std::equal(view.indices.begin(), view.indices.end(), log.indices.begin()));
    CHECK(std::equal(view.data.begin(), view.data.end(), log.data.begin()));
    CHECK_THROWS_AS(file.view<double>(), value_error);
    const csr_matrix m = file.to_csr();
    CHECK(m.nonZeros() == 1500);
    const auto& records = to_csr(log.view());
    CHECK(m.isApprox(records, 0.0));

    // Doubles too, from a csr_matrix; an existing file is replaced whole.
    save_csr(path, m);
    CHECK(csr_file::open(path).value_type() == io::dtype::F64);
    CHECK(csr_file::open(path).to_csr().isApprox(m, 0.0));
  }

  const std::string bytes = io::read_file(path);
  const auto load = [](const std::string& b) {
    return csr_file::from_bytes(std::span(reinterpret_cast<const std::byte*>(b.data()), b.size()), "tampered");
  };
  for (const std::size_t keep : {std::size_t{0}, std::size_t{7}, std::size_t{64}, bytes.size() / 2, bytes.size() - 1})
    CHECK_THROWS_AS(load(bytes.substr(0, keep)), parse_error);

  // A bad matrix is refused before anything is written; the file stays as it was.
  std::vector<std::int32_t> indices(log.indices);
  std::swap(indices[0], indices[1]);  // user 0's items out of order
  const csr_view<float> unsorted{log.users, log.items, log.indptr, indices, log.data};
  CHECK_THROWS_WITH_AS(save_csr(path, unsorted), doctest::Contains("not strictly increasing"), parse_error);
  std::vector<float> data(log.data);
  data[3] = -1.0f;
  CHECK_THROWS_WITH_AS(save_csr(path, csr_view<float>{log.users, log.items, log.indptr, log.indices, data}),
                       doctest::Contains(">= 0"), parse_error);
  data[3] = std::nanf("");
  CHECK_THROWS_AS(save_csr(path, csr_view<float>{log.users, log.items, log.indptr, log.indices, data}), parse_error);
  CHECK_THROWS_WITH_AS(save_csr(path, csr_view<float>{log.users, 50, log.indptr, log.indices, log.data}),
                       doctest::Contains("out of range"), parse_error);
  std::vector<std::int64_t> indptr(log.indptr);
  indptr[1] = indptr[2] + 1;
  CHECK_THROWS_WITH_AS(save_csr(path, csr_view<float>{log.users, log.items, indptr, log.indices, log.data}),
                       doctest::Contains("decreases"), parse_error);
  CHECK(io::read_file(path) == bytes);
  CHECK(!std::filesystem::exists(path.string() + ".partial"));

  // A file missing a tensor, or with one of the wrong type, names it.
  const std::vector<std::int64_t> shape = {log.users, log.items};
  const io::tensor_view no_shape[] = {io::tensor_view("indptr", {log.indptr.size()}, log.indptr),
                                      io::tensor_view("indices", {log.indices.size()}, log.indices),
                                      io::tensor_view("data", {log.data.size()}, log.data)};
  const auto without = io::serialize_safetensors(no_shape);
  CHECK_THROWS_WITH_AS(csr_file::from_bytes(without), doctest::Contains("'shape'"), parse_error);
  const std::vector<double> wide_indices(log.indices.begin(), log.indices.end());
  const io::tensor_view wrong_type[] = {
      io::tensor_view("indptr", {log.indptr.size()}, log.indptr), io::tensor_view("indices", {wide_indices.size()}, wide_indices),
      io::tensor_view("data", {log.data.size()}, log.data), io::tensor_view("shape", {2}, shape)};
  CHECK_THROWS_WITH_AS(csr_file::from_bytes(io::serialize_safetensors(wrong_type)), doctest::Contains("'indices'"), parse_error);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(csr_file::open(path), io_error);
}

TEST_CASE("power_law_interactions: seeded, exact in size, the same at any thread count") {
  const bench::power_law_spec spec{.users = 1000, .items = 500, .interactions = 12000, .seed = 11};
  const auto a = bench::power_law_interactions(spec, 1);
  const auto b = bench::power_law_interactions(spec, 2);
  CHECK(a.indices == b.indices);
  CHECK(a.data == b.data);
  CHECK(a.indptr == b.indptr);
  CHECK(a.indices.size() == 12000);
  CHECK_NOTHROW(recommend::detail::validate_csr(a.view(), "generated"));
  std::int64_t longest = 0;
  for (std::size_t u = 0; u + 1 < a.indptr.size(); ++u) {
    CHECK(a.indptr[u + 1] > a.indptr[u]);
    longest = std::max(longest, a.indptr[u + 1] - a.indptr[u]);
  }
  CHECK(longest > 12 * 12000 / 1000);  // heavy-tailed: the busiest user far above the mean
  const auto c = bench::power_law_interactions({.users = 1000, .items = 500, .interactions = 12000, .seed = 12}, 1);
  CHECK(c.indices != a.indices);
  CHECK_THROWS_AS(bench::power_law_interactions({.users = 10, .items = 4, .interactions = 100}), std::invalid_argument);
}
