#pragma once
// Exact (brute-force) k-nearest-neighbour search over dense float32 embeddings, by cosine
// similarity or inner product, for batches of queries:
//
//   recommend::embedding_index<> index(vectors, /*dim=*/384, embedding_metric::cosine);
//   recommend::knn_result hits = index.search(queries, /*k=*/10);   // hits.ids_of(q), hits.scores_of(q)
//
// The database is stored in blocks of `block_rows` rows, each block transposed (dim ×
// rows: a "panel"), so that scoring a batch of queries against a block is a plain gemm
// (queries × dim) · (dim × rows) through kernels<Backend> with nothing to repack, and the
// block is read from memory once per batch, not once per query. Each thread takes a
// contiguous share of blocks, keeps each query's k best of a block with
// kernels<Backend>::topk and merges them into its running k best. One or two queries are
// scored with axpy over the panel's dim rows instead: a pure memory stream.
// Results: per query, descending score, ties by lower row.
//
// Storage (recommend/compact_vectors.hpp): float32, or compact float16 / int8 panels
// (2 and 1 bytes a value, int8 with a scale per row) that each thread widens to float32
// one block at a time before the same gemm; an int8 row's scores are then multiplied by
// its scale. Compact storage saves memory, not time: the gemm still runs in float32.
//
// Bad input: a dimension of 0, a vector count not a multiple of dim, non-finite values
// (value_error naming the row), k = 0; k larger than the index returns every row.
// Cosine rows of zero norm score 0 against everything. search() is const and thread-safe.
// The algorithm is written against kernels<Backend> on host memory; only the CPU backend
// is instantiated and tested.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shopml/backend/cpu.hpp"
#include "shopml/backend/kernels.hpp"
#include "shopml/backend/tags.hpp"
#include "shopml/error.hpp"
#include "shopml/parallel.hpp"
#include "shopml/recommend/compact_vectors.hpp"

namespace shopml::recommend {

enum class embedding_metric { cosine, inner_product };

// k nearest rows for each of `queries` queries, row-major queries × k.
struct knn_result {
  std::size_t k = 0;
  std::vector<std::int32_t> ids;
  std::vector<float> scores;

  std::size_t queries() const { return k == 0 ? 0 : ids.size() / k; }
  std::span<const std::int32_t> ids_of(std::size_t q) const { return std::span<const std::int32_t>(ids).subspan(q * k, k); }
  std::span<const float> scores_of(std::size_t q) const { return std::span<const float>(scores).subspan(q * k, k); }
};

namespace detail {

// The k best (score, row) pairs seen, best = higher score, then lower row; worst on top.
class best_rows {
 public:
  explicit best_rows(std::size_t k = 0) : k_(k) { heap_.reserve(k); }

  static bool better(const std::pair<float, std::int32_t>& a, const std::pair<float, std::int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  }
  // The score a candidate must beat (ties aside) to get in, -inf while not full.
  float floor() const { return heap_.size() < k_ ? -INFINITY : heap_.front().first; }

