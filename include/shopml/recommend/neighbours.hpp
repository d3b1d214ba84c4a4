#pragma once
// The sparse machinery behind the item-item recommenders, following implicit 0.7.3
// (implicit/nearest_neighbours.h and _nearest_neighbours.pyx) step for step, because the
// order in which candidates reach the top-K decides which of several tied scores are kept:
//
//  * sparse_accumulator is implicit's SparseMatrixMultiplier: sums into a dense row and
//    remembers which indices were touched; draining visits them in reverse order of first
//    touch (implicit keeps them in a linked list whose head is the latest new index);
//  * topk_heap is implicit's TopK: a min-heap on (score, index) that admits a candidate while
//    not full or when its score is strictly above the smallest kept score;
//  * all_pairs_knn is implicit's all_pairs_knn: row i of Wᵀ W accumulated user by user
//    (ascending) over the items of each user (ascending), the K best of each row kept.
// Sums are float64 in implicit's order, so scores and ties are bit-identical.
//
// Without a transform, when every weight is positive and the items × items product fits in
// `dense_budget_bytes`, all_pairs_knn takes a faster road to the same result: Wᵀ W is
// symmetric bit for bit (each s_ij sums the same products over the same users in the same
// order as s_ji), so only j >= i is accumulated, straight into a dense matrix, and mirrored.
// The visiting order matters only when scores tie at the K-th place; those rows alone replay
// implicit's traversal to recover the order (the result is order-free otherwise: every item
// scoring above the K-th is kept, and all K-th-place items are kept when no more tie).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/parallel.hpp"
#include "shopml/recommend/interactions.hpp"

namespace shopml::recommend {

// A neighbour or a recommendation: dense index and score.
struct scored {
  std::int32_t index = -1;
  double score = 0.0;
  friend bool operator==(const scored&, const scored&) = default;
};

namespace detail {

// Sum of sparse rows into a dense accumulator; `with_counts` also counts the contributions
// per index (the co-support that Jaccard and shrinkage need).
template <bool with_counts = false>
class sparse_accumulator {
 public:
  explicit sparse_accumulator(std::int32_t size)
      : sums_(static_cast<std::size_t>(size), 0.0), seen_(static_cast<std::size_t>(size), 0),
        counts_(with_counts ? static_cast<std::size_t>(size) : 0, 0) {
    touched_.reserve(static_cast<std::size_t>(size));
  }

  void add(std::int32_t index, double value) {
    const auto i = static_cast<std::size_t>(index);
    sums_[i] += value;
    if constexpr (with_counts) ++counts_[i];
    if (!seen_[i]) {
      seen_[i] = 1;
      touched_.push_back(index);
    }
  }

  // Sets the sum of an index to zero, keeping it among the touched (implicit's remove_own_likes).
  void zero(std::int32_t index) { sums_[static_cast<std::size_t>(index)] = 0.0; }

  // fn(index, sum, count) for every touched index, latest first touch first; then clears.
  template <class Fn>
  void drain(Fn&& fn) {
    for (auto it = touched_.rbegin(); it != touched_.rend(); ++it) {
      const auto i = static_cast<std::size_t>(*it);
      fn(*it, sums_[i], with_counts ? counts_[i] : 0);
      sums_[i] = 0.0;
      seen_[i] = 0;
      if constexpr (with_counts) counts_[i] = 0;
    }
    touched_.clear();
  }

 private:
  std::vector<double> sums_;
  std::vector<std::uint8_t> seen_;
  std::vector<std::int32_t> counts_;
  std::vector<std::int32_t> touched_;
};

// implicit's TopK<int, double>: the kept set depends only on the sequence of pushes (the
// minimum of (score, index) pairs is unique), so the heap itself is ours: the common
// "not better than the smallest kept" case returns at once, and a replacement sifts the new
// pair down from the top instead of popping and pushing.
class topk_heap {
 public:
  explicit topk_heap(std::size_t k) : k_(k) { heap_.reserve(k); }

  void push(std::int32_t index, double score) {
    if (heap_.size() < k_) {
      heap_.emplace_back(score, index);
      std::push_heap(heap_.begin(), heap_.end(), order);
    } else if (k_ > 0 && score > heap_.front().first) {
      replace_top({score, index});
    }
  }

