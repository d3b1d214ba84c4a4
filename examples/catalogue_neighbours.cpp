// "Customers who bought this also bought": item-item neighbours over a generated catalogue of
// a million products, with a progress bar. The interactions come from the seeded power-law
// generator of the benchmarks (bench/recommend/power_law_interactions.hpp), are saved as a
// safetensors CSR file and mapped back in (what a real log of this size would be), then a
// cosine item-item model keeps each product's 20 nearest neighbours.
//
//   catalogue_neighbours [--items N] [--users N] [--interactions N] [--max-history N]
//                        [--threads N] [--file PATH]
// Defaults: 1,000,000 items, 1,000,000 users, 10,000,000 interactions (about half a minute
// on 2 cores); --users 10000000 --interactions 100000000 is bench/peers/cf_scale.sh's size.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "power_law_interactions.hpp"
#include "shopml/recommend/csr_file.hpp"
#include "shopml/recommend/item_item.hpp"

using namespace shopml;
using namespace shopml::recommend;

int main(int argc, char** argv) {
  bench::power_law_spec spec{.users = 1'000'000, .items = 1'000'000, .interactions = 10'000'000};
  std::int32_t max_history = 0;
  int threads = 0;
  std::filesystem::path file = std::filesystem::temp_directory_path() / "shopml_catalogue_interactions.safetensors";
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string flag = argv[a], value = argv[a + 1];
    if (flag == "--items")
      spec.items = std::stoi(value);
    else if (flag == "--users")
      spec.users = std::stoi(value);
    else if (flag == "--interactions")
      spec.interactions = std::stoll(value);
    else if (flag == "--max-history")
      max_history = std::stoi(value);
    else if (flag == "--threads")
      threads = std::stoi(value);
    else if (flag == "--file")
      file = value;
    else {
      std::cerr << "unknown option " << flag << "\n";
      return 2;
    }
  }
  try {
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    const auto seconds = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
    {
      const auto log = bench::power_law_interactions(spec, threads);
      save_csr(file, log.view());
    }
    std::cout << "generated " << spec.interactions << " interactions of " << spec.users << " users with " << spec.items
              << " items into " << file.string() << " in " << seconds() << " s\n";

    start = clock::now();
    const csr_matrix user_items = csr_file::open(file).to_csr();
    std::filesystem::remove(file);
    std::cout << "mapped and validated in " << seconds() << " s\n";

    start = clock::now();
    item_item_recommender model({.measure = similarity_measure::cosine, .K = 20, .max_history = max_history}, threads);
    model.fit(user_items, {.show_progress = true});  // the bar even when stderr is not a terminal
    std::cout << "fitted " << model.n_items() << " items in " << seconds() << " s, " << model.similarity().nonZeros()
              << " neighbours kept\n";

    // The most popular product and two others: their nearest neighbours.
    std::vector<std::int32_t> buyers(static_cast<std::size_t>(user_items.cols()), 0);
    for (std::int64_t p = 0; p < user_items.nonZeros(); ++p) ++buyers[static_cast<std::size_t>(user_items.innerIndexPtr()[p])];
    const auto popular = static_cast<std::int32_t>(std::max_element(buyers.begin(), buyers.end()) - buyers.begin());
    for (const std::int32_t item : {popular, 0, spec.items / 2}) {
      std::cout << "neighbours of item " << item << " (" << buyers[static_cast<std::size_t>(item)] << " buyers):";
      for (const scored& s : model.similar_items(item, {.N = 5, .include_self = false}))
        std::cout << " " << s.index << " (" << s.score << ")";
      std::cout << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "catalogue_neighbours: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
