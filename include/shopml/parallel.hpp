#pragma once
// Thread counts are part of the API: every parallel operation takes a `threads`
// argument (0 = the library default), and the default is set with
// `shopml::set_num_threads`, not only through OMP_NUM_THREADS. Regions run serially
// when already inside a parallel region, so nested calls never oversubscribe.

#include <atomic>
#include <cstddef>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace shopml {

namespace detail {
inline std::atomic<int>& default_threads() {
  static std::atomic<int> n{0};
  return n;
}
}  // namespace detail

// Sets the library-wide default thread count; 0 restores "all the hardware allows".
inline void set_num_threads(int n) { detail::default_threads().store(n < 0 ? 0 : n); }

// Resolves a per-call request: an explicit positive count wins, then the library
// default, then OpenMP's maximum. Inside a parallel region the answer is 1.
inline int num_threads(int requested = 0) {
#if defined(_OPENMP)
  if (omp_in_parallel()) return 1;
  if (requested > 0) return requested;
  const int global = detail::default_threads().load();
  return global > 0 ? global : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

// Runs fn(i) for i in [begin, end) on `threads` threads with a static schedule.
template <class Fn>
void parallel_for(std::ptrdiff_t begin, std::ptrdiff_t end, int threads, Fn&& fn) {
  const int n = num_threads(threads);
#if defined(_OPENMP)
  if (n > 1 && end - begin > 1) {
#pragma omp parallel for num_threads(n) schedule(static)
    for (std::ptrdiff_t i = begin; i < end; ++i) fn(i);
    return;
  }
#endif
  (void)n;
  for (std::ptrdiff_t i = begin; i < end; ++i) fn(i);
}

}  // namespace shopml
