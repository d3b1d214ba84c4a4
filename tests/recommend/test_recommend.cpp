// Interactions, similarity measures, recommenders, splits, save/load and bad input.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>

#include "golden.hpp"
#include "shopml/recommend/item_item.hpp"
#include "shopml/recommend/split.hpp"
#include "shopml/recommend/user_user.hpp"

using namespace shopml;
using namespace shopml::recommend;

namespace {

// 4 users × 5 items; item 4 has no interactions.
csr_matrix tiny() {
  return to_csr({{0, 0, 1, 0}, {0, 1, 2, 0}, {1, 0, 3, 0}, {1, 2, 1, 0}, {2, 1, 1, 0}, {2, 2, 4, 0}, {3, 0, 2, 0}, {3, 3, 5, 0}},
                4, 5);
}

double entry(const csr_matrix& m, int r, int c) { return m.coeff(r, c); }

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("shopml_recommend_" + name);
}

}  // namespace

TEST_CASE("interactions: external ids map to dense indices and back, duplicates by policy") {
  interactions<std::string> log;
  log.add("alice", "sku-1", 2.0, 10);
  log.add("bob", "sku-2", 1.0, 11);
  log.add("alice", "sku-1", 3.0, 12);  // summed, latest timestamp kept
  log.add("bob", "sku-3", 0.0, 13);    // zero = no interaction
  CHECK(log.n_users() == 2);
  CHECK(log.n_items() == 3);
  CHECK(log.users().index("bob") == 1);
  CHECK(log.items().id(2) == "sku-3");
  const csr_matrix m = log.user_items();
  CHECK(m.nonZeros() == 2);
  CHECK(entry(m, 0, 0) == 5.0);
  CHECK(log.records().front().timestamp == 12);
  CHECK_THROWS_AS(log.users().index("carol"), value_error);
  CHECK_THROWS_AS(log.items().id(7), value_error);

  interactions<std::int64_t> strict(duplicate_policy::reject);
  strict.add(7, 70);
  strict.add(7, 70);
  CHECK_THROWS_WITH_AS(strict.records(), doctest::Contains("duplicate interaction (user '7', item '70')"), value_error);

  CHECK_THROWS_AS(log.add("x", "y", -1.0), value_error);
  CHECK_THROWS_AS(log.add("x", "y", std::nan("")), value_error);
  CHECK_THROWS_AS(log.add("x", "y", INFINITY), value_error);
}

TEST_CASE("read_interactions: CSV with header, errors name the line") {
  const auto path = temp_path("log.csv");
  {
    std::ofstream out(path);
    out << "user,item,value\nu1,i1,1.5\nu2,i1,2\nu1,i2,1\n";
  }
  const auto log = read_interactions(path);
  CHECK(log.n_users() == 2);
  CHECK(log.user_items().coeff(0, 0) == 1.5);
  {
    std::ofstream out(path);
    out << "user,item,value\nu1,i1,1\nu2,i1,abc\n";
  }
  CHECK_THROWS_WITH_AS(read_interactions(path), doctest::Contains("line 3"), parse_error);
  {
    std::ofstream out(path);
    out << "user,item,value\nu1,i1,-2\n";
  }
  CHECK_THROWS_WITH_AS(read_interactions(path), doctest::Contains("line 2"), parse_error);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(read_interactions(path), io_error);
}

TEST_CASE("weighting: cosine, TF-IDF and BM25 by hand on a tiny matrix") {
  const csr_matrix m = tiny();
  const csr_matrix cos = normalize_items(m);
  CHECK(entry(cos, 1, 0) == doctest::Approx(3.0 / std::sqrt(1 + 9 + 4.0)));
  const csr_matrix tfidf = tfidf_weight(m);
  // user 3 has 2 items among 5: idf = log 5 - log 3
  CHECK(entry(tfidf, 3, 3) == doctest::Approx(std::sqrt(5.0) * (std::log(5.0) - std::log(3.0))));
  const csr_matrix bm25 = bm25_weight(m, 1.2, 0.75);
  const double mean_len = (6.0 + 3 + 5 + 5 + 0) / 5;
  const double ln = 0.25 + 0.75 * 6.0 / mean_len;
  CHECK(entry(bm25, 1, 0) == doctest::Approx(3.0 * 2.2 / (1.2 * ln + 3.0) * (std::log(5.0) - std::log(3.0))));
  CHECK(recommend::detail::numpy_pairwise_sum(std::vector<double>(1000, 0.1).data(), 1000) == doctest::Approx(100.0));
}

