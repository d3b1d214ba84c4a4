// hnsw_index against the exact embedding_index: recall on real embeddings, filters at 1 %
// and 10 % of items, add / remove / replace, save / load / mmap, bad input, threads.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <vector>

#include "embeddings_data.hpp"
#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/hnsw_index.hpp"
#include "shopml/recommend/hybrid.hpp"

using namespace shopml;
using namespace shopml::recommend;

namespace {

// Seeded clustered points on the unit sphere: `clusters` random centres, each point a
// centre plus noise (the shape of product embeddings: groups of near-duplicates).
std::vector<float> clustered(std::size_t rows, std::size_t dim, std::size_t clusters, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(clusters * dim), x(rows * dim);
  for (auto& c : centres) c = normal(rng);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t c = rng() % clusters;
    double norm = 0;
    for (std::size_t d = 0; d < dim; ++d) {
      x[r * dim + d] = centres[c * dim + d] + 0.35f * normal(rng);
      norm += double(x[r * dim + d]) * x[r * dim + d];
    }
    for (std::size_t d = 0; d < dim; ++d) x[r * dim + d] /= static_cast<float>(std::sqrt(norm));
  }
  return x;
}

std::vector<std::int32_t> iota_ids(std::size_t n, std::int32_t from = 0) {
  std::vector<std::int32_t> ids(n);
  std::iota(ids.begin(), ids.end(), from);
  return ids;
}

double mean_recall(const knn_result& got, const knn_result& truth) {
  double r = 0;
  for (std::size_t q = 0; q < truth.queries(); ++q) r += test::overlap(got.ids_of(q), truth.ids_of(q));
  return r / static_cast<double>(truth.queries());
}

}  // namespace

TEST_CASE("hnsw_index: recall@10 against exact search on real MiniLM embeddings, float32 float16 and int8 storage") {
  const auto emb = test::golden_review_embeddings();
  const std::size_t dim = test::golden_dim, rows = emb.size() / dim;
  const embedding_index<> exact(emb, dim, embedding_metric::cosine, 2);
  const auto truth = exact.search(emb, 10, 2);
  for (const auto storage : {vector_storage::f32, vector_storage::f16, vector_storage::i8}) {
    hnsw_index<> index(dim, {.M = 16, .ef_construction = 100, .storage = storage});
    index.add(iota_ids(rows), emb, {.threads = 1});  // one build thread: the same graph, and recall, on every run
    CHECK(index.size() == rows);
    const auto got = index.search(emb, 10, {.ef = 64, .threads = 2});
    const double recall = mean_recall(got, truth);
    MESSAGE(to_string(storage), ": recall@10 ", recall, ", ", index.bytes_per_item(), " bytes per item");
    CHECK(recall >= 0.97);
    if (storage == vector_storage::i8) CHECK(index.bytes_per_item() < 700);
  }
}

TEST_CASE("hnsw_index: recall on seeded clustered vectors, and a larger ef finds more") {
  const std::size_t dim = 64, rows = 8000;
  auto x = clustered(rows + 200, dim, 80, 5);  // the last 200 rows are the queries
  const std::vector<float> queries(x.end() - 200 * dim, x.end());
  x.resize(rows * dim);
  const embedding_index<> exact(x, dim, embedding_metric::cosine, 2);
  const auto truth = exact.search(queries, 10, 2);
  hnsw_index<> index(dim, {.M = 12, .ef_construction = 100});
  index.add(iota_ids(rows), x, {.threads = 2});
  const double low = mean_recall(index.search(queries, 10, {.ef = 10}), truth);
  const double high = mean_recall(index.search(queries, 10, {.ef = 128}), truth);
  MESSAGE("recall@10 ef=10: ", low, ", ef=128: ", high);
  CHECK(high >= 0.97);
  CHECK(high >= low);
}