  void push(float score, std::int32_t row) {
    const std::pair<float, std::int32_t> e{score, row};
    if (heap_.size() < k_) {
      heap_.push_back(e);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (k_ > 0 && better(e, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = e;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }
  void merge(const best_rows& other) {
    for (const auto& [score, row] : other.heap_) push(score, row);
  }
  // Best first; pads with (-1, -inf) up to k.
  void write(std::int32_t* ids, float* scores) {
    std::sort(heap_.begin(), heap_.end(), better);
    for (std::size_t i = 0; i < k_; ++i) {
      ids[i] = i < heap_.size() ? heap_[i].second : -1;
      scores[i] = i < heap_.size() ? heap_[i].first : -INFINITY;
    }
  }

 private:
  std::size_t k_;
  std::vector<std::pair<float, std::int32_t>> heap_;
};

}  // namespace detail

template <class Backend = cpu>
class embedding_index {
  using K = kernels<Backend>;

 public:
  // Rows of the database: block_rows at a time are scored against a batch of queries.
  static constexpr std::size_t block_rows = 256;
  // Queries scored together against a block (bounds the score tile to 256 KB).
  static constexpr std::size_t query_block = 256;

  // Copies `vectors` (rows × dim, row-major).
  embedding_index(std::span<const float> vectors, std::size_t dim, embedding_metric metric = embedding_metric::cosine,
                  int threads = 0, vector_storage storage = vector_storage::f32)
      : embedding_index(std::vector<float>(vectors.begin(), vectors.end()), dim, metric, threads, storage) {}

  // Takes `vectors` over (no copy: large catalogues are gigabytes).
  embedding_index(std::vector<float>&& vectors, std::size_t dim, embedding_metric metric = embedding_metric::cosine,
                  int threads = 0, vector_storage storage = vector_storage::f32)
      : dim_(dim), metric_(metric), threads_(threads), storage_(storage), data_(std::move(vectors)) {
    if (dim == 0) throw value_error("embedding_index: dim must be > 0");
    if (data_.size() % dim != 0)
      throw shape_error("embedding_index: " + std::to_string(data_.size()) + " values are not rows of dim " +
                        std::to_string(dim));
    rows_ = data_.size() / dim;
    if (rows_ > static_cast<std::size_t>(INT32_MAX)) throw value_error("embedding_index: more than 2^31-1 rows");
    check_finite(data_, "embedding_index: row ");
    if (metric_ == embedding_metric::cosine) K::l2_normalize(data_.data(), rows_, dim_, threads_);
    // Transpose each block in place: block b's rows and its panel occupy the same floats.
    const std::size_t blocks = (rows_ + block_rows - 1) / block_rows;
    parallel_for(0, static_cast<std::ptrdiff_t>(blocks), threads_, [&](std::ptrdiff_t b) {
      const std::size_t row0 = static_cast<std::size_t>(b) * block_rows, n = std::min(block_rows, rows_ - row0);
      float* block = data_.data() + row0 * dim_;
      const std::vector<float> rows(block, block + n * dim_);
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t d = 0; d < dim_; ++d) block[d * n + r] = rows[r * dim_ + d];
    });
    if (storage_ != vector_storage::f32) compact();
  }

  std::size_t size() const { return rows_; }
  std::size_t dim() const { return dim_; }
  embedding_metric metric() const { return metric_; }
  vector_storage storage_type() const { return storage_; }
  // Row i as stored (unit length for cosine; float16 / int8 values widened and scaled),
  // gathered from its panel.
  std::vector<float> vector(std::size_t i) const {
    if (i >= rows_) throw value_error("embedding_index: row " + std::to_string(i) + " is outside 0.." + std::to_string(rows_));
    const std::size_t row0 = i / block_rows * block_rows, n = std::min(block_rows, rows_ - row0);
    std::vector<float> panel_buffer;
    const float* panel = panel_of(row0 / block_rows, panel_buffer);
    std::vector<float> v(dim_);
    const float scale = storage_ == vector_storage::i8 ? scales_[i] : 1.0f;
    for (std::size_t d = 0; d < dim_; ++d) v[d] = scale * panel[d * n + (i - row0)];
    return v;
  }
  // Similarity of two stored rows.
  float score(std::size_t i, std::size_t j) const { return K::dot(vector(i).data(), vector(j).data(), dim_); }
  // Every stored float32 value (in panel order): what a scan reads; empty for compact storage.
  std::span<const float> storage() const { return data_; }
  // Bytes the stored vectors take (values and int8 scales).
  std::size_t storage_bytes() const {
    return data_.size() * sizeof(float) + halves_.size() * 2 + bytes_.size() + scales_.size() * sizeof(float);
  }

  // The k best rows for each query (row-major queries × dim).
  knn_result search(std::span<const float> queries, std::size_t k, int threads = 0) const {
    if (k == 0) throw value_error("embedding_index::search: k must be >= 1");
    if (queries.size() % dim_ != 0)
      throw shape_error("embedding_index::search: " + std::to_string(queries.size()) + " query values are not rows of dim " +
                        std::to_string(dim_));
    check_finite(queries, "embedding_index::search: query ");
    const std::size_t n_queries = queries.size() / dim_;
    k = std::min(k, rows_);
    knn_result result;
    result.k = k;
    result.ids.assign(n_queries * k, -1);
    result.scores.assign(n_queries * k, -INFINITY);
    if (n_queries == 0 || k == 0) return result;

    std::vector<float> q(queries.begin(), queries.end());
    if (metric_ == embedding_metric::cosine) K::l2_normalize(q.data(), n_queries, dim_, threads);

    const std::size_t blocks = (rows_ + block_rows - 1) / block_rows;
    const int n_threads =
        static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(num_threads(threads > 0 ? threads : threads_)), blocks));
    std::vector<std::vector<detail::best_rows>> best(static_cast<std::size_t>(n_threads),
                                                     std::vector<detail::best_rows>(n_queries, detail::best_rows(k)));
    auto scan = [&](int t) {
      const std::size_t first = blocks * static_cast<std::size_t>(t) / static_cast<std::size_t>(n_threads);
      const std::size_t last = blocks * (static_cast<std::size_t>(t) + 1) / static_cast<std::size_t>(n_threads);
      scan_blocks(q.data(), n_queries, k, first, last, best[static_cast<std::size_t>(t)]);
    };
    parallel_for(0, n_threads, n_threads, [&](std::ptrdiff_t t) { scan(static_cast<int>(t)); });
    for (std::size_t qi = 0; qi < n_queries; ++qi) {
      for (int t = 1; t < n_threads; ++t) best[0][qi].merge(best[static_cast<std::size_t>(t)][qi]);
      best[0][qi].write(result.ids.data() + qi * k, result.scores.data() + qi * k);
    }
    return result;
  }

