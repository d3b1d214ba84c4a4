#pragma once
// The training losses and their gradients.
//
// cross_entropy: softmax cross-entropy of rows × classes logits against integer
// labels (-100 = ignored, as torch.nn.CrossEntropyLoss's ignore_index). Per row,
// in float: the maximum m, e_j = exp(x_j - m) and s = Σ e_j (xsimd's exp, as
// softmax_rows); the row's loss m + log(s) - x_label is then formed in double
// from those floats, and the rows' losses are added in row order in double, so
// the total is the same for every thread count. dlogits = scale * (e_j / s -
// [j = label]), 0 on ignored rows; its rows are ld apart like the logits', and
// it may be the logits themselves (the gradient then overwrites them in place).
//
// mse: Σ (pred - target)² in double (each difference formed in double), and
// dpred = 2 * scale * (pred - target) in float (dpred may be pred).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "shopml/parallel.hpp"
#include "shopml/simd/arch.hpp"

namespace shopml::simd {

struct cross_entropy_kernel {
  template <class Arch>
  double operator()(Arch, std::size_t rows, std::size_t classes, const float* logits, std::size_t ld, const std::int64_t* labels,
                    float scale, float* dlogits, int threads) const;
};

struct mse_kernel {
  template <class Arch>
  double operator()(Arch, std::size_t n, const float* pred, const float* target, float scale, float* dpred) const;
};

// The label of a row whose loss and gradient are skipped.
inline constexpr std::int64_t ignore_label = -100;

template <class Arch>
double cross_entropy_kernel::operator()(Arch, std::size_t rows, std::size_t classes, const float* logits, std::size_t ld,
                                        const std::int64_t* labels, float scale, float* dlogits, int threads) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  constexpr float inf = std::numeric_limits<float>::infinity();
  if (rows == 0 || classes == 0) return 0.0;
  scratch<Arch, double> loss(rows);
  const int nt = rows * classes < (std::size_t{1} << 14) ? 1 : threads;
  parallel_for(0, static_cast<std::ptrdiff_t>(rows), nt, [&](std::ptrdiff_t r) {
    const float* x = logits + static_cast<std::size_t>(r) * ld;
    float* d = dlogits + static_cast<std::size_t>(r) * ld;
    const std::size_t tail = classes % w, body = classes - tail;
    const std::int64_t label = labels[r];
    if (label == ignore_label) {
      for (std::size_t j = 0; j < body; j += w) b(0.0f).store_unaligned(d + j);
      if (tail) store_partial<Arch>(d + body, tail, b(0.0f));
      loss.get()[r] = 0.0;
      return;
    }
    const auto y = static_cast<std::size_t>(label);
    const float x_label = x[y];  // read before d (maybe x) is written

    b vmax(-inf);
    for (std::size_t j = 0; j < body; j += w) vmax = xsimd::max(vmax, b::load_unaligned(x + j));
    if (tail) vmax = xsimd::max(vmax, load_partial<Arch>(x + body, tail, -inf));
    const float mx = reduce_max<Arch>(vmax);
    const b vmx(mx);

    b sum(0.0f);
    for (std::size_t j = 0; j < body; j += w) {
      const b e = xsimd::exp(b::load_unaligned(x + j) - vmx);
      e.store_unaligned(d + j);
      sum += e;
    }
    if (tail) {
      const b e = xsimd::exp(load_partial<Arch>(x + body, tail, -inf) - vmx);  // padding: exp(-inf) = 0
      store_partial<Arch>(d + body, tail, e);
      sum += e;
    }
    const float s = xsimd::hadd(sum);
    const float e_label = d[y];
    loss.get()[r] = double(mx) + std::log(double(s)) - double(x_label);

    const float inv = 1.0f / s;
    const b vinv(inv), vscale(scale);
    for (std::size_t j = 0; j < body; j += w) (b::load_unaligned(d + j) * vinv * vscale).store_unaligned(d + j);
    if (tail) store_partial<Arch>(d + body, tail, load_partial<Arch>(d + body, tail, 0.0f) * vinv * vscale);
    d[y] = (e_label * inv - 1.0f) * scale;
  });
  double total = 0.0;
  for (std::size_t r = 0; r < rows; ++r) total += loss.get()[r];
  return total;
}

template <class Arch>
double mse_kernel::operator()(Arch, std::size_t n, const float* pred, const float* target, float scale, float* dpred) const {
  using b = batch<Arch>;
  constexpr std::size_t w = width<Arch>;
  // The loss first, so that dpred may be pred itself.
  double sum = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    const double diff = double(pred[j]) - double(target[j]);
    sum += diff * diff;
  }
  const b twice(2.0f * scale);
  std::size_t i = 0;
  for (; i + w <= n; i += w) (twice * (b::load_unaligned(pred + i) - b::load_unaligned(target + i))).store_unaligned(dpred + i);
  if (i < n)
    store_partial<Arch>(dpred + i, n - i,
                        twice * (load_partial<Arch>(pred + i, n - i, 0.0f) - load_partial<Arch>(target + i, n - i, 0.0f)));
  return sum;
}

}  // namespace shopml::simd
