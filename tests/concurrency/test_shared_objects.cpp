// "const methods are safe from many threads": one shared object of each component, called
// from several threads at once, each call answering as a lone call does. The `tsan`
// preset runs this file under ThreadSanitizer with OpenMP off (so every report is about
// shopml's own threads); the dev and asan-ubsan presets run it as a plain test.
#include <doctest/doctest.h>

#include <Eigen/Core>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "../recommend/golden.hpp"
#include "seeded_matrix.hpp"
#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/nn/bert_for_classification.hpp"
#include "shopml/nn/sentence_encoder.hpp"
#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/hnsw_index.hpp"
#include "shopml/recommend/item_item.hpp"
#include "shopml/tokenize/tokenizer.hpp"
#include "shopml/train/examples.hpp"

namespace {

namespace fs = std::filesystem;
using namespace shopml;

constexpr int workers = 4;

// How many of `rounds` calls from each of `workers` threads, all started together,
// answered other than `expected`.
template <class Result>
int mismatches_from_many_threads(const std::function<Result()>& call, const Result& expected, int rounds = 2) {
  std::vector<int> wrong(workers, 0);
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      for (int r = 0; r < rounds; ++r) wrong[static_cast<std::size_t>(w)] += call() != expected;
    });
  for (auto& t : pool) t.join();
  int total = 0;
  for (int n : wrong) total += n;
  return total;
}

// Real review sentences (the shared English corpus), without their labels.
std::vector<std::string> review_texts(std::size_t n) {
  const std::string path = std::string(SHOPML_DATA_DIR) + "/reviews-en/amazon_cells_labelled.txt";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  std::vector<std::string> texts;
  for (std::string line; texts.size() < n && std::getline(in, line);) texts.push_back(line.substr(0, line.rfind('\t')));
  return texts;
}

fs::path model_dir() { return fs::path(SHOPML_MODEL_DIR); }

}  // namespace

TEST_SUITE("concurrency") {
  TEST_CASE("concurrency: tokenizer encode and encode_batch on one tokenizer") {
    const auto tok = tokenize::tokenizer::from_file(model_dir() / "tokenizer.json");
    const auto texts = review_texts(64);
    std::vector<std::vector<std::uint32_t>> expected;
    for (const auto& t : texts) expected.push_back(tok.encode(t).ids);
    const std::function<std::vector<std::vector<std::uint32_t>>()> each = [&] {
      std::vector<std::vector<std::uint32_t>> ids;
      for (const auto& t : texts) ids.push_back(tok.encode(t).ids);
      return ids;
    };
    const std::function<std::vector<std::vector<std::uint32_t>>()> batch = [&] {
      std::vector<std::vector<std::uint32_t>> ids;
      for (const auto& e : tok.encode_batch(texts, true, 2)) ids.push_back(e.ids);
      return ids;
    };
    CHECK(mismatches_from_many_threads(each, expected) == 0);
    CHECK(mismatches_from_many_threads(batch, expected) == 0);
  }

  TEST_CASE("concurrency: sentence_encoder encode on one encoder") {
    const auto encoder = nn::sentence_encoder<>::from_directory(model_dir());
    const auto texts = review_texts(6);
    const auto encode = [&] {
      const auto m = encoder.encode(texts, {.batch_size = 4, .threads = 1, .show_progress = false});
      return std::vector<float>(m.data(), m.data() + m.size());
    };
    const auto expected = encode();
    CHECK(mismatches_from_many_threads<std::vector<float>>(encode, expected, 1) == 0);
  }

  TEST_CASE("concurrency: a fine-tuning model's predict_proba on one model") {
    const auto model = nn::bert_for_sequence_classification<>::from_pretrained(model_dir(), {.labels = {"neg", "pos"}});
    const auto tok = tokenize::tokenizer::from_file(model_dir() / "tokenizer.json").no_padding();
    const auto batch = train::encode_inputs(tok, review_texts(6), {}, 64);
    const auto predict = [&] { return model.predict_proba(batch, 1); };
    const auto expected = predict();
    CHECK(mismatches_from_many_threads<std::vector<float>>(predict, expected, 1) == 0);
  }

  TEST_CASE("concurrency: logistic_regression predict and predict_proba on one head") {
    using head = linear_model::logistic_regression<double, std::string>;
    const std::size_t rows = 300, dim = 16;
    const auto x = test::normal_matrix(rows, dim, 7);
    head::row_matrix X(rows, dim);
    std::vector<std::string> y;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t d = 0; d < dim; ++d) X(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(d)) = x[r * dim + d];
      y.push_back(x[r * dim] + x[r * dim + 1] > 0.3f ? "a" : x[r * dim + 2] > 0 ? "b" : "c");
    }
    head model({.threads = 1});
    model.fit(X, std::span<const std::string>(y));
    const auto labels = model.predict(X, 1);
    const auto proba = [&] {
      const auto P = model.predict_proba(X, 2);
      return std::vector<double>(P.data(), P.data() + P.size());
    };
    const auto expected = proba();
    CHECK(mismatches_from_many_threads<std::vector<std::string>>([&] { return model.predict(X, 2); }, labels) == 0);
    CHECK(mismatches_from_many_threads<std::vector<double>>(proba, expected) == 0);
  }

  TEST_CASE("concurrency: item_item_recommender recommend and similar_items on one model") {
    using namespace shopml::recommend;
    const csr_matrix m = to_csr(test::movielens_records(), test::movielens_users, test::movielens_items);
    auto model = tfidf_recommender(20, 1);
    model.fit(m);
    const auto answers = [&] {
      std::vector<std::vector<scored>> out;
      for (std::int32_t u = 0; u < 40; ++u) {
        out.push_back(model.recommend(u, m, {.N = 8}));
        out.push_back(model.similar_items(u, 5));
      }
      return out;
    };
    const auto expected = answers();
    CHECK(mismatches_from_many_threads<std::vector<std::vector<scored>>>(answers, expected) == 0);
  }

  TEST_CASE("concurrency: embedding_index and hnsw_index search on one index") {
    using namespace shopml::recommend;
    const std::size_t rows = 2000, dim = 32;
    const auto vectors = test::normal_matrix(rows, dim, 11);
    const auto queries = test::normal_matrix(20, dim, 12);
    const embedding_index<> exact(vectors, dim);
    hnsw_index<> approximate(dim, {.M = 8, .ef_construction = 64});
    std::vector<std::int32_t> ids(rows);
    for (std::size_t i = 0; i < rows; ++i) ids[i] = static_cast<std::int32_t>(i);
    approximate.add(ids, vectors, {.threads = 1});
    const auto as_pair = [](const knn_result& r) { return std::pair{r.ids, r.scores}; };
    using answer = std::pair<std::vector<std::int32_t>, std::vector<float>>;
    const auto exact_search = [&] { return as_pair(exact.search(queries, 10, 1)); };
    const auto approximate_search = [&] { return as_pair(approximate.search(queries, 10, {.ef = 32, .threads = 1})); };
    CHECK(mismatches_from_many_threads<answer>(exact_search, exact_search()) == 0);
    CHECK(mismatches_from_many_threads<answer>(approximate_search, approximate_search()) == 0);
  }
}
