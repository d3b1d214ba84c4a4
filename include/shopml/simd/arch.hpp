#pragma once
// What every SIMD kernel family shares. Kernels are functors with a member
// template `operator()(Arch, ...)`, declared in the class and defined out of line
// without `inline`: then an `extern template` declaration (simd/instantiate.hpp)
// really suppresses the implicit instantiation, and a translation unit built
// without -mavx512f never compiles AVX-512 code.
//
// Everything a kernel calls is itself templated on Arch (or on a type that
// depends on it). A plain inline helper compiled into both the AVX2 and the
// AVX-512 objects would be merged by the linker into one copy, possibly the
// AVX-512 one, and run on CPUs without AVX-512.

#include <cstddef>
#include <new>
#include <xsimd/xsimd.hpp>

namespace shopml::simd {

template <class Arch>
using batch = xsimd::batch<float, Arch>;

template <class Arch>
inline constexpr std::size_t width = batch<Arch>::size;

// Loads n < width floats, filling the other lanes with `fill`.
template <class Arch>
batch<Arch> load_partial(const float* p, std::size_t n, float fill) {
  alignas(64) float buf[width<Arch>];
  for (std::size_t i = 0; i < width<Arch>; ++i) buf[i] = i < n ? p[i] : fill;
  return batch<Arch>::load_aligned(buf);
}

// Stores the first n < width lanes of v.
template <class Arch>
void store_partial(float* p, std::size_t n, batch<Arch> v) {
  alignas(64) float buf[width<Arch>];
  v.store_aligned(buf);
  for (std::size_t i = 0; i < n; ++i) p[i] = buf[i];
}

// Largest lane (xsimd 8 has no hmax); NaN lanes are ignored unless all are NaN.
template <class Arch>
float reduce_max(batch<Arch> v) {
  alignas(64) float buf[width<Arch>];
  v.store_aligned(buf);
  float m = buf[0];
  for (std::size_t i = 1; i < width<Arch>; ++i) m = buf[i] > m || m != m ? buf[i] : m;
  return m;
}

// Applies f to x[0..n) in place, one batch at a time; the tail goes through the
// same batch code on a padded copy, so every element sees the same formula.
template <class Arch, class F>
void transform_in_place(float* x, std::size_t n, F f) {
  constexpr std::size_t w = width<Arch>;
  std::size_t i = 0;
  for (; i + w <= n; i += w) f(batch<Arch>::load_unaligned(x + i)).store_unaligned(x + i);
  if (i < n) store_partial<Arch>(x + i, n - i, f(load_partial<Arch>(x + i, n - i, 0.0f)));
}

// A 64-byte aligned buffer of n floats (or doubles: the partial sums of the
// reductions) owned by one kernel call, uninitialised (std::vector would be a
// template instance shared with non-SIMD code, see above).
template <class Arch, class T = float>
class scratch {
 public:
  explicit scratch(std::size_t n) : data_(n ? static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64})) : nullptr) {}
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  ~scratch() {
    if (data_) ::operator delete (data_, std::align_val_t{64});
  }
  T* get() const { return data_; }

 private:
  T* data_;
};

}  // namespace shopml::simd