  // Descending by (score, index), as implicit's sort_heap with std::greater; then empty.
  void take_sorted(std::vector<scored>& out) {
    std::sort(heap_.begin(), heap_.end(), order);
    out.clear();
    for (const auto& [score, index] : heap_) out.push_back({index, score});
    heap_.clear();
  }

 private:
  using entry = std::pair<double, std::int32_t>;
  static constexpr std::greater<entry> order{};

  void replace_top(entry e) {
    const std::size_t n = heap_.size();
    std::size_t hole = 0;
    for (std::size_t child; (child = 2 * hole + 1) < n; hole = child) {
      if (child + 1 < n && heap_[child + 1] < heap_[child]) ++child;
      if (!(heap_[child] < e)) break;
      heap_[hole] = heap_[child];
    }
    heap_[hole] = e;
  }

  std::size_t k_;
  std::vector<entry> heap_;
};

}  // namespace detail

// For every item i, the K largest transform(i, j, s_ij, c_ij) over the items j that share a
// user with i, where s_ij = sum_u W[u,i] W[u,j] and c_ij the number of such users. Returns the
// items × items matrix of the kept scores (row i: i's neighbours, column indices sorted).
// With no transform this is implicit.nearest_neighbours.all_pairs_knn(W, K).
namespace detail {

// A users × items matrix by user (CSR, as given) and by item (CSC: each item's users ascending).
struct both_orientations {
  explicit both_orientations(const csr_matrix& user_items) : by_item(user_items) {
    by_item.makeCompressed();
    user_ptr = user_items.outerIndexPtr();
    user_idx = user_items.innerIndexPtr();
    user_val = user_items.valuePtr();
    item_ptr = by_item.outerIndexPtr();
    item_idx = by_item.innerIndexPtr();
    item_val = by_item.valuePtr();
  }
  csc_matrix by_item;
  const std::int32_t *user_ptr, *user_idx, *item_ptr, *item_idx;
  const double *user_val, *item_val;
};

// Packs per-row neighbour lists (row i at i*K, kept[i] of them) into a CSR matrix.
inline csr_matrix pack_neighbours(std::vector<scored>& neighbours, const std::vector<std::int32_t>& kept, std::size_t k) {
  const auto n = static_cast<std::int32_t>(kept.size());
  csr_matrix similarity(n, n);
  similarity.reserve(Eigen::VectorXi::Map(kept.data(), n));
  for (std::int32_t i = 0; i < n; ++i) {
    auto first = neighbours.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * k);
    auto last = first + kept[static_cast<std::size_t>(i)];
    std::sort(first, last, [](const scored& a, const scored& b) { return a.index < b.index; });
    for (auto it = first; it != last; ++it) similarity.insert(i, it->index) = it->score;
  }
  similarity.makeCompressed();
  return similarity;
}

// Runs body(i) for i in [0, n) on per-thread state made by make_state(), dynamically scheduled.
template <class MakeState, class Body>
void parallel_rows(std::int32_t n, int threads, MakeState&& make_state, Body&& body) {
  const int n_threads = num_threads(threads);
#if defined(_OPENMP)
  if (n_threads > 1 && n > 1) {
#pragma omp parallel num_threads(n_threads)
    {
      auto state = make_state();
#pragma omp for schedule(dynamic, 8)
      for (std::int32_t i = 0; i < n; ++i) body(state, i);
    }
    return;
  }
#endif
  (void)n_threads;
  auto state = make_state();
  for (std::int32_t i = 0; i < n; ++i) body(state, i);
}

}  // namespace detail

