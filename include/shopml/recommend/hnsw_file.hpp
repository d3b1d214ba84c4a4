#pragma once
// The file of an HNSW index (recommend/hnsw_index.hpp): a 64-byte header, then seven
// sections, each starting on a 64-byte boundary so that a memory map can be read in place:
//
//   header   "SHOPHNSW", version 1, dim, metric, storage, M, ef_construction, seed, slots,
//            entry slot (-1: empty), top level, checksum of everything after the header
//   ids      int32[slots]               the caller's id of each slot
//   deleted  uint8[slots]               1: removed (or replaced), kept as a route
//   levels   int32[slots]               the top level of each slot
//   vectors  slots × dim values         float32, float16 bits or int8
//   scales   float32[slots]             int8 only (empty otherwise)
//   links0   int32[slots × (1 + 2M)]    level 0: count, then neighbour slots
//   upper    int32[Σ levels × (1 + M)]  levels 1.. of each slot in slot order: count, slots
//
// All little-endian. read_hnsw_file checks, and refuses with a parse_error naming the file
// and the field: the magic and version; dim in 1..65536, metric and storage known, M in
// 2..512, ef_construction in 1..2^20; the size of every section against the file's size
// (no overflow, nothing left over); the checksum; ids ≥ 0 and unique among live slots;
// deleted flags 0 or 1; levels in 0..max_level and max_level ≤ 64; the entry slot in range
// with the top level, or -1 exactly when there are no slots; stored values finite (int8
// scales finite and ≥ 0); every link count within its capacity and every link a slot other
// than its owner that reaches the link's level.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/recommend/compact_vectors.hpp"

namespace shopml::recommend {

static_assert(std::endian::native == std::endian::little, "hnsw files are little-endian");

struct hnsw_file_header {
  char magic[8] = {'S', 'H', 'O', 'P', 'H', 'N', 'S', 'W'};
  std::uint32_t version = 1;
  std::uint32_t dim = 0;
  std::uint8_t metric = 0;   // embedding_metric
  std::uint8_t storage = 0;  // vector_storage
  std::uint16_t reserved = 0;
  std::uint32_t M = 0;
  std::uint32_t ef_construction = 0;
  std::uint32_t reserved2 = 0;
  std::uint64_t seed = 0;
  std::uint64_t slots = 0;
  std::int32_t entry = -1;
  std::int32_t max_level = -1;
  std::uint64_t checksum = 0;
};
static_assert(sizeof(hnsw_file_header) == 64);

inline constexpr std::size_t hnsw_alignment = 64;
inline constexpr std::int32_t hnsw_max_level = 64;

// A word-at-a-time hash of a byte stream (not cryptographic: it catches corruption and
// truncation, not tampering).
class stream_checksum {
 public:
  void absorb(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    while (n > 0 && held_ > 0) {
      carry_[held_++] = *p++;
      --n;
      if (held_ == 8) {
        mix(load(carry_));
        held_ = 0;
      }
    }
    for (; n >= 8; n -= 8, p += 8) mix(load(p));
    while (n > 0) {
      carry_[held_++] = *p++;
      --n;
    }
  }
  std::uint64_t value() const {
    unsigned char last[8] = {};
    std::memcpy(last, carry_, held_);
    std::uint64_t h = state_ ^ (load(last) + held_);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 29);
  }

