// kfold / stratified_kfold against scikit-learn 1.9.1 (tests/golden/model_selection/kfold.json,
// written by scripts/golden/model_selection.py): unshuffled splits index for index; shuffled
// ones by what does not depend on the random stream (every row in exactly one test fold,
// sklearn's fold sizes and per-class counts per fold).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "golden_files.hpp"
#include "shopml/io/csv.hpp"
#include "shopml/model_selection/kfold.hpp"

namespace ms = shopml::model_selection;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace golden = shopml::test::golden;

namespace {

const json& kfold_golden() {
  static const json g = golden::read_json("model_selection/kfold.json");
  return g;
}

// The labels of a case, as text (ints written in decimal), read from the case or the shared CSV.
std::vector<std::string> labels_of(const json& c) {
  std::vector<std::string> out;
  if (c.contains("labels")) {
    for (const auto& v : c["labels"]) out.push_back(v.is_string() ? v.get<std::string>() : std::to_string(v.get<std::int64_t>()));
    return out;
  }
  const std::string source = c["source"];
  const auto colon = source.find(':');
  const auto csv = shopml::io::read_csv(fs::path(SHOPML_DATA_DIR) / source.substr(0, colon));
  const std::size_t column = csv.column(source.substr(colon + 1));
  for (const auto& row : csv.rows) out.push_back(row[column]);
  return out;
}

std::vector<ms::split_indices> run(const json& c, bool shuffle, std::uint64_t seed = 0) {
  const ms::kfold_options o{.n_splits = c["n_splits"].get<std::size_t>(), .shuffle = shuffle, .seed = seed};
  if (c["kind"] == "kfold") return ms::kfold(o).split(c["n"].get<std::size_t>());
  return ms::stratified_kfold(o).split(labels_of(c));
}

// Every row in exactly one test fold; train = the complement; both increasing.
void check_partition(const std::vector<ms::split_indices>& splits, std::size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& s : splits) {
    CHECK(std::is_sorted(s.train.begin(), s.train.end()));
    CHECK(std::adjacent_find(s.test.begin(), s.test.end(), std::greater_equal<>()) == s.test.end());
    CHECK(s.train.size() + s.test.size() == n);
    std::vector<std::size_t> all(s.train);
    all.insert(all.end(), s.test.begin(), s.test.end());
    std::sort(all.begin(), all.end());
    std::vector<std::size_t> every(n);
    std::iota(every.begin(), every.end(), std::size_t{0});
    CHECK(all == every);
    for (std::size_t i : s.test) ++seen[i];
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int v) { return v == 1; }));
}

bool skip_without_data(const json& c) {
  if (!c.contains("source")) return false;
  const fs::path path =
      fs::path(SHOPML_DATA_DIR) / c["source"].get<std::string>().substr(0, c["source"].get<std::string>().find(':'));
  if (fs::exists(path)) return false;
  MESSAGE("skipped " << c["name"].get<std::string>() << ": no " << path);
  return true;
}

}  // namespace