template <bool with_counts = false, class Transform>
csr_matrix all_pairs_knn(const csr_matrix& user_items, std::int32_t K, int threads, Transform&& transform) {
  if (K < 1) throw value_error("all_pairs_knn: K must be >= 1, got " + std::to_string(K));
  const std::int32_t n_items = static_cast<std::int32_t>(user_items.cols());
  const detail::both_orientations m(user_items);
  const auto *user_ptr = m.user_ptr, *user_idx = m.user_idx, *item_ptr = m.item_ptr, *item_idx = m.item_idx;
  const double *user_val = m.user_val, *item_val = m.item_val;

  const std::size_t k = static_cast<std::size_t>(K);
  std::vector<std::int32_t> kept(static_cast<std::size_t>(n_items), 0);
  std::vector<scored> neighbours(static_cast<std::size_t>(n_items) * k);

  struct state {
    detail::sparse_accumulator<with_counts> acc;
    detail::topk_heap top;
    std::vector<scored> row;
  };
  detail::parallel_rows(
      n_items, threads, [&] { return state{detail::sparse_accumulator<with_counts>(n_items), detail::topk_heap(k), {}}; },
      [&](state& st, std::int32_t i) {
        for (std::int32_t p = item_ptr[i]; p < item_ptr[i + 1]; ++p) {
          const std::int32_t u = item_idx[p];
          const double w = item_val[p];
          for (std::int32_t q = user_ptr[u]; q < user_ptr[u + 1]; ++q) st.acc.add(user_idx[q], user_val[q] * w);
        }
        st.acc.drain([&](std::int32_t j, double s, std::int32_t c) { st.top.push(j, transform(i, j, s, c)); });
        st.top.take_sorted(st.row);
        std::copy(st.row.begin(), st.row.end(), neighbours.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * k));
        kept[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(st.row.size());
      });
  return detail::pack_neighbours(neighbours, kept, k);
}