TEST_CASE("similarity measures: Jaccard, Pearson, adjusted cosine and shrinkage by hand") {
  const csr_matrix m = tiny();
  auto sim = [&](similarity_measure measure, double shrinkage = 0.0) {
    return item_similarity(m, {.measure = measure, .K = 5, .shrinkage = shrinkage}, 1);
  };
  // items 0 {u0,u1,u3} and 1 {u0,u2}: one shared user of four
  CHECK(entry(sim(similarity_measure::jaccard), 0, 1) == doctest::Approx(1.0 / 4));
  CHECK(entry(sim(similarity_measure::jaccard, 2.0), 0, 1) == doctest::Approx(0.25 * 1 / 3.0));
  const double cos01 = entry(sim(similarity_measure::cosine), 0, 1);
  CHECK(cos01 == doctest::Approx(2.0 / (std::sqrt(14.0) * std::sqrt(5.0))));
  CHECK(entry(sim(similarity_measure::cosine, 1.0), 0, 1) == doctest::Approx(cos01 * 0.5));
  // Pearson: item means 2 and 1.5 → centred 0:(-1,1,0) over (u0,u1,u3), 1:(0.5,-0.5) over (u0,u2)
  CHECK(entry(sim(similarity_measure::pearson), 0, 1) == doctest::Approx(-0.5 / (std::sqrt(2.0) * std::sqrt(0.5))));
  // adjusted cosine: user means u0 1.5, u1 2, u2 2.5, u3 3.5
  const double a0[] = {-0.5, 1.0, -1.5}, a1[] = {0.5, -1.5};
  const double n0 = std::sqrt(a0[0] * a0[0] + a0[1] * a0[1] + a0[2] * a0[2]), n1 = std::sqrt(a1[0] * a1[0] + a1[1] * a1[1]);
  CHECK(entry(sim(similarity_measure::adjusted_cosine), 0, 1) == doctest::Approx(a0[0] * a1[0] / (n0 * n1)));
  // the item without interactions has no neighbours and is nobody's neighbour
  const csr_matrix s = sim(similarity_measure::cosine);
  CHECK(s.outerIndexPtr()[5] - s.outerIndexPtr()[4] == 0);
  CHECK(s.col(4).sum() == 0.0);
}

TEST_CASE("all_pairs_knn: ties at the K-th place are broken as implicit's TopK does") {
  // Item 0 shares one user with each of items 1..4, with equal weights: five-way tie for K=2.
  // implicit visits candidates in reverse order of first touch (users ascending, items
  // ascending): 4, 3, 2, 1, 0 (item 0 first touched by user 0). TopK takes 4 and 3, refuses
  // 2 and 1 (a tie is not an improvement), then item 0's score 4 evicts the smallest pair,
  // (1, 3): {0, 4}. Breaking ties by lower index would give {0, 1}.
  std::vector<interaction> r;
  for (int u = 0; u < 4; ++u) {
    r.push_back({u, 0, 1, 0});
    r.push_back({u, u + 1, 1, 0});
  }
  const csr_matrix m = to_csr(r, 4, 5);
  for (const bool symmetric_road : {true, false}) {
    const csr_matrix s = symmetric_road
                             ? all_pairs_knn(m, 2, 1)
                             : all_pairs_knn(m, 2, 1, [](std::int32_t, std::int32_t, double x, std::int32_t) { return x; });
    CAPTURE(symmetric_road);
    std::vector<std::int64_t> row0;
    for (csr_matrix::InnerIterator it(s, 0); it; ++it) row0.push_back(it.index());
    CHECK(row0 == std::vector<std::int64_t>{0, 4});  // item 0 scores 4 (itself), then the tie
  }
  CHECK_THROWS_AS(all_pairs_knn(m, 0, 1), value_error);
}