 private:
  static std::uint64_t load(const unsigned char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
  void mix(std::uint64_t w) { state_ = (std::rotl(state_, 23) ^ w) * 0x9e3779b97f4a7c15ULL; }
  std::uint64_t state_ = 0x243f6a8885a308d3ULL;
  unsigned char carry_[8] = {};
  std::size_t held_ = 0;
};

// Views of the sections of a checked file (they point into the bytes given).
struct hnsw_file_view {
  hnsw_file_header header;
  std::span<const std::int32_t> ids;
  std::span<const std::uint8_t> deleted;
  std::span<const std::int32_t> levels;
  std::span<const std::byte> vectors;
  std::span<const float> scales;
  std::span<const std::int32_t> links0;
  std::span<const std::int32_t> upper;
};

// Byte sizes of the sections, in file order, for a header (no checks: see read_hnsw_file).
struct hnsw_layout {
  std::size_t sizes[7] = {};
  std::size_t offsets[7] = {};
  std::size_t total = 0;
};

namespace detail {

inline std::size_t padded(std::size_t n) { return (n + hnsw_alignment - 1) / hnsw_alignment * hnsw_alignment; }

// a * b, or false when it overflows (sizes come from untrusted files).
inline bool multiply(std::size_t a, std::size_t b, std::size_t& out) {
  if (a != 0 && b > SIZE_MAX / a) return false;
  out = a * b;
  return true;
}

}  // namespace detail

// Layout from a header and Σ levels; false when a size overflows.
inline bool hnsw_file_layout(const hnsw_file_header& h, std::size_t level_sum, hnsw_layout& out) {
  const std::size_t n = static_cast<std::size_t>(h.slots);
  std::size_t values = 0, links0 = 0, upper = 0;
  if (!detail::multiply(n, h.dim, values) ||
      !detail::multiply(values, value_bytes(static_cast<vector_storage>(h.storage)), values))
    return false;
  if (!detail::multiply(n, 1 + 2 * std::size_t{h.M}, links0) || !detail::multiply(links0, 4, links0)) return false;
  if (!detail::multiply(level_sum, 1 + std::size_t{h.M}, upper) || !detail::multiply(upper, 4, upper)) return false;
  if (n > SIZE_MAX / 16) return false;
  const std::size_t sizes[7] = {
      4 * n, n, 4 * n, values, h.storage == static_cast<std::uint8_t>(vector_storage::i8) ? 4 * n : 0, links0, upper};
  std::size_t at = sizeof(hnsw_file_header);
  for (int s = 0; s < 7; ++s) {
    out.sizes[s] = sizes[s];
    out.offsets[s] = at;
    if (sizes[s] > SIZE_MAX - at - hnsw_alignment) return false;
    at += detail::padded(sizes[s]);
  }
  out.total = at;
  return true;
}

// Checks `bytes` (a whole file, 8-byte aligned) as described above; `name` is the file's
// name for messages. The fuzz target turns the checksum off to reach the checks after it.
inline hnsw_file_view read_hnsw_file(std::span<const std::byte> bytes, const std::string& name, bool verify_checksum = true) {
  const auto fail = [&](const std::string& what) -> void { throw parse_error("hnsw index '" + name + "': " + what); };
  hnsw_file_view v;
  if (bytes.size() < sizeof(hnsw_file_header)) fail("truncated: " + std::to_string(bytes.size()) + " bytes, no header");
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % 8 != 0) fail("the bytes are not 8-byte aligned");
  std::memcpy(&v.header, bytes.data(), sizeof(hnsw_file_header));
  const hnsw_file_header& h = v.header;
  if (std::memcmp(h.magic, "SHOPHNSW", 8) != 0) fail("not an hnsw index (bad magic)");
  if (h.version != 1) fail("version " + std::to_string(h.version) + " is not supported (1 is)");
  if (h.dim == 0 || h.dim > 65536) fail("dim " + std::to_string(h.dim) + " is outside 1..65536");
  if (h.metric > 1) fail("unknown metric " + std::to_string(h.metric));
  if (h.storage > 2) fail("unknown storage " + std::to_string(h.storage));
  if (h.M < 2 || h.M > 512) fail("M " + std::to_string(h.M) + " is outside 2..512");
  if (h.ef_construction < 1 || h.ef_construction > (1u << 20))
    fail("ef_construction " + std::to_string(h.ef_construction) + " is outside 1..2^20");
  if (h.slots > static_cast<std::uint64_t>(INT32_MAX)) fail("slots " + std::to_string(h.slots) + " exceed 2^31-1");
  if (h.max_level < -1 || h.max_level > hnsw_max_level) fail("max_level " + std::to_string(h.max_level) + " is outside -1..64");
  const std::size_t n = static_cast<std::size_t>(h.slots);
  // Levels come before the sections whose size depends on them: read them first.
  hnsw_layout layout;
  if (!hnsw_file_layout(h, 0, layout)) fail("section sizes overflow");
  if (bytes.size() < layout.offsets[3]) fail("truncated before the vectors (" + std::to_string(bytes.size()) + " bytes)");
  const auto* base = bytes.data();
  v.levels = {reinterpret_cast<const std::int32_t*>(base + layout.offsets[2]), n};
  std::size_t level_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (v.levels[i] < 0 || v.levels[i] > h.max_level)
      fail("slot " + std::to_string(i) + " has level " + std::to_string(v.levels[i]) + " outside 0.." +
           std::to_string(h.max_level));
    level_sum += static_cast<std::size_t>(v.levels[i]);
  }
  if (!hnsw_file_layout(h, level_sum, layout)) fail("section sizes overflow");
  if (bytes.size() != layout.total)
    fail((bytes.size() < layout.total ? "truncated: " : "trailing bytes: ") + std::to_string(bytes.size()) +
         " bytes where the header implies " + std::to_string(layout.total));
  if (verify_checksum) {
    stream_checksum sum;
    sum.absorb(base + sizeof(hnsw_file_header), bytes.size() - sizeof(hnsw_file_header));
    if (sum.value() != h.checksum) fail("checksum mismatch (the file is corrupt)");
  }

  v.ids = {reinterpret_cast<const std::int32_t*>(base + layout.offsets[0]), n};
  v.deleted = {reinterpret_cast<const std::uint8_t*>(base + layout.offsets[1]), n};
  v.vectors = {base + layout.offsets[3], layout.sizes[3]};
  v.scales = {reinterpret_cast<const float*>(base + layout.offsets[4]), layout.sizes[4] / 4};
  v.links0 = {reinterpret_cast<const std::int32_t*>(base + layout.offsets[5]), layout.sizes[5] / 4};
  v.upper = {reinterpret_cast<const std::int32_t*>(base + layout.offsets[6]), layout.sizes[6] / 4};

  if ((n == 0) != (h.entry == -1)) fail("entry " + std::to_string(h.entry) + " does not match " + std::to_string(n) + " slots");
  if (n > 0) {
    if (h.entry < 0 || static_cast<std::size_t>(h.entry) >= n) fail("entry " + std::to_string(h.entry) + " is not a slot");
    if (v.levels[static_cast<std::size_t>(h.entry)] != h.max_level) fail("the entry slot's level is not max_level");
  }
  std::unordered_set<std::int32_t> live;
  for (std::size_t i = 0; i < n; ++i) {
    if (v.ids[i] < 0) fail("slot " + std::to_string(i) + " has id " + std::to_string(v.ids[i]));
    if (v.deleted[i] > 1) fail("slot " + std::to_string(i) + " has deleted flag " + std::to_string(v.deleted[i]));
    if (v.deleted[i] == 0 && !live.insert(v.ids[i]).second) fail("id " + std::to_string(v.ids[i]) + " is live twice");
  }
  const std::size_t dim = h.dim;
  switch (static_cast<vector_storage>(h.storage)) {
    case vector_storage::f32:
      for (std::size_t i = 0; i < n * dim; ++i) {
        float x;
        std::memcpy(&x, v.vectors.data() + 4 * i, 4);
        if (!std::isfinite(x)) fail("slot " + std::to_string(i / dim) + " holds a non-finite value");
      }
      break;
    case vector_storage::f16:
      for (std::size_t i = 0; i < n * dim; ++i) {
        std::uint16_t x;
        std::memcpy(&x, v.vectors.data() + 2 * i, 2);
        if ((x & 0x7c00u) == 0x7c00u) fail("slot " + std::to_string(i / dim) + " holds a non-finite value");
      }
      break;
    case vector_storage::i8:
      for (std::size_t i = 0; i < n; ++i)
        if (!(v.scales[i] >= 0.0f) || !std::isfinite(v.scales[i])) fail("slot " + std::to_string(i) + " has a bad int8 scale");
      break;
  }
  const auto check_links = [&](const std::int32_t* list, std::size_t cap, std::size_t owner, int level) {
    if (list[0] < 0 || static_cast<std::size_t>(list[0]) > cap)
      fail("slot " + std::to_string(owner) + " has " + std::to_string(list[0]) + " links at level " + std::to_string(level) +
           " (at most " + std::to_string(cap) + ")");
    for (std::int32_t j = 1; j <= list[0]; ++j)
      if (list[j] < 0 || static_cast<std::size_t>(list[j]) >= n || static_cast<std::size_t>(list[j]) == owner ||
          v.levels[static_cast<std::size_t>(list[j])] < level)  // a search at `level` reads the target's links there
        fail("slot " + std::to_string(owner) + " links to " + std::to_string(list[j]) + " at level " + std::to_string(level));
  };
  const std::size_t M = h.M, stride0 = 1 + 2 * M, stride = 1 + M;
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) {
    check_links(v.links0.data() + i * stride0, 2 * M, i, 0);
    for (std::int32_t l = 1; l <= v.levels[i]; ++l, at += stride) check_links(v.upper.data() + at, M, i, l);
  }
  return v;
}

}  // namespace shopml::recommend
