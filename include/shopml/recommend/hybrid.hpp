#pragma once
// Similar items blending collaborative and content similarity, for catalogues where some
// items have no interactions yet (cold start):
//
//   score(j) = cf_weight * cf(item, j) + (1 - cf_weight) * content(item, j)
//
// cf is the item-item model's kept similarity (0 when j is not among item's neighbours),
// content the embedding similarity (cosine or inner product, as the index was built). The
// candidates are item's CF neighbours and its `content_candidates` nearest embeddings; an
// item without interactions has no CF neighbours, so its list is content alone (scaled by
// 1 - cf_weight). Both must index the same catalogue: row i of the index is item i.
// The item itself is never returned. The index is the exact embedding_index or the
// approximate hnsw_index (its ids the CF model's items 0..n-1): anything with size(),
// vector(item), score(item, item) and search(query, k).

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/item_item.hpp"

namespace shopml::recommend {

template <class ContentIndex>
std::vector<scored> hybrid_similar_items(const item_item_recommender& cf, const ContentIndex& content, std::int32_t item,
                                         std::int32_t N = 10, double cf_weight = 0.5, std::int32_t content_candidates = 100) {
  if (static_cast<std::size_t>(cf.n_items()) != content.size())
    throw shape_error("hybrid_similar_items: the CF model has " + std::to_string(cf.n_items()) + " items, the index " +
                      std::to_string(content.size()) + " rows");
  if (!(cf_weight >= 0.0 && cf_weight <= 1.0))
    throw value_error("hybrid_similar_items: cf_weight must be in [0, 1], got " + std::to_string(cf_weight));
  if (N < 1 || content_candidates < 1) throw value_error("hybrid_similar_items: N and content_candidates must be >= 1");
  std::unordered_map<std::int32_t, double> cf_score;
  for (const scored& s : cf.similar_items(item, cf.options().K)) cf_score[s.index] = s.score;
  const knn_result near =
      content.search(content.vector(item), std::min(static_cast<std::size_t>(content_candidates) + 1, content.size()));

  std::vector<std::int32_t> candidates;
  for (const auto& [j, s] : cf_score) candidates.push_back(j);
  for (std::int32_t j : near.ids_of(0))
    if (j >= 0) candidates.push_back(j);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  std::vector<scored> out;
  for (std::int32_t j : candidates) {
    if (j == item) continue;
    const auto it = cf_score.find(j);
    const double c = it == cf_score.end() ? 0.0 : it->second;
    out.push_back({j, cf_weight * c + (1.0 - cf_weight) * content.score(item, j)});
  }
  std::sort(out.begin(), out.end(),
            [](const scored& a, const scored& b) { return a.score != b.score ? a.score > b.score : a.index < b.index; });
  if (out.size() > static_cast<std::size_t>(N)) out.resize(static_cast<std::size_t>(N));
  return out;
}

}  // namespace shopml::recommend