TEST_CASE("item_item_recommender: thread counts, symmetric and generic roads agree on MovieLens") {
  const csr_matrix m = to_csr(test::movielens_records(), test::movielens_users, test::movielens_items);
  const csr_matrix w = weighted_for(m, {.measure = similarity_measure::cosine});
  const csr_matrix fast = all_pairs_knn(w, 20, 2);
  const csr_matrix generic = all_pairs_knn(w, 20, 1, [](std::int32_t, std::int32_t, double x, std::int32_t) { return x; });
  REQUIRE(fast.nonZeros() == generic.nonZeros());
  CHECK(std::equal(fast.innerIndexPtr(), fast.innerIndexPtr() + fast.nonZeros(), generic.innerIndexPtr()));
  CHECK(std::equal(fast.valuePtr(), fast.valuePtr() + fast.nonZeros(), generic.valuePtr()));

  auto one = cosine_recommender(20, 1);
  one.fit(m);
  std::vector<std::int32_t> users(50);
  std::iota(users.begin(), users.end(), 0);
  const auto a = one.recommend(users, m, {.N = 5}, 1);
  const auto b = one.recommend(users, m, {.N = 5}, 3);
  CHECK(a.ids == b.ids);
  CHECK(a.scores == b.scores);
}

TEST_CASE("item_item_recommender: recommend filters, bad input and documented edge cases") {
  const csr_matrix m = tiny();
  auto model = cosine_recommender(3, 1);
  model.fit(m);
  CHECK(model.n_items() == 5);

  const auto recs = model.recommend(0, m, {.N = 10});
  for (const auto& r : recs) CHECK(r.index != 4);  // never reached through a neighbour
  CHECK(recs.size() <= 4);                         // N beyond the candidates: fewer
  // liked items are kept with score 0 (implicit's behaviour), ranked after positive scores
  for (const auto& r : recs)
    if (r.index == 0 || r.index == 1) CHECK(r.score == 0.0);

  const std::int32_t banned[] = {2};
  for (const auto& r : model.recommend(0, m, {.N = 10, .filter_items = banned})) CHECK(r.index != 2);
  const std::int32_t only[] = {3, 4};
  const auto restricted = model.recommend(0, m, {.N = 10, .items = only});
  REQUIRE(restricted.size() == 2);
  CHECK(restricted.back().index == 4);
  CHECK(restricted.back().score == missing_score);
  CHECK_THROWS_AS(model.recommend(0, m, {.N = 10, .filter_items = banned, .items = only}), value_error);

  // a user with no interactions: empty list; batch rows padded as implicit pads them
  const csr_matrix with_empty = to_csr({{0, 0, 1, 0}}, 2, 5);
  CHECK(model.recommend(1, with_empty, {}).empty());
  const std::int32_t both[] = {0, 1};
  const auto batch = model.recommend(both, with_empty, {.N = 3});
  CHECK(batch.ids_of(1)[0] == -1);
  CHECK(batch.scores_of(1)[0] == missing_score);

  CHECK_THROWS_AS(model.recommend(9, m), value_error);
  CHECK_THROWS_AS(model.recommend(0, m, {.N = 0}), value_error);
  const std::int32_t bad_item[] = {7};
  const double one_value[] = {1.0}, nan_value[] = {std::nan("")};
  CHECK_THROWS_WITH_AS(model.recommend(bad_item, one_value), doctest::Contains("liked index 7"), value_error);
  const std::int32_t good_item[] = {1};
  CHECK_THROWS_AS(model.recommend(good_item, nan_value), value_error);
  CHECK_THROWS_AS(model.recommend(0, to_csr({}, 4, 6)), shape_error);
  CHECK_THROWS_AS(model.similar_items(5), value_error);
  CHECK_THROWS_AS(model.similar_items(0, 0), value_error);
  const std::int32_t bad_users[] = {0, 12};
  CHECK_THROWS_AS(model.recommend(bad_users, m), value_error);
  CHECK_THROWS_AS(cosine_recommender(0), value_error);
  CHECK_THROWS_AS(item_item_recommender({.shrinkage = -1}), value_error);

  // an unfitted model has an empty catalogue
  CHECK_THROWS_AS(item_item_recommender().similar_items(0), value_error);
}

