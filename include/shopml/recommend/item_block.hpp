#pragma once
// Item-item similarity one block of items at a time, for fits spread over processes or
// machines (python/shopml/distributed.py runs one Ray task per block):
//
//   csr_matrix W = recommend::weighted_for_blocks(user_items, options);  // once, on the driver
//   csr_matrix by_item = W.transpose();                                  // items × users, once
//   // on the workers, each reading both in place (csr_view over their arrays, validated):
//   recommend::item_block block = recommend::item_block_knn(W_view, by_item_view, begin, end, options.K);
//   // on the driver:
//   item_item_recommender model = recommend::item_item_from_blocks(blocks, options);
//
// Row i of the similarity depends on W alone, so blocks are independent. Each row is
// computed as implicit 0.7.3 computes it (neighbours.hpp): float64 sums over i's users
// ascending, candidates pushed into topk_heap in the reverse order of their first touch.
// Both roads of all_pairs_knn give exactly these rows, so the blocks stacked are
// item_similarity(user_items, options) bit for bit, whatever the block boundaries.
// Measures whose score is a transform of the sum (jaccard, shrinkage > 0) are not offered
// here: value_error says so.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/recommend/csr_file.hpp"
#include "shopml/recommend/item_item.hpp"
#include "shopml/recommend/neighbours.hpp"
#include "shopml/recommend/saved_similarity.hpp"
#include "shopml/recommend/similarity.hpp"
#include "shopml/recommend/weighting.hpp"