 private:
  void check_finite(std::span<const float> values, const char* what) const {
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!std::isfinite(values[i]))
        throw value_error(std::string(what) + std::to_string(i / dim_) + " holds a non-finite value at column " +
                          std::to_string(i % dim_));
  }

  // The panels re-encoded as float16 or int8 (same layout), the float32 copy freed.
  void compact() {
    if (storage_ == vector_storage::f16) {
      halves_.resize(data_.size());
      encode_f16(data_.data(), data_.size(), halves_.data(), "embedding_index");
    } else {
      // Scales are per row, and a panel holds its rows as columns: gather each row first.
      bytes_.resize(data_.size());
      scales_.resize(rows_);
      std::vector<float> row(dim_);
      std::vector<std::int8_t> coded(dim_);
      for (std::size_t row0 = 0; row0 < rows_; row0 += block_rows) {
        const std::size_t n = std::min(block_rows, rows_ - row0);
        for (std::size_t r = 0; r < n; ++r) {
          for (std::size_t d = 0; d < dim_; ++d) row[d] = data_[row0 * dim_ + d * n + r];
          scales_[row0 + r] = encode_i8(row.data(), dim_, coded.data());
          for (std::size_t d = 0; d < dim_; ++d) bytes_[row0 * dim_ + d * n + r] = coded[d];
        }
      }
    }
    std::vector<float>().swap(data_);
  }

  // Block b's panel in float32: the stored one, or the compact one widened into `buffer`
  // (int8 values unscaled: their scores are scaled per row after the product).
  const float* panel_of(std::size_t b, std::vector<float>& buffer) const {
    const std::size_t row0 = b * block_rows, values = std::min(block_rows, rows_ - row0) * dim_;
    if (storage_ == vector_storage::f32) return data_.data() + row0 * dim_;
    buffer.resize(values);
    if (storage_ == vector_storage::f16)
      K::widen_f16(halves_.data() + row0 * dim_, values, buffer.data());
    else
      K::widen_i8(bytes_.data() + row0 * dim_, values, buffer.data());
    return buffer.data();
  }

  // Scores blocks [first, last) against all queries into `best` (one per query).
  void scan_blocks(const float* q, std::size_t n_queries, std::size_t k, std::size_t first, std::size_t last,
                   std::vector<detail::best_rows>& best) const {
    const std::size_t tile_queries = std::min(n_queries, query_block);
    std::vector<float> tile(tile_queries * block_rows);
    std::vector<float> top_scores(k);
    std::vector<std::uint32_t> top_rows(k);
    std::vector<float> panel_buffer;
    for (std::size_t b = first; b < last; ++b) {
      const std::size_t row0 = b * block_rows;
      const std::size_t n = std::min(block_rows, rows_ - row0);
      const float* panel = panel_of(b, panel_buffer);
      for (std::size_t q0 = 0; q0 < n_queries; q0 += tile_queries) {
        const std::size_t m = std::min(tile_queries, n_queries - q0);
        if (m <= 2) {  // a memory stream: axpy over the panel's rows, no gemm packing
          std::fill(tile.begin(), tile.begin() + static_cast<std::ptrdiff_t>(m * n), 0.0f);
          for (std::size_t qi = 0; qi < m; ++qi)
            for (std::size_t d = 0; d < dim_; ++d) K::axpy(n, q[(q0 + qi) * dim_ + d], panel + d * n, tile.data() + qi * n);
        } else {
          K::gemm(false, m, n, dim_, 1.0f, q + q0 * dim_, dim_, panel, n, 0.0f, tile.data(), n, nullptr, 1);
        }
        if (storage_ == vector_storage::i8)
          for (std::size_t qi = 0; qi < m; ++qi)
            for (std::size_t r = 0; r < n; ++r) tile[qi * n + r] *= scales_[row0 + r];
        for (std::size_t qi = 0; qi < m; ++qi) {
          const float* scores = tile.data() + qi * n;
          auto& running = best[q0 + qi];
          const std::size_t kk = std::min(k, n);
          K::topk(scores, n, kk, top_scores.data(), top_rows.data());
          for (std::size_t i = 0; i < kk && top_scores[i] >= running.floor(); ++i)
            running.push(top_scores[i], static_cast<std::int32_t>(row0 + top_rows[i]));
        }
      }
    }
  }

  std::size_t dim_;
  std::size_t rows_ = 0;
  embedding_metric metric_;
  int threads_;
  vector_storage storage_;
  std::vector<float> data_;            // float32 panels
  std::vector<std::uint16_t> halves_;  // or float16 panels
  std::vector<std::int8_t> bytes_;     // or int8 panels ...
  std::vector<float> scales_;          // ... with one scale per row
};

}  // namespace shopml::recommend
