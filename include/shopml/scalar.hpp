#pragma once
// Scalar formulas and rules shared by the SIMD kernels (simd/), the CUDA kernels (gpu/),
// the components (nn/) and the tests' references, so each is written exactly once; the
// kernels below the boundary include this header, never backend/kernels.hpp. The formulas
// are templates over the value type: `float` on the host and the device,
// `xsimd::batch<float, Arch>` in the SIMD kernels (erf/tanh are then found by
// argument-dependent lookup). Being templates also keeps each SIMD instantiation a
// distinct symbol (see simd/arch.hpp on why that matters).

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define SHOPML_HOST_DEVICE __host__ __device__
#else
#define SHOPML_HOST_DEVICE
#endif

// For the rules below that are not templates: the SIMD kernels compile them into both the
// AVX2 and the AVX-512 objects, so no out-of-line copy may exist for the linker to merge
// (simd/arch.hpp); forced inline, there is none, even at -O0.
#if defined(__CUDACC__)
#define SHOPML_RULE SHOPML_HOST_DEVICE __forceinline__
#elif defined(__GNUC__) || defined(__clang__)
#define SHOPML_RULE [[gnu::always_inline]] inline
#else
#define SHOPML_RULE inline
#endif

namespace shopml {

// Which GELU a model's config asks for (BERT's hidden_act): the exact erf form or the tanh
// approximation.
enum class gelu_form { erf, tanh };

}  // namespace shopml

namespace shopml::scalar {

// A softmax row with a NaN, a +inf or only -inf entries (after the mask) is degenerate:
// all -inf (a fully masked row) becomes all 0, anything else all NaN. `max` is the row's
// largest entry, `any_nan` whether it holds a NaN.
SHOPML_RULE bool softmax_row_degenerate(bool any_nan, float max) { return any_nan || max == -INFINITY || max == INFINITY; }
SHOPML_RULE float softmax_degenerate_fill(bool any_nan, float max) { return max == -INFINITY && !any_nan ? 0.0f : NAN; }

// LayerNorm's 1 / sqrt(variance + eps), variance the biased one (torch's).
SHOPML_RULE float layer_norm_inverse_std(float variance, float eps) {
  using std::sqrt;
  return 1.0f / sqrt(variance + eps);
}

// torch.nn.functional.normalize's divisor max(||x||, 1e-12), written so that a NaN norm
// stays NaN (fmax would drop it): zero rows stay zero, a NaN makes the row NaN.
SHOPML_RULE float l2_normalize_divisor(float norm) { return norm < 1e-12f ? 1e-12f : norm; }

// GELU, exact form used by BERT: x * Phi(x).
template <class T>
SHOPML_HOST_DEVICE inline T gelu_erf(T x) {
  using std::erf;
  return T(0.5f) * x * (T(1.0f) + erf(x * T(0.70710678118654752440f)));
}

// GELU, tanh approximation (GPT-2, "gelu_new").
template <class T>
SHOPML_HOST_DEVICE inline T gelu_tanh(T x) {
  using std::tanh;
  const T k(0.79788456080286535588f);  // sqrt(2/pi)
  return T(0.5f) * x * (T(1.0f) + tanh(k * (x + T(0.044715f) * x * x * x)));
}

// d gelu_erf / dx = Phi(x) + x * phi(x), evaluated as PyTorch's GeluBackward
// (cdf + x * pdf, pdf = exp(-x²/2) / sqrt(2 pi)).
template <class T>
SHOPML_HOST_DEVICE inline T gelu_erf_grad(T x) {
  using std::erf;
  using std::exp;
  const T cdf = T(0.5f) * (T(1.0f) + erf(x * T(0.70710678118654752440f)));
  const T pdf = exp(T(-0.5f) * x * x) * T(0.39894228040143267794f);  // 1 / sqrt(2 pi)
  return cdf + x * pdf;
}

// d gelu_tanh / dx, the exact derivative of gelu_tanh above (same constants):
// with u = k (x + c x³), 0.5 (1 + tanh u) + 0.5 x (1 - tanh² u) k (1 + 3 c x²).
template <class T>
SHOPML_HOST_DEVICE inline T gelu_tanh_grad(T x) {
  using std::tanh;
  const T k(0.79788456080286535588f);  // sqrt(2/pi)
  const T c(0.044715f);
  const T x2 = x * x;
  const T t = tanh(k * (x + c * x2 * x));
  return T(0.5f) * (T(1.0f) + t) + T(0.5f) * x * (T(1.0f) - t * t) * k * (T(1.0f) + T(3.0f) * c * x2);
}

// d tanh(x) / dx from tanh's output y: 1 - y².
template <class T>
SHOPML_HOST_DEVICE inline T tanh_grad(T y) {
  return T(1.0f) - y * y;
}

// ---- Dropout's counter-based generator -------------------------------------
//
// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011; the generator of Random123 and curand): a 128-bit counter c[0..3] and a
// 64-bit key k[0..1] give four 32-bit words. Known answers (Random123's
// kat_vectors) are checked in tests/kernels/test_training_kernels.cpp.
inline constexpr std::uint32_t philox_m0 = 0xD2511F53u, philox_m1 = 0xCD9E8D57u;  // multipliers
inline constexpr std::uint32_t philox_w0 = 0x9E3779B9u, philox_w1 = 0xBB67AE85u;  // key increments (Weyl)

// hi:lo = a * m, the 64-bit product of two 32-bit words.
struct philox_mulhilo {
  SHOPML_HOST_DEVICE void operator()(std::uint32_t a, std::uint32_t m, std::uint32_t& hi, std::uint32_t& lo) const {
    const std::uint64_t p = std::uint64_t{a} * m;
    hi = static_cast<std::uint32_t>(p >> 32);
    lo = static_cast<std::uint32_t>(p);
  }
};

// Ten rounds on c in place. T is std::uint32_t, or a SIMD batch of independent
// counters with a MulHiLo for it (simd/dropout.hpp); the key is the same for all.
template <class T, class MulHiLo = philox_mulhilo>
SHOPML_HOST_DEVICE inline void philox4x32_10(T (&c)[4], std::uint32_t k0, std::uint32_t k1, MulHiLo mulhilo = {}) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) k0 += philox_w0, k1 += philox_w1;
    T hi0, lo0, hi1, lo1;
    mulhilo(c[0], philox_m0, hi0, lo0);
    mulhilo(c[2], philox_m1, hi1, lo1);
    const T n0 = hi1 ^ c[1] ^ T(k0);
    const T n2 = hi0 ^ c[3] ^ T(k1);
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
  }
}