namespace shopml::recommend {

// The weighted users × items matrix whose item-item dot products a block fit ranks: what
// item_similarity ranks for the same options, after the same checks.
inline csr_matrix weighted_for_blocks(const csr_matrix& user_items, const similarity_options& options) {
  options.validate();
  if (options.measure == similarity_measure::jaccard || options.shrinkage > 0.0)
    throw value_error("item blocks: the " + std::string(to_string(options.measure)) +
                      (options.shrinkage > 0.0 ? " measure with shrinkage" : " measure") +
                      " is not supported block by block; fit it in one process");
  for (std::int32_t u = 0; u < user_items.outerSize(); ++u)
    for (csr_matrix::InnerIterator it(user_items, u); it; ++it)
      if (!std::isfinite(it.value()))
        throw value_error("item blocks: value " + std::to_string(it.value()) + " of user " + std::to_string(u) + ", item " +
                          std::to_string(it.index()) + " is not finite");
  csr_matrix weighted = options.max_history > 0 ? weighted_for(limit_history(user_items, options.max_history), options)
                                                : weighted_for(user_items, options);
  weighted.makeCompressed();
  return weighted;
}

// Rows [begin, end) of the item similarity, as CSR arrays (indptr relative to the block).
struct item_block {
  std::int32_t begin = 0, end = 0;
  std::vector<std::int32_t> indptr{0}, indices;
  std::vector<double> data;
};

// by_user: the weighted users × items matrix; by_item: its transpose (items × users, each
// item's users ascending); both as detail::validate_csr accepts them. Runs on the calling
// thread: the parallelism is the blocks'.
inline item_block item_block_knn(const csr_view<double>& by_user, const csr_view<double>& by_item, std::int32_t begin,
                                 std::int32_t end, std::int32_t K) {
  if (K < 1) throw value_error("item_block_knn: K must be >= 1, got " + std::to_string(K));
  if (by_item.rows != by_user.cols || by_item.cols != by_user.rows || by_item.indices.size() != by_user.indices.size())
    throw shape_error("item_block_knn: by_item (" + std::to_string(by_item.rows) + " × " + std::to_string(by_item.cols) +
                      ") is not the transpose of by_user (" + std::to_string(by_user.rows) + " × " +
                      std::to_string(by_user.cols) + ")");
  if (begin < 0 || end < begin || end > by_user.cols)
    throw value_error("item_block_knn: rows [" + std::to_string(begin) + ", " + std::to_string(end) + ") are outside 0.." +
                      std::to_string(by_user.cols));
  item_block block;
  block.begin = begin;
  block.end = end;
  detail::sparse_accumulator<> acc(by_user.cols);
  detail::topk_heap top(static_cast<std::size_t>(K));
  std::vector<scored> row;
  for (std::int32_t i = begin; i < end; ++i) {
    for (std::int64_t p = by_item.indptr[static_cast<std::size_t>(i)]; p < by_item.indptr[static_cast<std::size_t>(i) + 1]; ++p) {
      const auto u = static_cast<std::size_t>(by_item.indices[static_cast<std::size_t>(p)]);
      const double w = by_item.data[static_cast<std::size_t>(p)];
      for (std::int64_t q = by_user.indptr[u]; q < by_user.indptr[u + 1]; ++q)
        acc.add(by_user.indices[static_cast<std::size_t>(q)], by_user.data[static_cast<std::size_t>(q)] * w);
    }
    acc.drain([&](std::int32_t j, double s, std::int32_t) { top.push(j, s); });
    top.take_sorted(row);
    std::sort(row.begin(), row.end(), [](const scored& a, const scored& b) { return a.index < b.index; });
    for (const scored& s : row) {
      block.indices.push_back(s.index);
      block.data.push_back(s.score);
    }
    block.indptr.push_back(static_cast<std::int32_t>(block.indices.size()));
  }
  return block;
}

// The blocks, in any order, stacked into the items × items similarity: they must cover
// 0..n_items exactly once.
inline csr_matrix stack_item_blocks(std::vector<item_block> blocks, std::int32_t n_items) {
  std::sort(blocks.begin(), blocks.end(), [](const item_block& a, const item_block& b) { return a.begin < b.begin; });
  std::size_t nnz = 0;
  std::int32_t next = 0;
  for (const item_block& b : blocks) {
    if (b.begin != next)
      throw value_error("stack_item_blocks: rows " + std::to_string(std::min(next, b.begin)) + ".." +
                        std::to_string(std::max(next, b.begin) - 1) + (b.begin > next ? " are missing" : " come twice"));
    if (b.indptr.size() != static_cast<std::size_t>(b.end - b.begin) + 1 || b.indices.size() != b.data.size() ||
        static_cast<std::size_t>(b.indptr.back()) != b.indices.size())
      throw shape_error("stack_item_blocks: the block of rows " + std::to_string(b.begin) + ".." + std::to_string(b.end - 1) +
                        " has inconsistent arrays");
    nnz += b.indices.size();
    next = b.end;
  }
  if (next != n_items)
    throw value_error("stack_item_blocks: the blocks end at row " + std::to_string(next) + ", the catalogue has " +
                      std::to_string(n_items) + " items");
  csr_matrix m(n_items, n_items);
  m.resizeNonZeros(static_cast<Eigen::Index>(nnz));
  std::int32_t* outer = m.outerIndexPtr();
  std::size_t at = 0;
  outer[0] = 0;
  for (const item_block& b : blocks) {
    for (std::int32_t r = 0; r < b.end - b.begin; ++r)
      outer[b.begin + r + 1] = static_cast<std::int32_t>(at) + b.indptr[static_cast<std::size_t>(r) + 1];
    std::copy(b.indices.begin(), b.indices.end(), m.innerIndexPtr() + at);
    std::copy(b.data.begin(), b.data.end(), m.valuePtr() + at);
    at += b.indices.size();
  }
  return m;
}

// The recommender a single-process fit with `options` gives, from its stacked blocks:
// passed through the saved-model format, so the similarity is checked as a loaded one is.
inline item_item_recommender item_item_from_blocks(std::vector<item_block> blocks, std::int32_t n_items,
                                                   const similarity_options& options) {
  const csr_matrix similarity = stack_item_blocks(std::move(blocks), n_items);
  return item_item_recommender::load_bytes(similarity_bytes(item_item_recommender::kind, similarity, options_metadata(options)));
}

}  // namespace shopml::recommend
