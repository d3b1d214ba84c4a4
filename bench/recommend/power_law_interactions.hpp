#pragma once
// A seeded synthetic interaction log with power-law popularity, for scale tests and
// benchmarks (no real log of 10^8 interactions is at hand):
//
//   auto log = bench::power_law_interactions({.users = 10'000'000, .items = 1'000'000,
//                                             .interactions = 100'000'000});
//   recommend::save_csr("log.safetensors", log.view());     // what generate_interactions writes
//
// Users: the user of activity rank k (1-based) gets about N k^-user_exponent / H of the N
// interactions (H the sum of those weights), rounded so that the lengths add up to N
// exactly (cumulative rounding), each at least one and at most items / 2. With the
// default user_exponent 0.5, 10^7 users and 10^8 interactions the busiest user has ~16,000
// items and the quietest ~5: heavy-tailed, as real logs are, while Σ length², the work of
// an item-item fit, stays ~10^10.
// Items: drawn per user without replacement with probability ∝ rank^-exponent (Zipf; 1.0
// by default). Ranks map to user and item indices through seeded permutations, so
// popular items are not all at small indices. Values: small counts 1..5, each half as
// likely as the one before (5 as likely as 4), so similarities have ties and non-ties.
// Every user's random stream is derived from (seed, user), so the result does not depend
// on the thread count.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "shopml/parallel.hpp"
#include "shopml/recommend/csr_file.hpp"

namespace shopml::bench {

struct power_law_spec {
  std::int32_t users = 100'000;
  std::int32_t items = 100'000;
  std::int64_t interactions = 1'000'000;
  double exponent = 1.0;       // item popularity ∝ rank^-exponent
  double user_exponent = 0.5;  // user activity ∝ rank^-user_exponent
  std::uint64_t seed = 42;
};

namespace detail {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
inline double uniform01(std::uint64_t& state) { return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53; }

// A seeded permutation of 0..n-1 (Fisher-Yates).
inline std::vector<std::int32_t> permutation(std::int32_t n, std::uint64_t seed) {
  std::vector<std::int32_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (std::int32_t i = n - 1; i > 0; --i)
    std::swap(p[static_cast<std::size_t>(i)], p[splitmix64(seed) % static_cast<std::uint64_t>(i + 1)]);
  return p;
}

// Cumulative weights of ranks 1..n under rank^-exponent.
inline std::vector<double> zipf_cumulative(std::int32_t n, double exponent) {
  std::vector<double> c(static_cast<std::size_t>(n));
  double s = 0.0;
  for (std::int32_t k = 0; k < n; ++k) c[static_cast<std::size_t>(k)] = s += std::pow(k + 1.0, -exponent);
  return c;
}

}  // namespace detail

// The log as CSR arrays, users × items, each user's items ascending.
struct generated_interactions {
  std::int32_t users = 0, items = 0;
  std::vector<std::int64_t> indptr;
  std::vector<std::int32_t> indices;
  std::vector<float> data;

  recommend::csr_view<float> view() const { return {users, items, indptr, indices, data}; }
};

inline generated_interactions power_law_interactions(const power_law_spec& spec, int threads = 0) {
  if (spec.users < 1 || spec.items < 2 || spec.interactions < spec.users ||
      spec.interactions > static_cast<std::int64_t>(spec.users) * (spec.items / 2) || !(spec.exponent >= 0.0) ||
      !(spec.user_exponent >= 0.0))
    throw std::invalid_argument(
        "power_law_interactions: need users >= 1, items >= 2, users <= interactions <= users * items/2, "
        "exponents >= 0");
  generated_interactions out;
  out.users = spec.users;
  out.items = spec.items;
  const auto n_users = static_cast<std::size_t>(spec.users);

  // History lengths by activity rank: cumulative rounding of N × share, then at least one
  // each (taken from the busiest users) and at most items / 2 (the total falls short).
  const std::vector<double> user_weight = detail::zipf_cumulative(spec.users, spec.user_exponent);
  const double total = user_weight.back();
  std::vector<std::int64_t> length(n_users);
  std::int64_t before = 0;
  for (std::size_t k = 0; k < n_users; ++k) {
    const auto upto = static_cast<std::int64_t>(std::llround(static_cast<double>(spec.interactions) * (user_weight[k] / total)));
    length[k] = upto - before;
    before = upto;
  }
  std::int64_t lent = 0;
  for (auto& l : length)
    if (l < 1) lent += 1 - l, l = 1;
  for (std::size_t k = 0; lent > 0; k = (k + 1) % n_users)
    if (length[k] > 1) --length[k], --lent;
  for (auto& l : length) l = std::min<std::int64_t>(l, spec.items / 2);

  const std::vector<std::int32_t> user_of_rank = detail::permutation(spec.users, spec.seed ^ 0x5553455253ull);
  const std::vector<std::int32_t> item_of_rank = detail::permutation(spec.items, spec.seed ^ 0x4954454D53ull);
  std::vector<std::int32_t> rank_of_user(n_users);
  for (std::size_t k = 0; k < n_users; ++k)
    rank_of_user[static_cast<std::size_t>(user_of_rank[k])] = static_cast<std::int32_t>(k);
  out.indptr.assign(n_users + 1, 0);
  for (std::size_t u = 0; u < n_users; ++u) out.indptr[u + 1] = out.indptr[u] + length[static_cast<std::size_t>(rank_of_user[u])];
  out.indices.resize(static_cast<std::size_t>(out.indptr.back()));
  out.data.resize(out.indices.size());

  const std::vector<double> item_weight = detail::zipf_cumulative(spec.items, spec.exponent);
  const double item_total = item_weight.back();
  constexpr std::ptrdiff_t chunks = 256;
  parallel_for(0, chunks, threads, [&](std::ptrdiff_t c) {
    std::vector<std::int32_t> drawn;
    for (std::size_t u = n_users * static_cast<std::size_t>(c) / chunks; u < n_users * static_cast<std::size_t>(c + 1) / chunks;
         ++u) {
      std::uint64_t state = spec.seed * 0xD1B54A32D192ED03ull + u;
      const auto want = static_cast<std::size_t>(out.indptr[u + 1] - out.indptr[u]);
      drawn.clear();
      while (drawn.size() < want) {  // draw the missing ones, then drop repeats
        for (std::size_t missing = want - drawn.size(); missing > 0; --missing) {
          const double x = detail::uniform01(state) * item_total;
          const auto rank = std::min<std::size_t>(
              static_cast<std::size_t>(std::upper_bound(item_weight.begin(), item_weight.end(), x) - item_weight.begin()),
              item_weight.size() - 1);
          drawn.push_back(item_of_rank[rank]);
        }
        std::sort(drawn.begin(), drawn.end());
        drawn.erase(std::unique(drawn.begin(), drawn.end()), drawn.end());
      }
      const auto first = static_cast<std::size_t>(out.indptr[u]);
      for (std::size_t p = 0; p < want; ++p) {
        out.indices[first + p] = drawn[p];
        const std::uint64_t r = detail::splitmix64(state);
        const int zeros = std::countr_zero(r | (1ull << 4));  // 0..4 with probabilities 1/2, 1/4, 1/8, 1/16, 1/16
        out.data[first + p] = static_cast<float>(1 + zeros);
      }
    }
  });
  return out;
}

}  // namespace shopml::bench
