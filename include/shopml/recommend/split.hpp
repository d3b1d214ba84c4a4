#pragma once
// Train/test splits of interactions for offline evaluation.
//
//   per_user_split(user_items, 0.8, seed)    each user's items shuffled, 80 % (rounded, at
//                                             least one) to train, the rest to test
//   leave_last_out(log.records(), n_users, n_items)
//                                             each user's latest interaction (by timestamp,
//                                             ties to the higher item index) to test, users
//                                             with a single interaction kept whole in train
//
// The shuffle is a Fisher-Yates over std::mt19937_64 with a fixed draw, so a seed gives the
// same split on every platform (std::shuffle's algorithm is implementation-defined).

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/recommend/interactions.hpp"

namespace shopml::recommend {

struct split_matrices {
  csr_matrix train;
  csr_matrix test;
};

inline split_matrices per_user_split(const csr_matrix& user_items, double train_fraction = 0.8, std::uint64_t seed = 42) {
  if (!(train_fraction > 0.0 && train_fraction <= 1.0))
    throw value_error("per_user_split: train_fraction must be in (0, 1], got " + std::to_string(train_fraction));
  std::mt19937_64 rng(seed);
  std::vector<interaction> train, test;
  std::vector<std::int32_t> order;
  for (std::int32_t u = 0; u < user_items.rows(); ++u) {
    const std::int32_t begin = user_items.outerIndexPtr()[u], end = user_items.outerIndexPtr()[u + 1];
    order.resize(static_cast<std::size_t>(end - begin));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = begin + static_cast<std::int32_t>(i);
    for (std::size_t i = order.size(); i > 1; --i) {
      const auto j = static_cast<std::size_t>(static_cast<double>(rng() >> 11) * 0x1.0p-53 * static_cast<double>(i));
      std::swap(order[i - 1], order[j]);
    }
    const auto keep = std::max<std::size_t>(
        order.empty() ? 0 : 1, static_cast<std::size_t>(std::lround(train_fraction * static_cast<double>(order.size()))));
    for (std::size_t i = 0; i < order.size(); ++i) {
      const std::int32_t p = order[i];
      (i < keep ? train : test).push_back({u, user_items.innerIndexPtr()[p], user_items.valuePtr()[p], 0});
    }
  }
  const auto rows = static_cast<std::int32_t>(user_items.rows()), cols = static_cast<std::int32_t>(user_items.cols());
  return {to_csr(train, rows, cols), to_csr(test, rows, cols)};
}

inline split_matrices leave_last_out(const std::vector<interaction>& records, std::int32_t n_users, std::int32_t n_items) {
  std::vector<std::int64_t> latest(static_cast<std::size_t>(n_users), -1);  // index into records
  std::vector<std::int32_t> count(static_cast<std::size_t>(n_users), 0);
  for (std::size_t r = 0; r < records.size(); ++r) {
    const auto& x = records[r];
    if (x.user < 0 || x.user >= n_users || x.item < 0 || x.item >= n_items)
      throw value_error("leave_last_out: record " + std::to_string(r) + " (user " + std::to_string(x.user) + ", item " +
                        std::to_string(x.item) + ") is outside " + std::to_string(n_users) + " × " + std::to_string(n_items));
    auto& best = latest[static_cast<std::size_t>(x.user)];
    ++count[static_cast<std::size_t>(x.user)];
    if (best < 0) {
      best = static_cast<std::int64_t>(r);
      continue;
    }
    const auto& b = records[static_cast<std::size_t>(best)];
    if (x.timestamp > b.timestamp || (x.timestamp == b.timestamp && x.item > b.item)) best = static_cast<std::int64_t>(r);
  }
  std::vector<interaction> train, test;
  for (std::size_t r = 0; r < records.size(); ++r) {
    const auto u = static_cast<std::size_t>(records[r].user);
    const bool held_out = count[u] >= 2 && latest[u] == static_cast<std::int64_t>(r);
    (held_out ? test : train).push_back(records[r]);
  }
  return {to_csr(train, n_users, n_items), to_csr(test, n_users, n_items)};
}

}  // namespace shopml::recommend
