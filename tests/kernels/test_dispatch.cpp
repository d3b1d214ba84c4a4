// kernels<cpu> as the components see it: routed to the best ISA of this CPU
// (with shopml_enable_cpu_dispatch) and agreeing with each explicit ISA.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "reference.hpp"
#include "shopml/backend/cpu.hpp"

using K = shopml::kernels<shopml::cpu>;

TEST_CASE("kernels<cpu> runs the best instruction set the CPU offers") {
  const std::string active = shopml::simd::active_arch_name();
  MESSAGE("kernels<cpu> runs on " << active);
#if defined(SHOPML_CPU_DISPATCH)
  const auto cpu = xsimd::available_architectures();
  if (cpu.avx512bw)
    CHECK(active == xsimd::avx512bw::name());
  else if (cpu.fma3_avx2)
    CHECK(active == xsimd::fma3<xsimd::avx2>::name());
  else
    CHECK(active == xsimd::default_arch::name());
#else
  CHECK(active == xsimd::default_arch::name());
#endif
}

TEST_CASE_TEMPLATE("kernels<cpu> equals the explicit functor of the active ISA", Arch, SHOPML_TEST_ARCHS) {
  SHOPML_REQUIRE_CPU(Arch);
  if (std::string(Arch::name()) != shopml::simd::active_arch_name()) return;
  const std::size_t m = 37, n = 45, k = 130;
  const auto a = shopml::test::random_floats(m * k, 1), b = shopml::test::random_floats(n * k, 2);
  std::vector<float> c1(m * n), c2(m * n);
  K::gemm(true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c1.data(), n, nullptr, 2);
  shopml::simd::gemm_kernel{}(Arch{}, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c2.data(), n, nullptr, 1);
  REQUIRE(shopml::test::same_bits(c1, c2));
  REQUIRE(K::dot(a.data(), b.data(), k) == shopml::simd::dot_kernel{}(Arch{}, a.data(), b.data(), k));
}
