#pragma once
// Scalar formulas shared by the SIMD tails, the CUDA kernels and the tests'
// references, so each formula is written exactly once.

#include <cmath>

#if defined(__CUDACC__)
#define SHOPML_HOST_DEVICE __host__ __device__
#else
#define SHOPML_HOST_DEVICE
#endif

namespace shopml::scalar {

// GELU, exact form used by BERT: x * Phi(x).
SHOPML_HOST_DEVICE inline float gelu_erf(float x) {
  return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752440f));
}

// GELU, tanh approximation (GPT-2, "gelu_new").
SHOPML_HOST_DEVICE inline float gelu_tanh(float x) {
  constexpr float k = 0.79788456080286535588f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

}  // namespace shopml::scalar
