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
//    (ascending) over the items of each user, the K best of each row kept.
// Sums are float64 in implicit's order, so scores and ties are bit-identical. Which of several
// items tied at the K-th place are kept depends on the order they reach the heap; every road
// below computes the scores order-free and recovers implicit's order only for those ties.
//
// Two roads, the same neighbours (knn_options::road picks one; automatic by default):
//  * sparse (any catalogue size): rows in blocks handed to threads, each thread with one
//    accumulator slot per item (16 bytes: sum, the row's stamp, the first user to touch
//    it), indexed by popularity rank so the slots most rows touch share few cache lines;
//    per-row selection of the K-th score. Memory: W, its transpose, one int32 per
//    interaction, the result (items × K) and 16 bytes × items per thread — nothing items².
//    Implicit's order is "the reverse of first touch", i.e. descending by (first user that
//    links i and j, j), which the slots record.
//  * dense (no transform, every weight positive, items² doubles within dense_budget_bytes):
//    Wᵀ W is symmetric bit for bit (each s_ij sums the same products over the same users in
//    the same order as s_ji), so only j >= i is accumulated, straight into a dense matrix,
//    and mirrored; rows with a tie at the K-th place replay implicit's traversal.
// Long fits report progress (knn_options::progress, a bar on a terminal).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/parallel.hpp"
#include "shopml/progress.hpp"
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
      : sums_(static_cast<std::size_t>(size), 0.0),
        seen_(static_cast<std::size_t>(size), 0),
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

// How all_pairs_knn computes Wᵀ W: `automatic` takes the dense symmetric road when it
// applies (no transform, every weight positive, items² doubles within dense_budget_bytes)
// and the sparse road otherwise; `dense` and `sparse` force one (`dense` where it cannot
// apply throws value_error). Both give the same neighbours.
enum class knn_road { automatic, dense, sparse };

struct knn_options {
  int threads = 0;  // 0 = the library default (shopml::set_num_threads)
  knn_road road = knn_road::automatic;
  progress_callback progress{};         // (rows done, rows) from a worker thread; may throw to stop the fit
  std::optional<bool> show_progress{};  // the bar on stderr: nullopt = when stderr is a terminal and the fit is long
};

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

// An n × n CSR matrix of at most K neighbours per row, filled row by row in parallel and
// compacted once: row i is written at i*K of the final arrays (no second items × K copy).
class neighbour_rows {
 public:
  neighbour_rows(std::int32_t n, std::size_t k) : k_(k), m_(n, n), kept_(static_cast<std::size_t>(n), 0) {
    m_.resizeNonZeros(static_cast<Eigen::Index>(static_cast<std::size_t>(n) * k));
  }
  // Row i's neighbours, any order, at most K of them.
  void set(std::int32_t i, std::span<scored> row) {
    std::sort(row.begin(), row.end(), [](const scored& a, const scored& b) { return a.index < b.index; });
    const std::size_t at = static_cast<std::size_t>(i) * k_;
    for (std::size_t c = 0; c < row.size(); ++c) {
      m_.innerIndexPtr()[at + c] = row[c].index;
      m_.valuePtr()[at + c] = row[c].score;
    }
    kept_[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(row.size());
  }
  csr_matrix take() && {
    std::int32_t* outer = m_.outerIndexPtr();
    std::int32_t* inner = m_.innerIndexPtr();
    double* values = m_.valuePtr();
    std::size_t to = 0;
    outer[0] = 0;
    for (std::size_t i = 0; i < kept_.size(); ++i) {  // rows only move towards the front
      const std::size_t from = i * k_;
      std::copy(inner + from, inner + from + kept_[i], inner + to);
      std::copy(values + from, values + from + kept_[i], values + to);
      to += static_cast<std::size_t>(kept_[i]);
      outer[i + 1] = static_cast<std::int32_t>(to);
    }
    m_.resizeNonZeros(static_cast<Eigen::Index>(to));
    csr_matrix out;
    out.swap(m_);  // Eigen 3.4 sparse matrices have no move: std::move would copy
    return out;
  }

 private:
  std::size_t k_;
  csr_matrix m_;
  std::vector<std::int32_t> kept_;
};

// Runs body(state, i) for i in [0, n) on per-thread state made by make_state(), in blocks of
// rows handed out dynamically; the bar advances by a block at a time. The first exception a
// body (or the progress callback) throws stops the remaining blocks and is rethrown here.
template <class MakeState, class Body>
void parallel_rows(std::int32_t n, int threads, progress_bar* bar, MakeState&& make_state, Body&& body) {
  constexpr std::int32_t block = 64;
  const std::int32_t blocks = (n + block - 1) / block;
  std::exception_ptr failure;
  std::atomic<bool> stop{false};
  auto run = [&](auto& state, std::int32_t b) {
    if (stop.load(std::memory_order_relaxed)) return;
    try {
      const std::int32_t end = std::min(n, (b + 1) * block);
      for (std::int32_t i = b * block; i < end; ++i) body(state, i);
      if (bar) bar->advance(static_cast<std::size_t>(end - b * block));
    } catch (...) {
#if defined(_OPENMP)
#pragma omp critical(shopml_parallel_rows)
#endif
      if (!failure) failure = std::current_exception();
      stop = true;
    }
  };
  const int n_threads = num_threads(threads);
#if defined(_OPENMP)
  if (n_threads > 1 && blocks > 1) {
#pragma omp parallel num_threads(n_threads)
    {
      auto state = make_state();
#pragma omp for schedule(dynamic, 1)
      for (std::int32_t b = 0; b < blocks; ++b) run(state, b);
    }
  } else
#endif
  {
    auto state = make_state();
    for (std::int32_t b = 0; b < blocks; ++b) run(state, b);
  }
  (void)n_threads;
  if (failure) std::rethrow_exception(failure);
}

// The k-th largest of x (k <= x.size()): a min-heap of the k largest so far, which most
// values leave at one well-predicted comparison (nth_element's partitions mispredict).
inline double kth_largest(std::span<const double> x, std::size_t k, std::vector<double>& heap) {
  heap.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(k));
  std::make_heap(heap.begin(), heap.end(), std::greater<double>());
  for (std::size_t t = k; t < x.size(); ++t)
    if (x[t] > heap.front()) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<double>());
      heap.back() = x[t];
      std::push_heap(heap.begin(), heap.end(), std::greater<double>());
    }
  return heap.front();
}

