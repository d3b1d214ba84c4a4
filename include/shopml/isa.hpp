#pragma once
// Which instruction set shopml's CPU kernels run with, the best this CPU offers, and a
// once-per-process note on stderr when the first is below the second: a consumer built
// for the x86-64 baseline without run-time dispatch (cmake/ShopmlDispatch.cmake) runs the
// encoder about 3x slower than it could, and should hear about it.
//
// The note is printed by the first long-running call (sentence_embedder::encode_tokens,
// logistic_regression::fit), at most once per process. Silence it with
// shopml::set_isa_note(false) or the environment variable SHOPML_NO_ISA_NOTE=1.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "shopml/backend/cpu.hpp"

namespace shopml {

namespace detail {
inline std::atomic<bool>& isa_note_enabled() {
  static std::atomic<bool> on{true};
  return on;
}
inline std::atomic<bool>& isa_note_done() {
  static std::atomic<bool> done{false};
  return done;
}
}  // namespace detail

// The instruction set kernels<cpu> runs with on this CPU (xsimd's name: "sse2", "avx2"
// for fma3<avx2>, "avx512bw", ...).
inline const char* kernel_isa() { return simd::active_arch_name(); }

// The best instruction set shopml has kernels for that this CPU offers (x86: AVX-512BW,
// then AVX2+FMA, then the compile-time default).
inline const char* best_isa() {
#if XSIMD_WITH_SSE2
  const auto cpu = xsimd::available_architectures();
  if (cpu.avx512bw) return xsimd::avx512bw::name();
  if (cpu.fma3_avx2) return xsimd::fma3<xsimd::avx2>::name();
#endif
  return xsimd::default_arch::name();
}

// Whether the kernels run below best_isa().
inline bool below_best_isa() {
#if defined(SHOPML_CPU_DISPATCH)
  const unsigned active = xsimd::dispatch<simd::dispatched_archs>([](auto arch) { return decltype(arch)::version(); })();
#else
  const unsigned active = xsimd::default_arch::version();
#endif
#if XSIMD_WITH_SSE2
  const auto cpu = xsimd::available_architectures();
  if (cpu.avx512bw) return active < xsimd::avx512bw::version();
  if (cpu.fma3_avx2) return active < xsimd::fma3<xsimd::avx2>::version();
#endif
  (void)active;
  return false;
}

// Turns the note on or off for the rest of the process (on by default).
inline void set_isa_note(bool on) { detail::isa_note_enabled().store(on); }

// Prints the note once per process when the kernels run below the best ISA, unless
// silenced. Called by the long-running entry points; cheap after the first call.
inline void note_isa_once() {
  if (detail::isa_note_done().exchange(true)) return;
  if (!detail::isa_note_enabled().load()) return;
  if (const char* quiet = std::getenv("SHOPML_NO_ISA_NOTE"); quiet && *quiet && std::string_view(quiet) != "0") return;
  if (!below_best_isa()) return;
  std::fprintf(stderr,
               "[shopml.note] kernels run with %s but this CPU offers %s (the encoder is about 3x slower so): "
               "link shopml::shopml with run-time dispatch on (its default; see SHOPML_CPU_DISPATCH in the README) "
               "or compile with -march=native. Silence: SHOPML_NO_ISA_NOTE=1 or shopml::set_isa_note(false).\n",
               kernel_isa(), best_isa());
}

}  // namespace shopml
