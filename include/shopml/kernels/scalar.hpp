#pragma once
// Scalar formulas shared by the SIMD kernels, the CUDA kernels and the tests'
// references, so each formula is written exactly once. They are templates over
// the value type: `float` on the host and the device, `xsimd::batch<float, Arch>`
// in the SIMD kernels (erf/tanh are then found by argument-dependent lookup).
// Being templates also keeps each SIMD instantiation a distinct symbol (see
// simd/arch.hpp on why that matters).

#include <cmath>

#if defined(__CUDACC__)
#define SHOPML_HOST_DEVICE __host__ __device__
#else
#define SHOPML_HOST_DEVICE
#endif

namespace shopml::scalar {

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

}  // namespace shopml::scalar
