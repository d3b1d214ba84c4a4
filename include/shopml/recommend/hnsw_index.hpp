#pragma once
// Approximate nearest neighbours over embeddings: a hierarchical navigable small-world
// graph (HNSW: Malkov & Yashunin, 2016), in the spirit of hnswlib and faiss:
//
//   recommend::hnsw_index<> index(384, {.M = 16, .ef_construction = 200, .storage = vector_storage::i8});
//   index.add(ids, vectors, {.threads = 2, .progress = report});   // an existing id is replaced
//   knn_result hits = index.search(queries, 10, {.ef = 64});
//   auto in_stock = index.filter([&](std::int32_t id) { return stock[id] > 0; });
//   knn_result some = index.search(queries, 10, in_stock);
//   index.remove(ids);  index.save("catalogue.hnsw");  auto view = hnsw_index<>::load_mapped("catalogue.hnsw");
//
// Why HNSW and not IVF (shared/notes/scale.md): on faiss's SIFT1M runs HNSW32 reaches
// 1-recall@1 0.987 at 0.017 ms a query where IVF-Flat needs 0.046 ms for 0.956; IVF must
// be trained on a sample before the first add and its lists drift as products come and
// go, while a graph takes adds and removes one at a time; and an IVF scan touches
// nprobe/nlist of the catalogue per query (≈ 1–6 % at the usual settings), a graph walk a
// few thousand vectors. IVF wins on build time and on memory (no links), on tightly
// clustered data (bench/peers/ann.sh's variants of 3,796 reviews: faiss IVF-Flat, one probe,
// 0.994 recall at 1.8× hnswlib's queries/s; BENCHMARKS.md), and for very selective filters,
// where the answer here is the exact fallback below instead.
//
// The graph: every item is a slot on level 0 with up to 2M links; a slot reaches level l
// with probability M^-l (levels drawn from a hash of (seed, slot), so they do not depend
// on threads or batches) and holds up to M links there. Links are chosen by hnswlib's
// heuristic (a candidate is kept unless it is closer to a kept neighbour than to the new
// item). Similarity is the inner product of stored vectors (unit length under cosine),
// scored on kernels<Backend> in float32, float16 or int8 storage (compact_vectors.hpp).
//
// Changes: add() inserts new ids and replaces existing ones (the old slot is marked
// deleted and the new vector inserted); remove() marks slots deleted. Deleted slots stay
// in the graph as routes (as hnswlib's mark_deleted) and never appear in results; they
// cost memory until the index is rebuilt (deleted_slots() says how many).
//
// Filters: an item_filter is a bitset over slots with its count, made once per filter.
// A filtered search keeps walking the whole graph but only passing items enter the
// results; when the filter passes fewer items than the walk would visit (count ≤ ef ·
// 2M), or when the walk has visited as many slots as pass, the query is answered by an
// exact scan of the passing items instead (Lucene's rule), so a selective filter costs at
// most an exact scan of what passes and loses no recall.
//
// Threads: add() inserts on `threads` threads (per-slot locks, a global one for the entry
// point, as hnswlib); with one thread the graph is the same on every run, with more it
// depends on timing. search() and the other const methods are thread-safe among
// themselves, and a query's result does not depend on the search's thread count; add()
// and remove() must not run concurrently with anything else.
//
// Bad input (the index unchanged): dim mismatch, non-finite values, a value that float16
// storage cannot hold, negative or duplicate ids in one add, removing an unknown id, k = 0
// or k larger than the live items (unfiltered search) → value_error / shape_error naming
// the id, row or count; a corrupt, truncated or foreign file → parse_error (hnsw_file.hpp).

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shopml/backend/cpu.hpp"
#include "shopml/backend/kernels.hpp"
#include "shopml/error.hpp"
#include "shopml/io/atomic_write.hpp"
#include "shopml/io/mapped_file.hpp"
#include "shopml/parallel.hpp"
#include "shopml/progress.hpp"
#include "shopml/recommend/compact_vectors.hpp"
#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/hnsw_file.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace shopml::recommend {

struct hnsw_options {
  std::size_t M = 16;                 // links per slot on levels ≥ 1; 2M on level 0
  std::size_t ef_construction = 200;  // candidates kept while linking a new item
  vector_storage storage = vector_storage::f32;
  embedding_metric metric = embedding_metric::cosine;
  std::uint64_t seed = 100;
};

struct hnsw_add_options {
  int threads = 0;
  progress_callback progress = {};            // (done, total) items inserted
  std::optional<bool> show_progress = false;  // a bar on stderr; nullopt = when a terminal
};