// The sparse road's accumulator slot: "touched in row i" is told by stamp == i + 1, so
// nothing is cleared between rows; `first` is the user who touched it first in the row.
template <bool with_counts>
struct accumulator_slot {
  double sum = 0.0;
  std::int32_t stamp = 0;
  std::int32_t first = 0;
};
template <>
struct accumulator_slot<true> {
  double sum = 0.0;
  std::int32_t stamp = 0;
  std::int32_t first = 0;
  std::int32_t count = 0;
};

// The sparse road. Row i of Wᵀ W is accumulated as implicit does — over i's users ascending,
// float64 sums — so every score is implicit's to the bit; each row's K best are kept. Only
// the order of the candidates differs, and it matters only for ties:
//  * the accumulator is indexed by popularity rank (the most popular item first), so the
//    slots most rows touch share a few cache lines instead of being spread over items × 16 B;
//  * selection finds the K-th largest score v; all items above v are kept whatever the order,
//    and only when more items tie at v than places remain are implicit's pushes replayed. The
//    replay is restricted to the items scoring >= v (an item below v only ever holds a place
//    a tie would otherwise take while the heap is not full, and is evicted before any of them:
//    the ties kept are the same) and follows implicit's order, the reverse of first touch:
//    descending by (first common user, item index).
template <bool with_counts, class Transform>
csr_matrix all_pairs_knn_sparse(const csr_matrix& user_items, std::int32_t K, const knn_options& options, Transform&& transform) {
  const std::int32_t n_items = static_cast<std::int32_t>(user_items.cols());
  const both_orientations m(user_items);
  const auto *user_ptr = m.user_ptr, *item_ptr = m.item_ptr, *item_idx = m.item_idx;
  const double *user_val = m.user_val, *item_val = m.item_val;
  const std::int32_t nnz = static_cast<std::int32_t>(m.by_item.nonZeros());
  const std::size_t k = static_cast<std::size_t>(K);

  std::vector<std::int32_t> item_of_rank(static_cast<std::size_t>(n_items)), rank_of(static_cast<std::size_t>(n_items));
  std::iota(item_of_rank.begin(), item_of_rank.end(), 0);
  std::stable_sort(item_of_rank.begin(), item_of_rank.end(),
                   [&](std::int32_t a, std::int32_t b) { return item_ptr[a + 1] - item_ptr[a] > item_ptr[b + 1] - item_ptr[b]; });
  for (std::int32_t r = 0; r < n_items; ++r) rank_of[static_cast<std::size_t>(item_of_rank[static_cast<std::size_t>(r)])] = r;
  std::vector<std::int32_t> ranked(static_cast<std::size_t>(nnz));  // the users' rows by rank
  for (std::int32_t q = 0; q < nnz; ++q)
    ranked[static_cast<std::size_t>(q)] = rank_of[static_cast<std::size_t>(user_items.innerIndexPtr()[q])];
  const std::int32_t* user_rank = ranked.data();
  const std::int32_t* original = item_of_rank.data();

  using slot_type = accumulator_slot<with_counts>;
  struct candidate {
    std::int32_t index, first;
    double score;
  };
  struct state {
    std::vector<slot_type> acc;
    std::vector<std::int32_t> touched;
    std::vector<double> scores, kth;
    std::vector<candidate> ties;
    std::vector<scored> row;
    topk_heap top;
  };
  neighbour_rows out(n_items, k);
  progress_bar bar("item-item fit", static_cast<std::size_t>(n_items), options.show_progress, options.progress);
  parallel_rows(
      n_items, options.threads, &bar,
      [&] {
        return state{std::vector<slot_type>(static_cast<std::size_t>(n_items)),
                     std::vector<std::int32_t>(static_cast<std::size_t>(n_items) + 1),
                     {},
                     {},
                     {},
                     {},
                     topk_heap(k)};
      },
      [&](state& st, std::int32_t i) {
        slot_type* acc = st.acc.data();
        std::int32_t* touched = st.touched.data();
        const std::int32_t stamp = i + 1;
        std::size_t n = 0;
        for (std::int32_t p = item_ptr[i]; p < item_ptr[i + 1]; ++p) {
          // The users' rows are scattered through memory: ask for the next ones early.
          if (p + 8 < nnz) __builtin_prefetch(user_ptr + item_idx[p + 8]);
          if (p + 4 < nnz) {
            const std::int32_t ahead = user_ptr[item_idx[p + 4]];
            __builtin_prefetch(user_rank + ahead);
            __builtin_prefetch(user_val + ahead);
          }
          const std::int32_t u = item_idx[p];
          const double w = item_val[p];
          for (std::int32_t q = user_ptr[u]; q < user_ptr[u + 1]; ++q) {
            const std::int32_t j = user_rank[q];
            slot_type& slot = acc[j];
            const bool fresh = slot.stamp != stamp;
            touched[n] = j;  // kept only when fresh: no branch to mispredict (one spare slot at the end)
            n += fresh;
            slot.sum = (fresh ? 0.0 : slot.sum) + user_val[q] * w;
            slot.first = fresh ? u : slot.first;
            if constexpr (with_counts) slot.count = (fresh ? 0 : slot.count) + 1;
            slot.stamp = stamp;
          }
        }
        st.scores.resize(n);
        for (std::size_t t = 0; t < n; ++t) {
          const slot_type& slot = acc[touched[t]];
          std::int32_t count = 0;
          if constexpr (with_counts) count = slot.count;
          st.scores[t] = transform(i, original[touched[t]], slot.sum, count);
        }
        st.row.clear();
        const double v = n > k ? kth_largest(st.scores, k, st.kth) : -std::numeric_limits<double>::infinity();
        for (std::size_t t = 0; t < n; ++t)
          if (st.scores[t] >= v) st.row.push_back({original[touched[t]], st.scores[t]});
        if (st.row.size() > k) {  // ties at the K-th place: implicit's order decides
          st.ties.clear();
          for (std::size_t t = 0; t < n; ++t)
            if (st.scores[t] >= v) st.ties.push_back({original[touched[t]], acc[touched[t]].first, st.scores[t]});
          std::sort(st.ties.begin(), st.ties.end(), [](const candidate& a, const candidate& b) {
            return a.first != b.first ? a.first > b.first : a.index > b.index;
          });
          for (const candidate& c : st.ties) st.top.push(c.index, c.score);
          st.top.take_sorted(st.row);
        }
        out.set(i, st.row);
      });
  return std::move(out).take();
}

}  // namespace detail