TEST_CASE("item_item_recommender: save and load round trip, corrupt files rejected") {
  const csr_matrix m = to_csr(test::movielens_records(), test::movielens_users, test::movielens_items);
  auto model = bm25_recommender(30, 1.1, 0.6, 2);
  model.fit(m);
  const auto path = temp_path("bm25.safetensors");
  model.save(path);
  const auto loaded = item_item_recommender::load(path);
  CHECK(loaded.options().measure == similarity_measure::bm25);
  CHECK(loaded.options().K == 30);
  CHECK(loaded.options().K1 == 1.1);
  CHECK(loaded.options().B == 0.6);
  CHECK(loaded.similarity().nonZeros() == model.similarity().nonZeros());
  CHECK(loaded.recommend(5, m) == model.recommend(5, m));
  CHECK(loaded.similar_items(10) == model.similar_items(10));

  auto bytes = model.to_bytes();
  CHECK(item_item_recommender::load_bytes(bytes).similar_items(3) == model.similar_items(3));
  // flip a column index inside the data section to an out-of-range value
  auto tampered = bytes;
  const auto header = *reinterpret_cast<const std::uint64_t*>(tampered.data());
  const auto file = io::safetensors_file::from_bytes(bytes);
  const auto& info = file.info("indices");
  const std::int32_t bad = 1 << 30;
  std::memcpy(tampered.data() + 8 + header + info.begin, &bad, sizeof bad);
  CHECK_THROWS_WITH_AS(item_item_recommender::load_bytes(tampered), doctest::Contains("out of range"), parse_error);
  // a row pointer past the end of the entries (found by fuzz/saved_recommender)
  auto past_end = bytes;
  const std::int64_t huge = 1 << 30;
  std::memcpy(past_end.data() + 8 + header + file.info("indptr").begin + sizeof(std::int64_t), &huge, sizeof huge);
  CHECK_THROWS_WITH_AS(item_item_recommender::load_bytes(past_end), doctest::Contains("indptr"), parse_error);
  // another model kind
  const auto other = similarity_bytes("shopml.something_else", model.similarity(), {});
  CHECK_THROWS_WITH_AS(item_item_recommender::load_bytes(other), doctest::Contains("format"), parse_error);
  // truncated
  bytes.resize(bytes.size() / 2);
  CHECK_THROWS_AS(item_item_recommender::load_bytes(bytes), parse_error);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(item_item_recommender::load(path), io_error);
}

TEST_CASE("splits: per-user random split and leave-last-out by timestamp") {
  const auto records = test::movielens_records();
  const csr_matrix m = to_csr(records, test::movielens_users, test::movielens_items);
  const auto split = per_user_split(m, 0.8, 7);
  CHECK(split.train.nonZeros() + split.test.nonZeros() == m.nonZeros());
  CHECK(std::abs(split.train.nonZeros() / double(m.nonZeros()) - 0.8) < 0.01);
  const auto again = per_user_split(m, 0.8, 7);
  CHECK(again.test.isApprox(split.test));
  CHECK(csr_matrix(split.train.cwiseProduct(split.test)).nonZeros() == 0);
  CHECK_THROWS_AS(per_user_split(m, 0.0), value_error);

  const auto loo = leave_last_out(records, test::movielens_users, test::movielens_items);
  CHECK(loo.test.nonZeros() == test::movielens_users);  // every MovieLens user has >= 20 ratings
  // the held-out rating is the user's latest
  std::vector<std::int64_t> latest(test::movielens_users, 0);
  for (const auto& r : records)
    latest[static_cast<std::size_t>(r.user)] = std::max(latest[static_cast<std::size_t>(r.user)], r.timestamp);
  std::int32_t not_latest = 0;
  for (const auto& r : records)
    if (loo.test.coeff(r.user, r.item) != 0.0 && r.timestamp != latest[static_cast<std::size_t>(r.user)]) ++not_latest;
  CHECK(not_latest == 0);
  CHECK_THROWS_AS(leave_last_out({{5, 0, 1, 0}}, 2, 2), value_error);
}

