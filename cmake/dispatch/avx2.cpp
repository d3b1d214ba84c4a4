// shopml's SIMD kernels for AVX2 + FMA. Compiled with -mavx2 -mfma by
// shopml_enable_cpu_dispatch() (cmake/ShopmlDispatch.cmake).
#include <shopml/simd/instantiate.hpp>

#if !XSIMD_WITH_FMA3_AVX2
#error "compile this file with -mavx2 -mfma"
#endif

SHOPML_SIMD_INSTANTIATE(xsimd::fma3<xsimd::avx2>)