// For every item i, the K largest transform(i, j, s_ij, c_ij) over the items j that share a
// user with i, where s_ij = sum_u W[u,i] W[u,j] and c_ij the number of such users (counted
// only when with_counts). Returns the items × items matrix of the kept scores (row i: i's
// neighbours, column indices sorted). Always the sparse road. Memory: the matrix and its
// transpose, the result (items × K), and per thread 16 bytes per item.
template <bool with_counts = false, class Transform>
csr_matrix all_pairs_knn(const csr_matrix& user_items, std::int32_t K, const knn_options& options, Transform&& transform) {
  if (K < 1) throw value_error("all_pairs_knn: K must be >= 1, got " + std::to_string(K));
  if (options.road == knn_road::dense) throw value_error("all_pairs_knn: the dense road takes no transform");
  return detail::all_pairs_knn_sparse<with_counts>(user_items, K, options, std::forward<Transform>(transform));
}

template <bool with_counts = false, class Transform>
csr_matrix all_pairs_knn(const csr_matrix& user_items, std::int32_t K, int threads, Transform&& transform) {
  return all_pairs_knn<with_counts>(user_items, K, knn_options{.threads = threads}, std::forward<Transform>(transform));
}

namespace detail {

// The symmetric road (see the top of this file); requires every weight > 1e-150, so that
// every product is > 0 and "some user links i and j" is exactly "s_ij > 0".
inline csr_matrix all_pairs_knn_symmetric(const csr_matrix& user_items, std::int32_t K, const knn_options& options) {
  const int threads = options.threads;
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
      for (std::int32_t q = user_ptr[u]; q < user_ptr[u + 1]; ++q)
        position[static_cast<std::size_t>(cursor[static_cast<std::size_t>(user_idx[q])]++)] = q;
  }