TEST_CASE("user_user_recommender: neighbours by shared items, recommendations from them") {
  const csr_matrix m = tiny();
  user_user_recommender model({.measure = similarity_measure::cosine, .K = 4}, 1);
  model.fit(m);
  CHECK(model.similarity().rows() == 4);
  const auto near = model.similar_users(0);
  for (const auto& s : near) CHECK(s.index != 0);
  // user 3 shares item 0 with users 0 and 1: item 3 (only user 3's) is never recommended to them,
  // user 0 gets item 2 (held by neighbours 1 and 2)
  const auto recs = model.recommend(0, {.N = 5});
  REQUIRE_FALSE(recs.empty());
  CHECK(recs.front().index == 2);
  for (const auto& r : recs) CHECK((r.index != 0 && r.index != 1 ? r.score > 0.0 : r.score == 0.0));
  const std::int32_t users[] = {0, 1, 2, 3};
  const auto batch = model.recommend(users, {.N = 2}, 2);
  CHECK(batch.ids_of(0)[0] == 2);
  CHECK_THROWS_AS(model.recommend(4), value_error);
  CHECK_THROWS_AS(model.similar_users(-1), value_error);
}

TEST_CASE("user_user_recommender: save and load round trip, corrupt and mismatched files rejected") {
  const csr_matrix m = to_csr(test::movielens_records(), test::movielens_users, test::movielens_items);
  user_user_recommender model({.measure = similarity_measure::bm25, .K = 25, .K1 = 1.1, .B = 0.6}, 2);
  model.fit(m);
  const auto path = temp_path("user_user_bm25.safetensors");
  model.save(path);
  const auto loaded = user_user_recommender::load(path);
  CHECK(loaded.options().measure == similarity_measure::bm25);
  CHECK(loaded.options().K == 25);
  CHECK(loaded.options().K1 == 1.1);
  CHECK(loaded.options().B == 0.6);
  REQUIRE(loaded.n_users() == model.n_users());
  REQUIRE(loaded.n_items() == model.n_items());
  CHECK(csr_matrix(loaded.similarity() - model.similarity()).norm() == 0.0);
  CHECK(csr_matrix(loaded.user_items() - m).norm() == 0.0);
  std::vector<std::int32_t> users(static_cast<std::size_t>(model.n_users()));
  std::iota(users.begin(), users.end(), 0);
  const auto expected = model.recommend(users, {.N = 10}, 2);
  const auto got = loaded.recommend(users, {.N = 10}, 2);
  CHECK(got.ids == expected.ids);
  CHECK(got.scores == expected.scores);
  for (std::int32_t u : {0, 7, 100, model.n_users() - 1}) {
    CHECK(loaded.similar_users(u, 30) == model.similar_users(u, 30));
    CHECK(loaded.recommend(u, {.N = 20}) == model.recommend(u, {.N = 20}));
  }

  const auto bytes = model.to_bytes();
  const auto from_bytes = user_user_recommender::load_bytes(bytes);
  CHECK(from_bytes.similar_users(3) == model.similar_users(3));
  CHECK(from_bytes.to_bytes() == bytes);  // the saved form is canonical

  // hand-made files: each part valid on its own, the combination not
  user_user_recommender small({.measure = similarity_measure::cosine, .K = 4}, 1);
  small.fit(tiny());
  const auto md = options_metadata(small.options());
  const auto kind = user_user_recommender::kind;
  const auto rejects = [](const std::vector<std::byte>& file, const char* why) {
    CHECK_THROWS_WITH_AS(user_user_recommender::load_bytes(file), doctest::Contains(why), parse_error);
  };
  CHECK(
      user_user_recommender::load_bytes(similarity_bytes(kind, {{"similarity", small.similarity()}, {"user_items", tiny()}}, md))
          .recommend(0, {.N = 5}) == small.recommend(0, {.N = 5}));
  const csr_matrix three_users = to_csr({{0, 0, 1, 0}, {1, 1, 1, 0}, {2, 2, 1, 0}}, 3, 5);
  rejects(similarity_bytes(kind, {{"similarity", small.similarity()}, {"user_items", three_users}}, md), "expected 3 × 3");
  const csr_matrix wide = to_csr({{0, 0, 1, 0}}, 4, 5);
  rejects(similarity_bytes(kind, {{"similarity", wide}, {"user_items", tiny()}}, md), "user similarity is 4 × 5");
  auto k1 = md;
  k1["K"] = "1";
  rejects(similarity_bytes(kind, {{"similarity", small.similarity()}, {"user_items", tiny()}}, k1), "keeps more than K = 1");
  csr_matrix negative = tiny();
  negative.valuePtr()[3] = -2.0;
  rejects(similarity_bytes(kind, {{"similarity", small.similarity()}, {"user_items", negative}}, md), "is negative");
  csr_matrix not_finite = tiny();
  not_finite.valuePtr()[0] = std::nan("");
  rejects(similarity_bytes(kind, {{"similarity", small.similarity()}, {"user_items", not_finite}}, md), "not finite");
  rejects(similarity_bytes(kind, {{"similarity", small.similarity()}}, md), "'user_items.shape'");
  rejects(similarity_bytes(kind, small.similarity(), md), "'similarity.shape'");
  auto bad_measure = md;
  bad_measure["measure"] = "euclid";
  rejects(similarity_bytes(kind, {{"similarity", small.similarity()}, {"user_items", tiny()}}, bad_measure), "euclid");
  // an item-item file is not a user-user one, nor the other way round
  rejects(cosine_recommender(4).fit(tiny()).to_bytes(), "format");
  CHECK_THROWS_WITH_AS(item_item_recommender::load_bytes(small.to_bytes()), doctest::Contains("format"), parse_error);

  // tampered data section: a user_items column index out of range
  auto tampered = bytes;
  const auto header = *reinterpret_cast<const std::uint64_t*>(tampered.data());
  const auto file = io::safetensors_file::from_bytes(bytes);
  const std::int32_t bad = 1 << 30;
  std::memcpy(tampered.data() + 8 + header + file.info("user_items.indices").begin, &bad, sizeof bad);
  rejects(tampered, "'user_items' row 0: column 1073741824 is out of range");
  auto truncated = bytes;
  truncated.resize(truncated.size() / 2);
  CHECK_THROWS_AS(user_user_recommender::load_bytes(truncated), parse_error);
  // errors from a file name it
  io::save_safetensors(path, std::span<const io::tensor_view>(),
                       {{"format", "shopml.user_user_recommender"}, {"format_version", "1"}});
  CHECK_THROWS_WITH_AS(user_user_recommender::load(path), doctest::Contains(path.filename().string().c_str()), parse_error);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(user_user_recommender::load(path), io_error);
}