// Whether element `index` survives dropout with probability p under `key`: the
// key gives the Philox key words (low 32 bits, high 32 bits), index / 4 the low
// 64 bits of the counter (high 64 bits 0), index % 4 which of the four words;
// u = (word >> 8) * 2^-24 is uniform on [0, 1) in steps of 2^-24 (exact in
// float), and the element is kept when u >= p. So p = 0 keeps everything and
// p = 1 nothing.
SHOPML_HOST_DEVICE inline bool dropout_keep(std::uint64_t key, std::uint64_t index, float p) {
  const std::uint64_t counter = index >> 2;
  std::uint32_t c[4] = {static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32), 0u, 0u};
  philox4x32_10(c, static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32));
  const float u = static_cast<float>(c[index & 3] >> 8) * 0x1p-24f;
  return u >= p;
}

// ---- AdamW -------------------------------------------------------------------
//
// torch.optim.AdamW's single-tensor step (decoupled weight decay) computes its
// scalars on Python floats (double) and hands them to float tensor operations,
// which round them to float. adamw_prepare does the same from the step's
// parameters; adamw_update is then the float arithmetic of one element in
// torch's order, every product and sum rounded on its own (no fused multiply-add):
//   param.mul_(1 - lr * weight_decay)                       p = p * decay
//   exp_avg.lerp_(grad, 1 - beta1)                          m = m + ((1 - b1) * (g - m))
//   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)  v = (v * b2) + (((1 - b2) * g) * g)
//   denom = exp_avg_sq.sqrt() / sqrt(bias_correction2) + eps
//   param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)   p = p + ((-s * m) / denom)
// It is split in two stages so that no product meets a sum in one expression: a
// compiler allowed to contract (GCC's default -ffp-contract=fast in GNU mode,
// nvcc's --fmad) would otherwise fuse some of them, and where a sum cancels
// (m near (1 - b1)(m - g), p near -update) the fused result differs by many ulps.
// The SIMD kernel stores stage one's results before stage two reads them; the
// CUDA kernel will need __fmul_rn/__fadd_rn (or --fmad=false) for the same bits.
struct adamw_factors {
  float decay;            // 1 - lr * weight_decay
  float one_minus_beta1;  // 1 - beta1
  float beta2;
  float one_minus_beta2;  // 1 - beta2
  float neg_step_size;    // -lr / bias_correction1
  float bias_correction2_sqrt;
  float eps;
};

SHOPML_HOST_DEVICE inline adamw_factors adamw_prepare(double lr, double beta1, double beta2, double eps, double weight_decay,
                                                      double bias_correction1, double bias_correction2) {
  using std::sqrt;
  adamw_factors f;
  f.decay = static_cast<float>(1.0 - lr * weight_decay);
  f.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  f.beta2 = static_cast<float>(beta2);
  f.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  f.neg_step_size = static_cast<float>(-(lr / bias_correction1));
  f.bias_correction2_sqrt = static_cast<float>(sqrt(bias_correction2));
  f.eps = static_cast<float>(eps);
  return f;
}

// Stage one: the products. param and v are scaled in place; dm and dv are the
// increments of m and v.
template <class T>
SHOPML_HOST_DEVICE inline void adamw_products(T& param, const T& m, T& v, T grad, T& dm, T& dv, const adamw_factors& f) {
  param = param * T(f.decay);
  dm = T(f.one_minus_beta1) * (grad - m);
  v = v * T(f.beta2);
  dv = (T(f.one_minus_beta2) * grad) * grad;
}

// Stage two: the sums and the parameter update.
template <class T>
SHOPML_HOST_DEVICE inline void adamw_sums(T& param, T& m, T& v, T dm, T dv, const adamw_factors& f) {
  using std::sqrt;
  m = m + dm;
  v = v + dv;
  const T denom = sqrt(v) / T(f.bias_correction2_sqrt) + T(f.eps);
  param = param + (T(f.neg_step_size) * m) / denom;
}

// One element (T = float) or one batch of elements (T = xsimd::batch<float, Arch>;
// sqrt by argument-dependent lookup). Callers that compile with contraction must
// keep the stages apart, as simd/adamw.hpp does.
template <class T>
SHOPML_HOST_DEVICE inline void adamw_update(T& param, T& m, T& v, T grad, const adamw_factors& f) {
  T dm, dv;
  adamw_products(param, m, v, grad, dm, dv, f);
  adamw_sums(param, m, v, dm, dv, f);
}

}  // namespace shopml::scalar
