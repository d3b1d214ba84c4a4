#pragma once
// Shared by the shopml sides of bench/peers/cf.sh and cf_scale.sh: how many items' neighbour
// sets differ from a peer's similarity matrix (a safetensors CSR written by cf_peer.py), and
// the process's peak resident memory.

#include <sys/resource.h>

#include <cstdint>
#include <filesystem>
#include <set>

#include "shopml/io/safetensors.hpp"
#include "shopml/recommend/interactions.hpp"

namespace shopml::bench {

inline std::int64_t neighbour_mismatches(const recommend::csr_matrix& ours, const std::filesystem::path& peer) {
  const auto file = io::safetensors_file::open(peer);
  const auto indptr = file.to_i64("indptr");
  const auto indices = file.to_i64("indices");
  if (indptr.size() != static_cast<std::size_t>(ours.rows()) + 1) return ours.rows();
  std::int64_t mismatches = 0;
  for (std::int32_t i = 0; i < ours.rows(); ++i) {
    const std::set<std::int64_t> a(indices.begin() + indptr[static_cast<std::size_t>(i)],
                                   indices.begin() + indptr[static_cast<std::size_t>(i) + 1]);
    std::set<std::int64_t> b;
    for (recommend::csr_matrix::InnerIterator it(ours, i); it; ++it) b.insert(it.index());
    mismatches += a != b;
  }
  return mismatches;
}

// Peak resident set of this process so far, in MB (getrusage).
inline double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace shopml::bench