TEST_CASE("saved recommenders: option values round-trip exactly, ±inf is read then refused, NaN never stored") {
  auto model = bm25_recommender(3, 1.0 / 3.0, 0.1, 1);
  model.fit(tiny());
  const auto md = options_metadata(model.options());
  CHECK(md.at("K1") == "0.3333333333333333");  // the shortest text that reads back bit for bit
  const auto back = item_item_recommender::load_bytes(model.to_bytes());
  CHECK(back.options().K1 == model.options().K1);
  CHECK(back.options().B == model.options().B);
  const auto kind = item_item_recommender::kind;
  const auto with = [&](const char* key, const char* value) {
    auto edited = md;
    edited[key] = value;
    return similarity_bytes(kind, model.similarity(), edited);
  };
  // "inf" is a number the shared reader reads back; BM25's own rule refuses it, naming it.
  CHECK_THROWS_WITH_AS(item_item_recommender::load_bytes(with("K1", "inf")), doctest::Contains("K1=inf"), parse_error);
  CHECK_THROWS_WITH_AS(item_item_recommender::load_bytes(with("shrinkage", "-inf")),
                       doctest::Contains("shrinkage must be finite"), parse_error);
  CHECK_THROWS_WITH_AS(
      item_item_recommender::load_bytes(with("B", "nan")),
      "[shopml.parse] '<item_item_recommender bytes>': metadata 'B' = 'nan' is NaN, which a saved file cannot hold", parse_error);
  CHECK_THROWS_WITH_AS(item_item_recommender::load_bytes(with("K", "0")),
                       "[shopml.parse] '<item_item_recommender bytes>': metadata 'K' = '0' is not an integer in [1, 2147483647]",
                       parse_error);
}
