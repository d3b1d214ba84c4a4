// shopml's SIMD kernels for AVX-512 (F, BW, DQ, CD, VL). Compiled with those
// -m flags by shopml_enable_cpu_dispatch() (cmake/ShopmlDispatch.cmake).
#include <shopml/simd/instantiate.hpp>

#if !XSIMD_WITH_AVX512BW
#error "compile this file with -mavx512f -mavx512bw -mavx512dq -mavx512cd -mavx512vl"
#endif

SHOPML_SIMD_INSTANTIATE(xsimd::avx512bw)
