# shopml_enable_cpu_dispatch(<target>): compiles shopml's kernels once per ISA
# (AVX2+FMA, AVX-512) into <target> and lets kernels<cpu> pick the best one at run
# time. Without it, kernels use the consumer's own -march.
#
# The ISA sources (cmake/dispatch/*.cpp, installed next to this file) go into one
# static library per project, `shopml_cpu_dispatch`, shared by every target that
# asks: each extra target costs a link, not two more heavy compilations. The
# library defines SHOPML_CPU_DISPATCH for its users, which makes backend/cpu.hpp
# declare the instances `extern` and route calls through xsimd::dispatch.
function(shopml_enable_cpu_dispatch target)
  # This file sits next to dispatch/ both in the source tree and in share/shopml.
  set(sources "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/dispatch")
  if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86|x86)$")
    return()  # other CPUs: the compile-time choice (xsimd::default_arch) stays
  endif()
  if(NOT TARGET shopml_cpu_dispatch)
    if(MSVC)
      set(avx2_flags /arch:AVX2)
      set(avx512_flags /arch:AVX512)
    else()
      set(avx2_flags -mavx2 -mfma)
      set(avx512_flags -mavx512f -mavx512bw -mavx512dq -mavx512cd -mavx512vl)
    endif()
    # A library per ISA, because compile options on a source file are scoped to
    # the directory that sets them and this function may be called from anywhere.
    add_library(shopml_cpu_dispatch_avx2 OBJECT "${sources}/avx2.cpp")
    target_compile_options(shopml_cpu_dispatch_avx2 PRIVATE ${avx2_flags})
    add_library(shopml_cpu_dispatch_avx512 OBJECT "${sources}/avx512.cpp")
    target_compile_options(shopml_cpu_dispatch_avx512 PRIVATE ${avx512_flags})
    foreach(isa avx2 avx512)
      target_link_libraries(shopml_cpu_dispatch_${isa} PRIVATE shopml::shopml)
    endforeach()
    add_library(shopml_cpu_dispatch STATIC
      $<TARGET_OBJECTS:shopml_cpu_dispatch_avx2> $<TARGET_OBJECTS:shopml_cpu_dispatch_avx512>)
    target_link_libraries(shopml_cpu_dispatch PUBLIC shopml::shopml)
    target_compile_definitions(shopml_cpu_dispatch PUBLIC SHOPML_CPU_DISPATCH=1)
  endif()
  target_link_libraries(${target} PRIVATE shopml_cpu_dispatch)
endfunction()