TEST_CASE("hnsw_index: filtered search at 1 % and 10 % of items keeps recall and returns only passing items") {
  const std::size_t dim = 64, rows = 8000;
  auto x = clustered(rows + 100, dim, 80, 7);  // the last 100 rows are the queries
  const std::vector<float> queries(x.end() - 100 * dim, x.end());
  x.resize(rows * dim);
  hnsw_index<> index(dim, {.M = 12, .ef_construction = 100, .storage = vector_storage::i8});
  index.add(iota_ids(rows), x, {.threads = 2});
  for (const std::int32_t every : {100, 10}) {
    const auto pass = [&](std::int32_t id) { return id % every == 3; };
    // Truth: exact search over the passing rows only.
    std::vector<float> kept;
    std::vector<std::int32_t> kept_ids;
    for (std::size_t r = 0; r < rows; ++r)
      if (pass(static_cast<std::int32_t>(r))) {
        kept.insert(kept.end(), x.begin() + static_cast<std::ptrdiff_t>(r * dim),
                    x.begin() + static_cast<std::ptrdiff_t>((r + 1) * dim));
        kept_ids.push_back(static_cast<std::int32_t>(r));
      }
    const auto truth_rows = embedding_index<>(kept, dim).search(queries, 10);
    knn_result truth = truth_rows;
    for (auto& id : truth.ids) id = kept_ids[static_cast<std::size_t>(id)];
    const auto allowed = index.filter(pass);
    CHECK(allowed.count() == kept_ids.size());
    const auto got = index.search(queries, 10, allowed, {.ef = 64});
    for (auto id : got.ids) CHECK((id >= 0 && pass(id)));
    const double recall = mean_recall(got, truth);
    MESSAGE("1/", every, " of items pass: filtered recall@10 ", recall);
    CHECK(recall >= 0.95);
  }
  // A filter passing 3 items pads with -1 beyond them; an empty one returns nothing.
  const auto three = index.filter([](std::int32_t id) { return id < 3; });
  const auto few = index.search(std::span<const float>(queries).first(dim), 10, three);
  CHECK(few.ids_of(0)[2] >= 0);
  CHECK(few.ids_of(0)[3] == -1);
  const auto none = index.search(std::span<const float>(queries).first(dim), 5, index.filter([](std::int32_t) { return false; }));
  CHECK(none.ids_of(0)[0] == -1);
}

TEST_CASE("hnsw_index: add, remove and replace items without a rebuild, and bad input leaves the index unchanged") {
  const std::size_t dim = 32, rows = 2000;
  const auto x = clustered(rows, dim, 20, 9);
  hnsw_index<> index(dim, {.M = 8, .ef_construction = 64, .storage = vector_storage::f16});
  index.add(iota_ids(rows / 2), std::span<const float>(x).first(rows / 2 * dim), {.threads = 1});
  index.add(iota_ids(rows / 2, static_cast<std::int32_t>(rows / 2)), std::span<const float>(x).subspan(rows / 2 * dim),
            {.threads = 2});
  CHECK(index.size() == rows);
  const std::span<const float> q7 = std::span<const float>(x).subspan(7 * dim, dim);
  CHECK(index.search(q7, 1).ids_of(0)[0] == 7);

  // remove: 7 never comes back; unknown ids are refused before anything is removed
  index.remove(7);
  CHECK_FALSE(index.contains(7));
  for (auto id : index.search(q7, 20).ids) CHECK(id != 7);
  const std::vector<std::int32_t> bad = {8, 123456};
  CHECK_THROWS_WITH_AS(index.remove(bad), doctest::Contains("123456"), value_error);
  CHECK(index.contains(8));
  CHECK(index.size() == rows - 1);

  // replace: id 9 takes row 7's vector; re-adding 7 brings it back
  const std::vector<std::int32_t> nine = {9};
  index.add(nine, q7);
  CHECK(index.deleted_slots() == 2);
  const auto hit = index.search(q7, 1);
  CHECK(hit.ids_of(0)[0] == 9);
  CHECK(hit.scores_of(0)[0] == doctest::Approx(1.0f).epsilon(1e-3));
  const std::vector<std::int32_t> seven = {7};
  index.add(seven, q7);
  CHECK(index.size() == rows);

  // bad input: nothing changes
  const auto before = index.search(q7, 5);
  std::vector<float> nan_row(q7.begin(), q7.end());
  nan_row[3] = NAN;
  const std::vector<std::int32_t> fresh = {99999};
  CHECK_THROWS_WITH_AS(index.add(fresh, nan_row), doctest::Contains("id 99999"), value_error);
  CHECK_THROWS_AS(index.add(fresh, std::span<const float>(x).first(dim - 1)), shape_error);
  const std::vector<std::int32_t> twice = {5000, 5000};
  CHECK_THROWS_WITH_AS(index.add(twice, std::span<const float>(x).first(2 * dim)), doctest::Contains("twice"), value_error);
  std::vector<float> huge(q7.begin(), q7.end());
  huge[0] = 1e6f;
  hnsw_index<> dot16(dim, {.storage = vector_storage::f16, .metric = embedding_metric::inner_product});
  CHECK_THROWS_WITH_AS(dot16.add(fresh, huge), doctest::Contains("float16"), value_error);
  CHECK(dot16.size() == 0);
  CHECK_THROWS_AS(index.search(std::span<const float>(x).first(dim - 1), 5), shape_error);
  CHECK_THROWS_WITH_AS(index.search(nan_row, 5), doctest::Contains("query 0"), value_error);
  CHECK_THROWS_WITH_AS(index.search(q7, rows + 1), doctest::Contains("exceeds"), value_error);
  CHECK_THROWS_AS(index.search(q7, 0), value_error);
  CHECK_FALSE(index.contains(99999));
  CHECK(index.size() == rows);
  CHECK(index.search(q7, 5).ids == before.ids);
  // a progress callback that throws stops the add; the ids it held are not added
  const std::vector<std::int32_t> more = iota_ids(300, 10000);
  CHECK_THROWS_AS(index.add(more, std::span<const float>(x).first(300 * dim),
                            {.progress = [](std::size_t, std::size_t) { throw value_error("stop"); }}),
                  value_error);
  CHECK_FALSE(index.contains(10000));
  CHECK(index.size() == rows);
  CHECK(index.search(q7, 5).ids == before.ids);
  // a filter made before an add is refused after it
  const auto old_filter = index.filter([](std::int32_t) { return true; });
  index.add(fresh, q7);
  CHECK_THROWS_WITH_AS(index.search(q7, 5, old_filter), doctest::Contains("make it again"), value_error);
}