struct hnsw_search_options {
  std::size_t ef = 64;  // candidates kept per query (raised to k): recall against speed
  int threads = 0;
};

// Which slots a filtered search may return, with their count (index.filter(pred)).
class item_filter {
 public:
  item_filter() = default;
  item_filter(std::vector<std::uint8_t> pass, std::size_t count) : pass_(std::move(pass)), count_(count) {}
  bool passes(std::size_t slot) const { return slot < pass_.size() && pass_[slot] != 0; }
  std::size_t count() const { return count_; }
  std::size_t slots() const { return pass_.size(); }

 private:
  std::vector<std::uint8_t> pass_;
  std::size_t count_ = 0;
};

template <class Backend = cpu>
class hnsw_index {
  using K = kernels<Backend>;
  static_assert(scores_compact_vectors<K>, "hnsw_index needs the backend's compact-vector kernels");

 public:
  hnsw_index(std::size_t dim, hnsw_options options = {})
      : dim_(dim), options_(options), locks_(new std::mutex[lock_count]), top_lock_(new std::mutex), pool_lock_(new std::mutex) {
    if (dim == 0 || dim > 65536) throw value_error("hnsw_index: dim must be in 1..65536, got " + std::to_string(dim));
    if (options.M < 2 || options.M > 512) throw value_error("hnsw_index: M must be in 2..512, got " + std::to_string(options.M));
    if (options.ef_construction < 1) throw value_error("hnsw_index: ef_construction must be >= 1");
    level_scale_ = 1.0 / std::log(static_cast<double>(options.M));
  }

  std::size_t dim() const { return dim_; }
  const hnsw_options& options() const { return options_; }
  std::size_t size() const { return slot_of_.size(); }  // live items
  std::size_t slots() const { return ids_.size(); }     // live + deleted
  std::size_t deleted_slots() const { return slots() - size(); }
  bool contains(std::int32_t id) const { return slot_of_.count(id) != 0; }
  bool mapped() const { return mapped_.has_value(); }
  // Bytes per slot: stored vector (+ int8 scale), level-0 links, id, flags and level,
  // and the upper levels' links on average.
  double bytes_per_item() const {
    const std::size_t n = slots();
    if (n == 0) return 0.0;
    const double fixed =
        static_cast<double>(dim_ * value_bytes(options_.storage) + (options_.storage == vector_storage::i8 ? 4 : 0) +
                            4 * (1 + 2 * options_.M) + 4 + 1 + 4);
    std::size_t upper = 0;
    for (const auto& u : upper_) upper += u.size();
    return fixed + 4.0 * static_cast<double>(upper) / static_cast<double>(n);
  }

