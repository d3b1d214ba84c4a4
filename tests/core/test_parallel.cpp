#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "shopml/parallel.hpp"

TEST_CASE("num_threads resolves per-call, then library default, then OpenMP") {
  shopml::set_num_threads(0);
  CHECK(shopml::num_threads(3) == 3);
#if defined(_OPENMP)
  shopml::set_num_threads(2);
  CHECK(shopml::num_threads() == 2);
  CHECK(shopml::num_threads(1) == 1);
  shopml::set_num_threads(0);
  CHECK(shopml::num_threads() == omp_get_max_threads());
#endif
}

TEST_CASE("parallel_for visits every index exactly once, also nested") {
  std::vector<std::atomic<int>> hits(1000);
  shopml::parallel_for(0, 10, 2, [&](std::ptrdiff_t outer) {
    shopml::parallel_for(0, 100, 2, [&](std::ptrdiff_t inner) { hits[outer * 100 + inner]++; });
  });
  for (auto& h : hits) CHECK(h.load() == 1);
}