TEST_CASE("hnsw_index: save, load and memory-mapped load give the same answers, corrupt files are refused") {
  const std::size_t dim = 48, rows = 1500;
  const auto x = clustered(rows, dim, 15, 11);
  const auto dir = std::filesystem::temp_directory_path() / "shopml_test_hnsw";
  std::filesystem::create_directories(dir);
  for (const auto storage : {vector_storage::f32, vector_storage::i8}) {
    hnsw_index<> index(dim, {.M = 8, .ef_construction = 64, .storage = storage});
    index.add(iota_ids(rows), x, {.threads = 2});
    index.remove(std::vector<std::int32_t>{3, 4});
    const auto path = dir / ("index_" + std::string(to_string(storage)) + ".hnsw");
    index.save(path);
    const auto want = index.search(x, 10, {.ef = 32});
    const auto loaded = hnsw_index<>::load(path);
    auto mapped = hnsw_index<>::load_mapped(path);
    CHECK(mapped.mapped());
    CHECK(loaded.size() == rows - 2);
    CHECK(loaded.search(x, 10, {.ef = 32}).ids == want.ids);
    CHECK(mapped.search(x, 10, {.ef = 32}).ids == want.ids);
    CHECK(mapped.search(x, 10, {.ef = 32}).scores == want.scores);
    // a mapped index copies itself into memory on the first change
    mapped.add(std::vector<std::int32_t>{3}, std::span<const float>(x).subspan(3 * dim, dim));
    CHECK_FALSE(mapped.mapped());
    CHECK(mapped.search(std::span<const float>(x).subspan(3 * dim, dim), 1).ids_of(0)[0] == 3);

    // corrupt, truncated, foreign, missing
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto write = [&](const std::string& b) {
      std::ofstream(dir / "bad.hnsw", std::ios::binary | std::ios::trunc).write(b.data(), static_cast<std::streamsize>(b.size()));
    };
    std::string flipped = bytes;
    flipped[flipped.size() / 2] ^= 0x10;
    write(flipped);
    CHECK_THROWS_WITH_AS(hnsw_index<>::load(dir / "bad.hnsw"), doctest::Contains("checksum"), parse_error);
    CHECK_THROWS_WITH_AS(hnsw_index<>::load_mapped(dir / "bad.hnsw"), doctest::Contains("bad.hnsw"), parse_error);
    write(bytes.substr(0, bytes.size() - 100));
    CHECK_THROWS_WITH_AS(hnsw_index<>::load(dir / "bad.hnsw"), doctest::Contains("truncated"), parse_error);
    write(bytes.substr(0, 40));
    CHECK_THROWS_WITH_AS(hnsw_index<>::load(dir / "bad.hnsw"), doctest::Contains("no header"), parse_error);
    write(std::string(200, 'x'));
    CHECK_THROWS_WITH_AS(hnsw_index<>::load(dir / "bad.hnsw"), doctest::Contains("magic"), parse_error);
    CHECK_THROWS_AS(hnsw_index<>::load(dir / "missing.hnsw"), io_error);
    // a save that cannot write leaves no file behind
    CHECK_THROWS_AS(index.save(dir / "no_such_dir" / "x.hnsw"), io_error);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("hnsw_index: a file whose upper-level link points to a slot below that level is refused") {
  // Found by fuzz/hnsw_file: such a link made a search read past the target's links.
  const std::size_t dim = 16, rows = 400;
  const auto x = clustered(rows, dim, 4, 5);
  hnsw_index<> index(dim, {.M = 4, .ef_construction = 32});
  index.add(iota_ids(rows), x, {.threads = 1});
  const auto path = std::filesystem::temp_directory_path() / "shopml_test_hnsw_levels.hnsw";
  index.save(path);
  std::vector<std::uint64_t> aligned(std::filesystem::file_size(path) / 8 + 1);
  const std::size_t size = std::filesystem::file_size(path);
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(aligned.data()), static_cast<std::streamsize>(size));
  std::filesystem::remove(path);
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(aligned.data()), size);
  const auto view = read_hnsw_file(bytes, "levels.hnsw");
  const auto level0 = static_cast<std::int32_t>(std::find(view.levels.begin(), view.levels.end(), 0) - view.levels.begin());
  std::size_t first_upper = 0;  // the first slot with a level-1 list holding a link
  while (view.levels[first_upper] == 0) ++first_upper;
  REQUIRE(view.upper[0] > 0);
  REQUIRE(static_cast<std::size_t>(level0) != first_upper);
  auto* upper = const_cast<std::int32_t*>(view.upper.data());
  upper[1] = level0;
  const std::string expected = "links to " + std::to_string(level0) + " at level 1";
  CHECK_THROWS_WITH_AS(hnsw_index<>::from_bytes(bytes, "levels.hnsw", false), doctest::Contains(expected.c_str()), parse_error);
}