  // Inserts rows (ids.size() × dim, row-major) under `ids`; an id already present is
  // replaced. All rows are checked before anything changes.
  void add(std::span<const std::int32_t> ids, std::span<const float> vectors, const hnsw_add_options& how = {}) {
    if (vectors.size() != ids.size() * dim_)
      throw shape_error("hnsw_index::add: " + std::to_string(vectors.size()) + " values for " + std::to_string(ids.size()) +
                        " ids of dim " + std::to_string(dim_));
    const std::size_t n = ids.size(), first = slots();
    if (first + n > static_cast<std::size_t>(INT32_MAX)) throw value_error("hnsw_index::add: more than 2^31-1 slots");
    {
      std::unordered_map<std::int32_t, std::size_t> seen;
      for (std::size_t r = 0; r < n; ++r) {
        if (ids[r] < 0)
          throw value_error("hnsw_index::add: id " + std::to_string(ids[r]) + " (row " + std::to_string(r) + ") is negative");
        if (auto [it, fresh] = seen.emplace(ids[r], r); !fresh)
          throw value_error("hnsw_index::add: id " + std::to_string(ids[r]) + " appears twice (rows " +
                            std::to_string(it->second) + " and " + std::to_string(r) + ")");
      }
    }
    std::vector<float> rows(vectors.begin(), vectors.end());
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (!std::isfinite(rows[i]))
        throw value_error("hnsw_index::add: row " + std::to_string(i / dim_) + " (id " + std::to_string(ids[i / dim_]) +
                          ") holds a non-finite value at column " + std::to_string(i % dim_));
    if (options_.metric == embedding_metric::cosine) K::l2_normalize(rows.data(), n, dim_, how.threads);
    std::vector<std::byte> codes(n * dim_ * value_bytes(options_.storage));
    std::vector<float> scales(options_.storage == vector_storage::i8 ? n : 0);
    for (std::size_t r = 0; r < n; ++r) {
      const float* x = rows.data() + r * dim_;
      if (options_.storage == vector_storage::f32)
        std::memcpy(codes.data() + r * dim_ * 4, x, dim_ * 4);
      else if (options_.storage == vector_storage::f16)
        encode_f16(x, dim_, reinterpret_cast<std::uint16_t*>(codes.data()) + r * dim_,
                   "hnsw_index::add: id " + std::to_string(ids[r]));
      else
        scales[r] = encode_i8(x, dim_, reinterpret_cast<std::int8_t*>(codes.data()) + r * dim_);
    }
    if (n == 0) return;

    // Nothing below throws except memory and the progress callback; on either, the new
    // slots are marked deleted and the ids keep their old slots.
    own();
    const std::size_t total = first + n, stride0 = 1 + 2 * options_.M;
    vectors_.insert(vectors_.end(), codes.begin(), codes.end());
    scales_.insert(scales_.end(), scales.begin(), scales.end());
    links0_.resize(total * stride0, 0);
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    deleted_.resize(total, 1);  // live once inserted
    levels_.resize(total);
    upper_.resize(total);
    for (std::size_t s = first; s < total; ++s) {
      levels_[s] = draw_level(s);
      upper_[s].assign(static_cast<std::size_t>(levels_[s]) * (1 + options_.M), 0);
    }
    refresh_views();

    progress_bar bar("hnsw add", n, how.show_progress, how.progress);
    std::atomic<bool> failed{false};
    std::exception_ptr failure;
    std::mutex failure_lock;
    const int n_threads = num_threads(how.threads);
    const auto insert_one = [&](std::size_t r) {
      if (failed.load(std::memory_order_relaxed)) return;
      try {
        insert(first + r, rows.data() + r * dim_);
        if ((r + 1) % 256 == 0 || r + 1 == n) bar.advance((r + 1) % 256 == 0 ? 256 : (r + 1) % 256);
      } catch (...) {
        const std::lock_guard<std::mutex> hold(failure_lock);
        if (!failure) failure = std::current_exception();
        failed = true;
      }
    };
#if defined(_OPENMP)
    if (n_threads > 1 && n > 1) {
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 16)
      for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(n); ++r) insert_one(static_cast<std::size_t>(r));
    } else
