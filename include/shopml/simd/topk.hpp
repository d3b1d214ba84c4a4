#pragma once
// The k largest of x[0..n), descending, with their indices. Order: larger value
// first; equal values (including -0 == +0) by lower index; NaNs rank below every
// number, among themselves by lower index. k > n is clamped to n.
//
// A heap holds the best k seen so far; a batch is looked at element by element
// only when some lane beats the heap's worst, so for k << n the scan runs at
// SIMD speed.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct topk_kernel {
  template <class Arch>
  void operator()(Arch, const float* x, std::size_t n, std::size_t k, float* values, std::uint32_t* indices) const;
};

template <class Arch>
void topk_kernel::operator()(Arch, const float* x, std::size_t n, std::size_t k, float* values, std::uint32_t* indices) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  if (k > n) k = n;
  if (k == 0) return;

  struct entry {
    float value;
    std::uint32_t index;
  };
  auto better = [](const entry& p, const entry& q) {
    const bool p_nan = p.value != p.value, q_nan = q.value != q.value;
    if (p_nan != q_nan) return q_nan;
    if (p_nan || p.value == q.value) return p.index < q.index;
    return p.value > q.value;
  };
  // With `better` as the heap order, the heap's front is the worst kept entry.
  const std::unique_ptr<entry[]> heap(new entry[k]);
  for (std::size_t i = 0; i < k; ++i) heap[i] = {x[i], static_cast<std::uint32_t>(i)};
  std::make_heap(heap.get(), heap.get() + k, better);

  // Later indices lose ties, so a candidate enters only if strictly better.
  auto offer = [&](std::size_t i) {
    const entry candidate{x[i], static_cast<std::uint32_t>(i)};
    if (!better(candidate, heap[0])) return;
    std::pop_heap(heap.get(), heap.get() + k, better);
    heap[k - 1] = candidate;
    std::push_heap(heap.get(), heap.get() + k, better);
  };
  std::size_t i = k;
  for (; i + w <= n; i += w) {
    const float worst = heap[0].value;
    const b v = b::load_unaligned(x + i);
    // Numbers beat a NaN; otherwise only larger numbers can enter.
    const bool any_better =
        worst != worst ? xsimd::any(v == v) : xsimd::any(v > b(worst));  // NOLINT(misc-redundant-expression): v == v is "not NaN"
    if (any_better)
      for (std::size_t j = i; j < i + w; ++j) offer(j);
  }
  for (; i < n; ++i) offer(i);

  std::sort_heap(heap.get(), heap.get() + k, better);
  for (std::size_t j = 0; j < k; ++j) {
    values[j] = heap[j].value;
    indices[j] = heap[j].index;
  }
}

}  // namespace shopml::simd