TEST_CASE("hnsw_index: one build thread gives the same graph on every run, and search threads do not change answers") {
  const std::size_t dim = 32, rows = 3000;
  const auto x = clustered(rows, dim, 30, 13);
  hnsw_index<> a(dim, {.M = 8, .ef_construction = 64}), b(dim, {.M = 8, .ef_construction = 64});
  a.add(iota_ids(rows), x, {.threads = 1});
  b.add(iota_ids(rows), x, {.threads = 1});
  const auto one = a.search(x, 10, {.ef = 32, .threads = 1});
  CHECK(b.search(x, 10, {.ef = 32, .threads = 1}).ids == one.ids);
  const auto two = a.search(x, 10, {.ef = 32, .threads = 2});
  CHECK(two.ids == one.ids);
  CHECK(two.scores == one.scores);
  hnsw_index<> c(dim, {.M = 8, .ef_construction = 64});
  c.add(iota_ids(rows), x, {.threads = 2});  // a different graph, the same quality
  const auto truth = embedding_index<>(x, dim).search(x, 10);
  CHECK(mean_recall(c.search(x, 10, {.ef = 32}), truth) >= 0.95);
}

TEST_CASE("hybrid_similar_items: the approximate index serves as the content side") {
  const csr_matrix m = to_csr({{0, 0, 1, 0}, {0, 1, 1, 0}, {1, 0, 1, 0}, {1, 2, 1, 0}, {2, 3, 1, 0}, {2, 1, 1, 0}}, 3, 5);
  auto cf = cosine_recommender(5, 1);
  cf.fit(m);
  const std::vector<float> content = {1, 0, 0, 0.8f, 0.6f, 0, 0, 1, 0, 0, 0.6f, 0.8f, 0.95f, 0.31f, 0};
  const embedding_index<> exact(content, 3);
  hnsw_index<> approx(3);
  approx.add(iota_ids(5), content);
  const auto want = hybrid_similar_items(cf, exact, 4, 3, 0.7);
  const auto got = hybrid_similar_items(cf, approx, 4, 3, 0.7);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].index == want[i].index);
    CHECK(got[i].score == doctest::Approx(want[i].score));
  }
}