namespace detail {

// The symmetric road (see the top of this file); requires every weight > 1e-150, so that
// every product is > 0 and "some user links i and j" is exactly "s_ij > 0".
inline csr_matrix all_pairs_knn_symmetric(const csr_matrix& user_items, std::int32_t K, int threads) {
  const std::int32_t n = static_cast<std::int32_t>(user_items.cols());
  const auto un = static_cast<std::size_t>(n);
  const std::size_t k = static_cast<std::size_t>(K);
  const detail::both_orientations m(user_items);
  const auto *user_ptr = m.user_ptr, *user_idx = m.user_idx, *item_ptr = m.item_ptr, *item_idx = m.item_idx;
  const double *user_val = m.user_val, *item_val = m.item_val;

  // Where each item-major entry (u, i) sits in u's row, so row i's pass starts its sweep of
  // u's items at i itself.
  std::vector<std::int32_t> position(static_cast<std::size_t>(m.by_item.nonZeros()));
  {
    std::vector<std::int32_t> cursor(item_ptr, item_ptr + n);
    for (std::int32_t u = 0; u < user_items.rows(); ++u)
      for (std::int32_t q = user_ptr[u]; q < user_ptr[u + 1]; ++q) position[static_cast<std::size_t>(cursor[static_cast<std::size_t>(user_idx[q])]++)] = q;
  }

  // Uninitialised: each row's pass zeroes its own upper part (in parallel, while the row is
  // hot in cache), the mirror writes the lower part.
  const std::unique_ptr<double[]> dense(new double[un * un]);
  parallel_rows(n, threads, [] { return 0; }, [&](int, std::int32_t i) {
    double* row = dense.get() + static_cast<std::size_t>(i) * un;
    std::fill(row + i, row + n, 0.0);
    for (std::int32_t p = item_ptr[i]; p < item_ptr[i + 1]; ++p) {
      const std::int32_t u = item_idx[p];
      const double w = item_val[p];
      for (std::int32_t q = position[static_cast<std::size_t>(p)]; q < user_ptr[u + 1]; ++q) row[user_idx[q]] += user_val[q] * w;
    }
  });
  // Mirror the upper triangle, tile by tile to stay in cache.
  constexpr std::int32_t tile = 64;
  const std::int32_t tiles = (n + tile - 1) / tile;
  parallel_rows(tiles, threads, [] { return 0; }, [&](int, std::int32_t tb) {
    const std::int32_t b0 = tb * tile, b1 = std::min(n, b0 + tile);
    for (std::int32_t ta = 0; ta <= tb; ++ta) {
      const std::int32_t a0 = ta * tile, a1 = std::min(n, a0 + tile);
      for (std::int32_t a = a0; a < a1; ++a)
        for (std::int32_t b = std::max(b0, a + 1); b < b1; ++b) dense[static_cast<std::size_t>(b) * un + a] = dense[static_cast<std::size_t>(a) * un + b];
    }
  });

  std::vector<std::int32_t> kept(un, 0);
  std::vector<scored> neighbours(un * k);
  struct state {
    topk_heap top;
    std::vector<scored> row;
    std::vector<double> linked;
    std::vector<double> slice_max;
    std::vector<scored> candidates;
    std::vector<std::uint8_t> seen;
    std::vector<std::int32_t> order;
  };
  parallel_rows(
      n, threads, [&] { return state{topk_heap(k), {}, {}, std::vector<double>(2 * k), std::vector<scored>(un), std::vector<std::uint8_t>(un, 0), {}}; },
      [&](state& st, std::int32_t i) {
        const double* row = dense.get() + static_cast<std::size_t>(i) * un;
        // With S >= K disjoint slices, the K-th largest slice maximum is at most the K-th
        // largest score (K slices each hold a score at least that large): a floor that
        // leaves few candidates for the exact selection. The slices are interleaved
        // (j mod S) since catalogues often sort popular items together.
        double floor = 0.0;
        const std::size_t slices = std::min(un, 2 * k);
        if (slices >= k) {
          double* slice_max = st.slice_max.data();
          std::copy(row, row + slices, slice_max);
          std::size_t j = slices;
          for (; j + slices <= un; j += slices)
            for (std::size_t b = 0; b < slices; ++b) slice_max[b] = std::max(slice_max[b], row[j + b]);
          for (std::size_t b = 0; j < un; ++j, ++b) slice_max[b] = std::max(slice_max[b], row[j]);
          std::nth_element(slice_max, slice_max + (k - 1), slice_max + slices, std::greater<double>());
          floor = slice_max[k - 1];
        }
        // Candidates: linked (score > 0) and at least the floor. Plain locals and a presized
        // buffer keep this loop free of reloads.
        const double cut = floor > 0.0 ? floor : std::numeric_limits<double>::denorm_min();
        scored* out = st.candidates.data();
        std::size_t found = 0;
        for (std::int32_t j = 0; j < n; ++j) {
          const double x = row[j];
          if (x >= cut) out[found++] = {j, x};
        }
        st.row.assign(out, out + found);
        if (st.row.size() > k) {  // keep those scoring at least the K-th
          st.linked.clear();
          for (const scored& c : st.row) st.linked.push_back(c.score);
          std::nth_element(st.linked.begin(), st.linked.begin() + static_cast<std::ptrdiff_t>(k - 1), st.linked.end(),
                           std::greater<double>());
          const double kth = st.linked[k - 1];
          std::erase_if(st.row, [&](const scored& c) { return c.score < kth; });
        }
        if (st.row.size() > k) {  // a tie at the K-th place: replay implicit's visiting order
          for (std::int32_t p = item_ptr[i]; p < item_ptr[i + 1]; ++p) {
            const std::int32_t u = item_idx[p];
            for (std::int32_t q = user_ptr[u]; q < user_ptr[u + 1]; ++q)
              if (!st.seen[static_cast<std::size_t>(user_idx[q])]) {
                st.seen[static_cast<std::size_t>(user_idx[q])] = 1;
                st.order.push_back(user_idx[q]);
              }
          }
          for (auto it = st.order.rbegin(); it != st.order.rend(); ++it) {
            st.top.push(*it, row[*it]);
            st.seen[static_cast<std::size_t>(*it)] = 0;
          }
          st.order.clear();
          st.top.take_sorted(st.row);
        }
        std::copy(st.row.begin(), st.row.end(), neighbours.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * k));
        kept[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(st.row.size());
      });
  return pack_neighbours(neighbours, kept, k);
}

inline bool all_weights_positive(const csr_matrix& m) {
  const double* v = m.valuePtr();
  return std::all_of(v, v + m.nonZeros(), [](double x) { return x > 1e-150 && x <= 1e150; });
}

}  // namespace detail

// The largest items × items product all_pairs_knn computes densely (the symmetric road).
inline constexpr std::size_t dense_budget_bytes = std::size_t{512} << 20;

// implicit.nearest_neighbours.all_pairs_knn(W, K): the K best items by s_ij for every item i.
inline csr_matrix all_pairs_knn(const csr_matrix& user_items, std::int32_t K, int threads = 0) {
  if (K < 1) throw value_error("all_pairs_knn: K must be >= 1, got " + std::to_string(K));
  const auto n = static_cast<std::size_t>(user_items.cols());
  if (n * n * sizeof(double) <= dense_budget_bytes && detail::all_weights_positive(user_items))
    return detail::all_pairs_knn_symmetric(user_items, K, threads);
  return all_pairs_knn(user_items, K, threads, [](std::int32_t, std::int32_t, double s, std::int32_t) { return s; });
}

}  // namespace shopml::recommend