TEST_CASE("kfold, stratified_kfold: unshuffled splits are sklearn's, index for index") {
  REQUIRE(kfold_golden()["sklearn"] == "1.9.1");
  for (const auto& c : kfold_golden()["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    if (skip_without_data(c)) continue;
    const std::string test_fold = c["test_fold"];
    const auto splits = run(c, false);
    REQUIRE(splits.size() == c["n_splits"].get<std::size_t>());
    for (std::size_t f = 0; f < splits.size(); ++f) {
      std::vector<std::size_t> train, test;
      for (std::size_t i = 0; i < test_fold.size(); ++i) (test_fold[i] - '0' == static_cast<int>(f) ? test : train).push_back(i);
      CHECK(splits[f].test == test);
      CHECK(splits[f].train == train);
    }
    // The seed does nothing without shuffling.
    const auto again = run(c, false, 12345);
    for (std::size_t f = 0; f < splits.size(); ++f) CHECK(again[f].test == splits[f].test);
  }
}

TEST_CASE("kfold, stratified_kfold: shuffled splits keep sklearn's fold sizes and class counts") {
  for (const auto& c : kfold_golden()["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    if (skip_without_data(c)) continue;
    const auto& want = c["shuffled"];
    const std::size_t n = c["test_fold"].get<std::string>().size();
    std::vector<std::string> labels;
    if (c["kind"] == "stratified") labels = labels_of(c);
    for (std::uint64_t seed : {0, 1, 42}) {
      CAPTURE(seed);
      const auto splits = run(c, true, seed);
      check_partition(splits, n);
      std::vector<std::size_t> sizes;
      for (const auto& s : splits) sizes.push_back(s.test.size());
      CHECK(sizes == want["test_sizes"].get<std::vector<std::size_t>>());
      if (labels.empty()) continue;
      for (const auto& [label, counts] : want["class_counts"].items()) {
        CAPTURE(label);
        std::vector<std::size_t> got;
        for (const auto& s : splits)
          got.push_back(static_cast<std::size_t>(
              std::count_if(s.test.begin(), s.test.end(), [&](std::size_t i) { return labels[i] == label; })));
        CHECK(got == counts.get<std::vector<std::size_t>>());
      }
    }
  }
}

TEST_CASE("kfold: shuffling is seeded, reproducible and actually shuffles") {
  const ms::kfold a({.n_splits = 5, .shuffle = true, .seed = 7});
  CHECK(a.split(1000)[2].test == a.split(1000)[2].test);
  CHECK(a.split(1000)[2].test != ms::kfold({.n_splits = 5, .shuffle = true, .seed = 8}).split(1000)[2].test);
  CHECK(a.split(1000)[0].test != ms::kfold({.n_splits = 5}).split(1000)[0].test);
  // Fixed answer for seed 7: the same on every platform (portable shuffle, no std::uniform_int_distribution).
  CHECK(ms::kfold({.n_splits = 3, .shuffle = true, .seed = 7}).split(10)[0].test == std::vector<std::size_t>{0, 4, 7, 9});

  const std::vector<std::string> labels{"pos", "neg", "pos", "neg", "pos", "neg", "neg", "pos"};
  const ms::stratified_kfold s({.n_splits = 2, .shuffle = true, .seed = 3});
  CHECK(s.split(labels)[0].test == std::vector<std::size_t>{0, 3, 4, 6});
  check_partition(s.split(labels), labels.size());
}

TEST_CASE("kfold, stratified_kfold: any contiguous range of labels or rows") {
  const std::vector<std::string> strings{"a", "b", "a", "b", "a", "b"};
  const std::vector<std::string_view> views{"a", "b", "a", "b", "a", "b"};
  const std::array<const char*, 6> c_strings{"a", "b", "a", "b", "a", "b"};
  const std::vector<int> ints{0, 1, 0, 1, 0, 1};
  const ms::stratified_kfold cv({.n_splits = 3});
  const auto want = cv.split(strings);
  CHECK(want[1].test == std::vector<std::size_t>{2, 3});
  CHECK(cv.split(std::span<const std::string>(strings))[1].test == want[1].test);
  CHECK(cv.split(views)[1].test == want[1].test);
  CHECK(cv.split(c_strings)[1].test == want[1].test);
  CHECK(cv.split(ints)[1].test == want[1].test);
  CHECK(ms::kfold({.n_splits = 3}).split(strings)[1].test == ms::kfold({.n_splits = 3}).split(6)[1].test);
  CHECK(cv.get_n_splits() == 3);
}

TEST_CASE("kfold, stratified_kfold: refuse what sklearn refuses, saying why") {
  for (const auto& e : kfold_golden()["errors"]) {
    CAPTURE(e["sklearn_message"].get<std::string>());
    const auto k = e["n_splits"].get<std::size_t>();
    const auto labels = e["labels"].get<std::vector<int>>();
    if (e["kind"] == "kfold")
      CHECK_THROWS_AS(ms::kfold({.n_splits = k}).split(labels.size()), shopml::value_error);
    else
      CHECK_THROWS_AS(ms::stratified_kfold({.n_splits = k}).split(labels), shopml::value_error);
  }
  CHECK_THROWS_WITH(ms::kfold({.n_splits = 1}), "[shopml.value] kfold: n_splits must be at least 2, got 1");
  CHECK_THROWS_WITH(ms::kfold({.n_splits = 4}).split(3),
                    "[shopml.value] kfold: n_splits=4 is greater than the number of samples, 3");
  CHECK_THROWS_WITH(ms::stratified_kfold({.n_splits = 3}).split(std::vector<int>{0, 0, 1, 1}),
                    "[shopml.value] stratified_kfold: n_splits=3 is greater than the number of members of every class");
}