  // Uninitialised: each row's pass zeroes its own upper part (in parallel, while the row is
  // hot in cache), the mirror writes the lower part.
  const std::unique_ptr<double[]> dense(new double[un * un]);
  // The bar counts each row twice: its product, then its selection.
  progress_bar bar("item-item fit", 2 * un, options.show_progress, options.progress);
  parallel_rows(
      n, threads, &bar, [] { return 0; },
      [&](int, std::int32_t i) {
        double* row = dense.get() + static_cast<std::size_t>(i) * un;
        std::fill(row + i, row + n, 0.0);
        for (std::int32_t p = item_ptr[i]; p < item_ptr[i + 1]; ++p) {
          const std::int32_t u = item_idx[p];
          const double w = item_val[p];
          for (std::int32_t q = position[static_cast<std::size_t>(p)]; q < user_ptr[u + 1]; ++q)
            row[user_idx[q]] += user_val[q] * w;
        }
      });
  // Mirror the upper triangle, tile by tile to stay in cache.
  constexpr std::int32_t tile = 64;
  const std::int32_t tiles = (n + tile - 1) / tile;
  parallel_rows(
      tiles, threads, nullptr, [] { return 0; },
      [&](int, std::int32_t tb) {
        const std::int32_t b0 = tb * tile, b1 = std::min(n, b0 + tile);
        for (std::int32_t ta = 0; ta <= tb; ++ta) {
          const std::int32_t a0 = ta * tile, a1 = std::min(n, a0 + tile);
          for (std::int32_t a = a0; a < a1; ++a)
            for (std::int32_t b = std::max(b0, a + 1); b < b1; ++b)
              dense[static_cast<std::size_t>(b) * un + a] = dense[static_cast<std::size_t>(a) * un + b];
        }
      });

  neighbour_rows result(n, k);
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
      n, threads, &bar,
      [&] {
        return state{
            topk_heap(k), {}, {}, std::vector<double>(2 * k), std::vector<scored>(un), std::vector<std::uint8_t>(un, 0), {}};
      },
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
        result.set(i, st.row);
      });
  return std::move(result).take();
}

inline bool all_weights_positive(const csr_matrix& m) {
  const double* v = m.valuePtr();
  return std::all_of(v, v + m.nonZeros(), [](double x) { return x > 1e-150 && x <= 1e150; });
}

}  // namespace detail

// The largest items × items product all_pairs_knn computes densely (the symmetric road).
inline constexpr std::size_t dense_budget_bytes = std::size_t{512} << 20;

// implicit.nearest_neighbours.all_pairs_knn(W, K): the K best items by s_ij for every item i.
inline csr_matrix all_pairs_knn(const csr_matrix& user_items, std::int32_t K, const knn_options& options) {
  if (K < 1) throw value_error("all_pairs_knn: K must be >= 1, got " + std::to_string(K));
  const auto n = static_cast<std::size_t>(user_items.cols());
  const bool dense_applies = detail::all_weights_positive(user_items);
  const bool dense_fits = n * n * sizeof(double) <= dense_budget_bytes;
  if (options.road == knn_road::dense && !dense_applies)
    throw value_error("all_pairs_knn: the dense road needs every weight in (1e-150, 1e150]");
  if (options.road == knn_road::dense || (options.road == knn_road::automatic && dense_fits && dense_applies))
    return detail::all_pairs_knn_symmetric(user_items, K, options);
  return detail::all_pairs_knn_sparse<false>(user_items, K, options,
                                             [](std::int32_t, std::int32_t, double s, std::int32_t) { return s; });
}

inline csr_matrix all_pairs_knn(const csr_matrix& user_items, std::int32_t K, int threads = 0) {
  return all_pairs_knn(user_items, K, knn_options{.threads = threads});
}

}  // namespace shopml::recommend
