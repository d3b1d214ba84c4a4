#pragma once
// Offline evaluation of recommenders: top-K ranking metrics as
// implicit.evaluation.ranking_metrics_at_k (0.7.3) defines them,
// plus recall, hit rate and catalogue coverage. Over the users with at least one test item:
//
//   precision  = (relevant items recommended, summed over users) / sum_u min(K, |test_u|)
//   map        = mean_u  (sum over hits at rank r of hits_so_far / r) / min(K, |test_u|)
//   ndcg       = mean_u  (sum over hits at rank r of 1/log2(r+1)) / (sum_{r<=min(K,|test_u|)} 1/log2(r+1))
//   auc        = implicit's AUC limited to the top K
//   recall     = mean_u  hits_u / |test_u|
//   hit_rate   = share of users with at least one hit
//   coverage   = distinct items recommended to these users / number of items
//
// Recommendation slots holding -1 (fewer than K candidates) count as misses, as in implicit.
// Sums run in implicit's order (users ascending), so the figures agree to rounding.

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/recommend/interactions.hpp"
#include "shopml/recommend/recommendation_batch.hpp"

namespace shopml::recommend {

struct ranking_metrics {
  double precision = 0.0;
  double map = 0.0;
  double ndcg = 0.0;
  double auc = 0.0;
  double recall = 0.0;
  double hit_rate = 0.0;
  double coverage = 0.0;
  std::int32_t users = 0;  // users evaluated (those with test items)
};

// The users (rows) of `test` holding at least one item, ascending.
inline std::vector<std::int32_t> users_with_items(const csr_matrix& test) {
  std::vector<std::int32_t> users;
  for (std::int32_t u = 0; u < test.rows(); ++u)
    if (test.outerIndexPtr()[u + 1] > test.outerIndexPtr()[u]) users.push_back(u);
  return users;
}

// Metrics of recommendations already made: row r of `recs` holds the list for users[r].
inline ranking_metrics ranking_metrics_at_k(const recommendation_batch& recs, std::span<const std::int32_t> users,
                                            const csr_matrix& test) {
  const std::int32_t K = recs.N;
  if (K < 1) throw value_error("ranking_metrics_at_k: K must be >= 1");
  if (static_cast<std::size_t>(recs.rows()) != users.size())
    throw shape_error("ranking_metrics_at_k: " + std::to_string(recs.rows()) + " recommendation rows for " +
                      std::to_string(users.size()) + " users");
  const auto n_items = static_cast<double>(test.cols());
  std::vector<double> cg(static_cast<std::size_t>(K)), cg_sum(static_cast<std::size_t>(K));
  for (std::int32_t i = 0; i < K; ++i) {
    cg[static_cast<std::size_t>(i)] = 1.0 / std::log2(static_cast<double>(i + 2));
    cg_sum[static_cast<std::size_t>(i)] =
        cg[static_cast<std::size_t>(i)] + (i > 0 ? cg_sum[static_cast<std::size_t>(i) - 1] : 0.0);
  }
  double relevant = 0, pr_div = 0, total = 0, mean_ap = 0, ndcg = 0, mean_auc = 0, recall = 0, hits_any = 0;
  std::unordered_set<std::int32_t> likes, shown;
  for (std::size_t r = 0; r < users.size(); ++r) {
    const std::int32_t u = users[r];
    if (u < 0 || u >= test.rows()) throw value_error("ranking_metrics_at_k: user " + std::to_string(u) + " is not a row of test");
    likes.clear();
    for (std::int32_t p = test.outerIndexPtr()[u]; p < test.outerIndexPtr()[u + 1]; ++p) likes.insert(test.innerIndexPtr()[p]);
    if (likes.empty()) continue;
    const auto n_likes = static_cast<double>(likes.size());
    const double cutoff = std::fmin(K, n_likes);
    pr_div += cutoff;
    double ap = 0, hit = 0, miss = 0, auc = 0;
    const double idcg = cg_sum[static_cast<std::size_t>(cutoff) - 1];
    const double num_neg = n_items - n_likes;
    const auto ids = recs.ids_of(static_cast<std::int32_t>(r));
    for (std::int32_t i = 0; i < K; ++i) {
      if (ids[static_cast<std::size_t>(i)] >= 0) shown.insert(ids[static_cast<std::size_t>(i)]);
      if (likes.count(ids[static_cast<std::size_t>(i)])) {
        relevant += 1;
        hit += 1;
        ap += hit / (i + 1);
        ndcg += cg[static_cast<std::size_t>(i)] / idcg;
      } else {
        miss += 1;
        auc += hit;
      }
    }
    auc += ((hit + n_likes) / 2.0) * (num_neg - miss);
    mean_ap += ap / cutoff;
    mean_auc += auc / (n_likes * num_neg);
    recall += hit / n_likes;
    hits_any += hit > 0;
    total += 1;
  }
  ranking_metrics m;
  m.users = static_cast<std::int32_t>(total);
  if (total == 0) return m;
  m.precision = relevant / pr_div;
  m.map = mean_ap / total;
  m.ndcg = ndcg / total;
  m.auc = mean_auc / total;
  m.recall = recall / total;
  m.hit_rate = hits_any / total;
  m.coverage = n_items > 0 ? static_cast<double>(shown.size()) / n_items : 0.0;
  return m;
}

// implicit.evaluation.ranking_metrics_at_k(model, train, test, K): recommends K items to every
// user with test items (already-liked training items filtered) and scores the lists.
template <class Model>
ranking_metrics ranking_metrics_at_k(const Model& model, const csr_matrix& train, const csr_matrix& test, std::int32_t K = 10,
                                     int threads = 0) {
  if (train.rows() != test.rows() || train.cols() != test.cols())
    throw shape_error("ranking_metrics_at_k: train is " + std::to_string(train.rows()) + " × " + std::to_string(train.cols()) +
                      ", test " + std::to_string(test.rows()) + " × " + std::to_string(test.cols()));
  const std::vector<std::int32_t> users = users_with_items(test);
  const recommendation_batch recs = model.recommend(users, train, {.N = K}, threads);
  return ranking_metrics_at_k(recs, users, test);
}

}  // namespace shopml::recommend