#endif
      for (std::size_t r = 0; r < n; ++r) insert_one(r);
    (void)n_threads;
    if (failure) std::rethrow_exception(failure);  // the new slots stay deleted routes
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t s = first + r;
      if (auto it = slot_of_.find(ids[r]); it != slot_of_.end()) deleted_[it->second] = 1;
      slot_of_[ids[r]] = static_cast<std::int32_t>(s);
      deleted_[s] = 0;
    }
  }

  // Marks the items deleted; every id is checked first.
  void remove(std::span<const std::int32_t> ids) {
    for (std::int32_t id : ids)
      if (!contains(id)) throw value_error("hnsw_index::remove: id " + std::to_string(id) + " is not in the index");
    for (std::int32_t id : ids) {
      const auto it = slot_of_.find(id);
      if (it == slot_of_.end()) continue;  // listed twice
      deleted_[static_cast<std::size_t>(it->second)] = 1;
      slot_of_.erase(it);
    }
  }
  void remove(std::int32_t id) { remove(std::span<const std::int32_t>(&id, 1)); }

  // The stored vector of `id` (unit length for cosine; compact storage widened and scaled).
  std::vector<float> vector(std::int32_t id) const {
    const auto it = slot_of_.find(id);
    if (it == slot_of_.end()) throw value_error("hnsw_index::vector: id " + std::to_string(id) + " is not in the index");
    std::vector<float> v(dim_);
    widen(static_cast<std::size_t>(it->second), v.data());
    return v;
  }

  // Similarity of two live items' stored vectors.
  float score(std::int32_t a, std::int32_t b) const { return K::dot(vector(a).data(), vector(b).data(), dim_); }

  // The items `pred(id)` accepts, among the live ones.
  template <class Pred>
  item_filter filter(Pred&& pred) const {
    std::vector<std::uint8_t> pass(slots(), 0);
    std::size_t count = 0;
    for (const auto& [id, slot] : slot_of_)
      if (pred(id)) {
        pass[static_cast<std::size_t>(slot)] = 1;
        ++count;
      }
    return item_filter(std::move(pass), count);
  }

  // The k nearest live items of each query (row-major queries × dim): ids (the caller's)
  // and similarities, best first, ties by lower id.
  knn_result search(std::span<const float> queries, std::size_t k, const hnsw_search_options& how = {}) const {
    if (k > size())
      throw value_error("hnsw_index::search: k = " + std::to_string(k) + " exceeds the " + std::to_string(size()) +
                        " items in the index");
    return search_impl(queries, k, nullptr, how);
  }
  // The same restricted to the items `allowed` passes (rows past its count are -1 / -inf).
  knn_result search(std::span<const float> queries, std::size_t k, const item_filter& allowed,
                    const hnsw_search_options& how = {}) const {
    if (allowed.slots() != slots())
      throw value_error("hnsw_index::search: the filter was made for " + std::to_string(allowed.slots()) +
                        " slots, the index has " + std::to_string(slots()) + " (make it again after add)");
    return search_impl(queries, k, &allowed, how);
  }

  // Writes the index (hnsw_file.hpp) atomically: a failed save leaves `path` as it was.
  void save(const std::filesystem::path& path) const {
    hnsw_file_header h;
    h.dim = static_cast<std::uint32_t>(dim_);
    h.metric = static_cast<std::uint8_t>(options_.metric == embedding_metric::cosine ? 0 : 1);
    h.storage = static_cast<std::uint8_t>(options_.storage);
    h.M = static_cast<std::uint32_t>(options_.M);
    h.ef_construction = static_cast<std::uint32_t>(options_.ef_construction);
    h.seed = options_.seed;
    h.slots = slots();
    h.entry = entry_;
    h.max_level = max_level_;
    const std::size_t n = slots();
    std::vector<std::int32_t> upper;
    for (const auto& u : upper_) upper.insert(upper.end(), u.begin(), u.end());
    const std::pair<const void*, std::size_t> sections[7] = {{ids_.data(), 4 * n},
                                                             {deleted_.data(), n},
                                                             {levels_.data(), 4 * n},
                                                             {vec_, n * dim_ * value_bytes(options_.storage)},
                                                             {scl_, options_.storage == vector_storage::i8 ? 4 * n : 0},
                                                             {lnk_, 4 * n * (1 + 2 * options_.M)},
                                                             {upper.data(), 4 * upper.size()}};
    static const char zeros[hnsw_alignment] = {};
    const auto for_each_byte_run = [&](auto&& emit) {
      std::size_t at = sizeof(hnsw_file_header);
      for (const auto& [data, size] : sections) {
        emit(data, size);
        const std::size_t pad = detail::padded(at + size) - (at + size);
        emit(zeros, pad);
        at += size + pad;
      }
    };
    stream_checksum sum;
    for_each_byte_run([&](const void* p, std::size_t size) { sum.absorb(p, size); });
    h.checksum = sum.value();
    io::write_atomically(path, [&](std::ostream& out) {
      out.write(reinterpret_cast<const char*>(&h), sizeof h);
      for_each_byte_run(
          [&](const void* p, std::size_t size) { out.write(static_cast<const char*>(p), static_cast<std::streamsize>(size)); });
    });
  }

  // Reads a saved index into memory.
  static hnsw_index load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw io_error("cannot open '" + path.string() + "'");
    const auto size = static_cast<std::size_t>(in.tellg());
    std::vector<std::uint64_t> words((size + 7) / 8);  // 8-byte aligned
    in.seekg(0);
    in.read(reinterpret_cast<char*>(words.data()), static_cast<std::streamsize>(size));
    if (!in) throw io_error("cannot read '" + path.string() + "'");
    hnsw_index index = from_view(read_hnsw_file({reinterpret_cast<const std::byte*>(words.data()), size}, path.string()));
    index.own();
    return index;
  }
  // Maps a saved index: its vectors and level-0 links are read in place from the page
  // cache; the first add() copies them into memory.
  static hnsw_index load_mapped(const std::filesystem::path& path) {
    io::mapped_file file(path);
    hnsw_index index = from_view(read_hnsw_file(file.bytes(), path.string()));
    index.mapped_ = std::move(file);
    return index;
  }
  // Checks `bytes` (8-byte aligned) as a file and builds the index from them (copied).
  static hnsw_index from_bytes(std::span<const std::byte> bytes, const std::string& name, bool verify_checksum = true) {
    hnsw_index index = from_view(read_hnsw_file(bytes, name, verify_checksum));
    index.own();
    return index;
  }

 private:
  static constexpr std::size_t lock_count = 4096;

  // What a walk keeps: (similarity, slot).
  using scored_slot = std::pair<float, std::int32_t>;
  struct worse_first {  // min-heap on similarity: the worst kept on top
    bool operator()(const scored_slot& a, const scored_slot& b) const {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    }
  };
  struct best_first {
    bool operator()(const scored_slot& a, const scored_slot& b) const {
      return a.first < b.first || (a.first == b.first && a.second > b.second);
    }
  };

  // Slots seen by one walk: a mark per slot, cleared by bumping the epoch.
  struct visited_set {
    std::vector<std::uint16_t> marks;
    std::uint16_t epoch = 0;
    void reset(std::size_t n) {
      if (marks.size() < n) marks.resize(n, 0);
      if (++epoch == 0) {
        std::fill(marks.begin(), marks.end(), std::uint16_t{0});
        epoch = 1;
      }
    }
    bool seen(std::size_t s) const { return marks[s] == epoch; }
    bool insert(std::size_t s) {
      if (marks[s] == epoch) return false;
      marks[s] = epoch;
      return true;
    }
  };
  std::unique_ptr<visited_set> borrow_visited() const {
    const std::lock_guard<std::mutex> hold(*pool_lock_);
    if (pool_.empty()) return std::make_unique<visited_set>();
    auto v = std::move(pool_.back());
    pool_.pop_back();
    return v;
  }
  void give_back(std::unique_ptr<visited_set> v) const {
    const std::lock_guard<std::mutex> hold(*pool_lock_);
    pool_.push_back(std::move(v));
  }

  static hnsw_index from_view(const hnsw_file_view& v) {
    hnsw_options o;
    o.M = v.header.M;
    o.ef_construction = v.header.ef_construction;
    o.storage = static_cast<vector_storage>(v.header.storage);
    o.metric = v.header.metric == 0 ? embedding_metric::cosine : embedding_metric::inner_product;
    o.seed = v.header.seed;
    hnsw_index index(v.header.dim, o);
    const std::size_t n = v.header.slots;
    index.ids_.assign(v.ids.begin(), v.ids.end());
    index.deleted_.assign(v.deleted.begin(), v.deleted.end());
    index.levels_.assign(v.levels.begin(), v.levels.end());
    index.upper_.resize(n);
    std::size_t at = 0;
    for (std::size_t s = 0; s < n; ++s) {
      const std::size_t len = static_cast<std::size_t>(index.levels_[s]) * (1 + o.M);
      index.upper_[s].assign(v.upper.begin() + static_cast<std::ptrdiff_t>(at),
                             v.upper.begin() + static_cast<std::ptrdiff_t>(at + len));
      at += len;
    }
    for (std::size_t s = 0; s < n; ++s)
      if (!index.deleted_[s]) index.slot_of_[index.ids_[s]] = static_cast<std::int32_t>(s);
    index.entry_ = v.header.entry;
    index.max_level_ = v.header.max_level;
    index.vec_ = v.vectors.data();
    index.scl_ = v.scales.data();
    index.lnk_ = v.links0.data();
    return index;
  }

  // Copies mapped sections into owned memory (before a change).
  void own() {
    if (vectors_.empty() && vec_ != nullptr) {
      const std::size_t n = slots();
      vectors_.assign(vec_, vec_ + n * dim_ * value_bytes(options_.storage));
      if (options_.storage == vector_storage::i8) scales_.assign(scl_, scl_ + n);
      links0_.assign(lnk_, lnk_ + n * (1 + 2 * options_.M));
    }
    mapped_.reset();
    refresh_views();
  }
  void refresh_views() {
    vec_ = vectors_.data();
    scl_ = scales_.data();
    lnk_ = links0_.data();
  }

  int draw_level(std::size_t slot) const {
    std::uint64_t z = options_.seed + 0x9e3779b97f4a7c15ULL * (slot + 1);  // splitmix64
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const double u = (static_cast<double>(z >> 11) + 0.5) * 0x1p-53;  // (0, 1)
    return std::min(hnsw_max_level, static_cast<int>(-std::log(u) * level_scale_));
  }

  // Similarity of a float32 query (normalised as the rows are) to slot s.
  float score(const float* q, std::size_t s) const {
    switch (options_.storage) {
      case vector_storage::f32:
        return K::dot(q, reinterpret_cast<const float*>(vec_) + s * dim_, dim_);
      case vector_storage::f16:
        return K::dot_f16(q, reinterpret_cast<const std::uint16_t*>(vec_) + s * dim_, dim_);
      case vector_storage::i8:
        return scl_[s] * K::dot_i8(q, reinterpret_cast<const std::int8_t*>(vec_) + s * dim_, dim_);
    }
    return 0.0f;
  }
  // Asks for the start of slot s's vector ahead of its scoring (the walk's time goes to
  // cache misses; the hardware prefetcher follows the rest).
  void prefetch(std::size_t s) const {
#if defined(__GNUC__)
    const std::size_t bytes = std::min<std::size_t>(dim_ * value_bytes(options_.storage), 512);
    const std::byte* p = vec_ + s * dim_ * value_bytes(options_.storage);
    for (std::size_t at = 0; at < bytes; at += 64) __builtin_prefetch(p + at);
#else
    (void)s;
#endif
  }
  // Slot s's vector in float32: the stored one, or widened into `buffer` (dim floats).
  const float* as_float32(std::size_t s, float* buffer) const {
    if (options_.storage == vector_storage::f32) return reinterpret_cast<const float*>(vec_) + s * dim_;
    widen(s, buffer);
    return buffer;
  }
  void widen(std::size_t s, float* out) const {
    switch (options_.storage) {
      case vector_storage::f32:
        std::memcpy(out, vec_ + s * dim_ * 4, dim_ * 4);
        break;
      case vector_storage::f16:
        K::widen_f16(reinterpret_cast<const std::uint16_t*>(vec_) + s * dim_, dim_, out);
        break;
      case vector_storage::i8:
        K::widen_i8(reinterpret_cast<const std::int8_t*>(vec_) + s * dim_, dim_, out);
        for (std::size_t d = 0; d < dim_; ++d) out[d] *= scl_[s];
        break;
    }
  }

  // Slot s's links at `level` (count, then slots): in links0_ or upper_.
  const std::int32_t* links(std::size_t s, int level) const {
    return level == 0 ? lnk_ + s * (1 + 2 * options_.M)
                      : upper_[s].data() + static_cast<std::size_t>(level - 1) * (1 + options_.M);
  }
  std::int32_t* links_mutable(std::size_t s, int level) {
    return level == 0 ? links0_.data() + s * (1 + 2 * options_.M)
                      : upper_[s].data() + static_cast<std::size_t>(level - 1) * (1 + options_.M);
  }
  std::mutex& lock_of(std::size_t s) const { return locks_[s % lock_count]; }

  // Copies slot s's neighbours at `level` into `out` (under its lock while building).
  template <bool Building>
  void neighbours(std::size_t s, int level, std::vector<std::int32_t>& out) const {
    std::unique_lock<std::mutex> hold;
    if constexpr (Building) hold = std::unique_lock<std::mutex>(lock_of(s));
    const std::int32_t* l = links(s, level);
    out.assign(l + 1, l + 1 + l[0]);
  }

  // Greedy descent at one level: the neighbour most similar to q until none is better.
  template <bool Building>
  scored_slot greedy(const float* q, scored_slot at, int level, std::vector<std::int32_t>& buffer) const {
    for (bool moved = true; moved;) {
      moved = false;
      neighbours<Building>(static_cast<std::size_t>(at.second), level, buffer);
      for (std::int32_t c : buffer) {
        const float s = score(q, static_cast<std::size_t>(c));
        if (s > at.first) {
          at = {s, c};
          moved = true;
        }
      }
    }
    return at;
  }

  // The beam search of one level from `start`: up to ef best slots that `keep` accepts
  // (all slots are walked through). Returns false when `budget` slots were visited first.
  template <bool Building, class Keep>
  bool walk(const float* q, scored_slot start, std::size_t ef, int level, Keep&& keep, std::size_t budget, visited_set& visited,
            std::vector<scored_slot>& out) const {
    std::priority_queue<scored_slot, std::vector<scored_slot>, worse_first> best;
    std::priority_queue<scored_slot, std::vector<scored_slot>, best_first> frontier;
    std::vector<std::int32_t> buffer;
    visited.insert(static_cast<std::size_t>(start.second));
    frontier.push(start);
    if (keep(static_cast<std::size_t>(start.second))) best.push(start);
    std::size_t seen = 1;
    while (!frontier.empty()) {
      const scored_slot c = frontier.top();
      if (best.size() >= ef && c.first < best.top().first) break;
      frontier.pop();
      neighbours<Building>(static_cast<std::size_t>(c.second), level, buffer);
      for (std::size_t i = 0; i < buffer.size(); ++i) {
        const std::int32_t n = buffer[i];
        if (i + 1 < buffer.size() && !visited.seen(static_cast<std::size_t>(buffer[i + 1])))
          prefetch(static_cast<std::size_t>(buffer[i + 1]));
        if (!visited.insert(static_cast<std::size_t>(n))) continue;
        if (++seen > budget) return false;
        const float s = score(q, static_cast<std::size_t>(n));
        if (best.size() < ef || s > best.top().first) {
          frontier.push({s, n});
          if (keep(static_cast<std::size_t>(n))) {
            best.push({s, n});
            if (best.size() > ef) best.pop();
          }
        }
      }
    }
    out.clear();
    for (; !best.empty(); best.pop()) out.push_back(best.top());
    std::reverse(out.begin(), out.end());  // best first
    return true;
  }

  // hnswlib's heuristic: candidates (best first) kept unless closer to a kept one than to q.
  void select(std::vector<scored_slot>& candidates, std::size_t M) const {
    if (candidates.size() <= M) return;
    std::vector<scored_slot> kept;
    std::vector<float> c_vec(dim_);
    for (const scored_slot& c : candidates) {
      if (kept.size() >= M) break;
      const float* c_values = as_float32(static_cast<std::size_t>(c.second), c_vec.data());
      bool good = true;
      for (const scored_slot& r : kept)
        if (score(c_values, static_cast<std::size_t>(r.second)) > c.first) {
          good = false;
          break;
        }
      if (good) kept.push_back(c);
    }
    candidates = std::move(kept);
  }

  // Links slot s (vector q, normalised) into the graph.
  void insert(std::size_t s, const float* q) {
    const int level = levels_[s];
    std::unique_lock<std::mutex> top(*top_lock_);
    if (entry_ < 0) {
      entry_ = static_cast<std::int32_t>(s);
      max_level_ = level;
      return;
    }
    const int max_level = max_level_;
    const std::int32_t entry = entry_;
    if (level <= max_level) top.unlock();  // a new top level keeps the lock to the end
    std::vector<std::int32_t> buffer;
    scored_slot at{score(q, static_cast<std::size_t>(entry)), entry};
    for (int l = max_level; l > level; --l) at = greedy<true>(q, at, l, buffer);
    auto visited = borrow_visited();
    std::vector<scored_slot> found;
    std::vector<float> n_vec(dim_);
    for (int l = std::min(level, max_level); l >= 0; --l) {
      visited->reset(slots());
      walk<true>(
          q, at, options_.ef_construction, l, [](std::size_t) { return true; }, SIZE_MAX, *visited, found);
      at = found.front();
      std::vector<scored_slot> chosen = found;
      select(chosen, options_.M);
      {
        const std::lock_guard<std::mutex> hold(lock_of(s));
        std::int32_t* mine = links_mutable(s, l);
        mine[0] = static_cast<std::int32_t>(chosen.size());
        for (std::size_t i = 0; i < chosen.size(); ++i) mine[1 + i] = chosen[i].second;
      }
      const std::size_t cap = l == 0 ? 2 * options_.M : options_.M;
      for (const scored_slot& c : chosen) {
        const std::size_t other = static_cast<std::size_t>(c.second);
        const std::lock_guard<std::mutex> hold(lock_of(other));
        std::int32_t* theirs = links_mutable(other, l);
        if (static_cast<std::size_t>(theirs[0]) < cap) {
          theirs[1 + theirs[0]] = static_cast<std::int32_t>(s);
          ++theirs[0];
          continue;
        }
        // Full: re-choose among the old links and s, by similarity to `other`.
        const float* other_values = as_float32(other, n_vec.data());
        std::vector<scored_slot> pool{{c.first, static_cast<std::int32_t>(s)}};
        for (std::int32_t j = 1; j <= theirs[0]; ++j)
          pool.push_back({score(other_values, static_cast<std::size_t>(theirs[j])), theirs[j]});
        std::sort(pool.begin(), pool.end(), [](const scored_slot& a, const scored_slot& b) { return best_first{}(b, a); });
        select(pool, cap);
        theirs[0] = static_cast<std::int32_t>(pool.size());
        for (std::size_t i = 0; i < pool.size(); ++i) theirs[1 + i] = pool[i].second;
      }
    }
    give_back(std::move(visited));
    if (level > max_level) {
      entry_ = static_cast<std::int32_t>(s);
      max_level_ = level;
    }
  }

  // The exact answer over the live slots `allowed` passes (all live ones when null).
  void exact(const float* q, const item_filter* allowed, detail::best_rows& best) const {
    for (std::size_t s = 0; s < slots(); ++s)
      if (!deleted_[s] && (!allowed || allowed->passes(s))) best.push(score(q, s), ids_[s]);
  }

  knn_result search_impl(std::span<const float> queries, std::size_t k, const item_filter* allowed,
                         const hnsw_search_options& how) const {
    if (k == 0) throw value_error("hnsw_index::search: k must be >= 1");
    if (queries.size() % dim_ != 0)
      throw shape_error("hnsw_index::search: " + std::to_string(queries.size()) + " query values are not rows of dim " +
                        std::to_string(dim_));
    for (std::size_t i = 0; i < queries.size(); ++i)
      if (!std::isfinite(queries[i]))
        throw value_error("hnsw_index::search: query " + std::to_string(i / dim_) + " holds a non-finite value at column " +
                          std::to_string(i % dim_));
    const std::size_t n_queries = queries.size() / dim_;
    knn_result result;
    result.k = k;
    result.ids.assign(n_queries * k, -1);
    result.scores.assign(n_queries * k, -INFINITY);
    if (n_queries == 0 || size() == 0) return result;
    std::vector<float> q(queries.begin(), queries.end());
    if (options_.metric == embedding_metric::cosine) K::l2_normalize(q.data(), n_queries, dim_, how.threads);
    const std::size_t ef = std::max(how.ef, k);
    // Below this many passing items an exact scan reads fewer vectors than the walk would.
    const std::size_t exact_below = ef * 2 * options_.M;
    const int n_threads = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(num_threads(how.threads)), n_queries));
    parallel_for(0, n_threads, n_threads, [&](std::ptrdiff_t t) {
      const std::size_t first = n_queries * static_cast<std::size_t>(t) / static_cast<std::size_t>(n_threads);
      const std::size_t last = n_queries * (static_cast<std::size_t>(t) + 1) / static_cast<std::size_t>(n_threads);
      auto visited = borrow_visited();
      std::vector<std::int32_t> buffer;
      std::vector<scored_slot> found;
      for (std::size_t qi = first; qi < last; ++qi) {
        const float* x = q.data() + qi * dim_;
        detail::best_rows best(k);
        bool answered = false;
        if (!allowed || allowed->count() > exact_below) {
          scored_slot at{score(x, static_cast<std::size_t>(entry_)), entry_};
          for (int l = max_level_; l > 0; --l) at = greedy<false>(x, at, l, buffer);
          visited->reset(slots());
          const auto keep = [&](std::size_t s) { return !deleted_[s] && (!allowed || allowed->passes(s)); };
          answered = walk<false>(x, at, ef, 0, keep, allowed ? allowed->count() : SIZE_MAX, *visited, found);
          if (answered)
            for (const scored_slot& f : found) best.push(f.first, ids_[static_cast<std::size_t>(f.second)]);
        }
        if (!answered) exact(x, allowed, best);
        best.write(result.ids.data() + qi * k, result.scores.data() + qi * k);
      }
      give_back(std::move(visited));
    });
    return result;
  }

  std::size_t dim_;
  hnsw_options options_;
  double level_scale_ = 1.0;
  // Per slot: the caller's id, deleted flag, top level, links of levels ≥ 1.
  std::vector<std::int32_t> ids_;
  std::vector<std::uint8_t> deleted_;
  std::vector<std::int32_t> levels_;
  std::vector<std::vector<std::int32_t>> upper_;
  // Vectors, int8 scales and level-0 links: owned, or read from the map (vec_, scl_, lnk_).
  std::vector<std::byte> vectors_;
  std::vector<float> scales_;
  std::vector<std::int32_t> links0_;
  const std::byte* vec_ = nullptr;
  const float* scl_ = nullptr;
  const std::int32_t* lnk_ = nullptr;
  std::optional<io::mapped_file> mapped_;
  std::unordered_map<std::int32_t, std::int32_t> slot_of_;  // live id → slot
  std::int32_t entry_ = -1;
  int max_level_ = -1;
  std::unique_ptr<std::mutex[]> locks_;
  std::unique_ptr<std::mutex> top_lock_;  // entry point and top level while building
  std::unique_ptr<std::mutex> pool_lock_;
  mutable std::vector<std::unique_ptr<visited_set>> pool_;
};

}  // namespace shopml::recommend
