# Run-time ISA dispatch for a header-only library: shopml's kernels compiled once per
# ISA (AVX2+FMA, AVX-512) into the consumer's project, and kernels<cpu> picking the best
# for the CPU it runs on through xsimd::dispatch.
#
# It is on by default: shopml::shopml carries it, from the installed package (this file
# is included by shopmlConfig.cmake; vcpkg installs that config), from add_subdirectory
# and from FetchContent alike. Conan's generated config includes this file as a build
# module but has no shopml::headers yet: there, call shopml_enable_cpu_dispatch(<target>). To opt out (kernels then follow
# the consumer's own -march): set SHOPML_CPU_DISPATCH to OFF before find_package /
# add_subdirectory / FetchContent_MakeAvailable, or link shopml::headers instead of
# shopml::shopml. shopml_enable_cpu_dispatch(<target>) adds it to one target explicitly.
#
# The ISA sources (cmake/dispatch/*.cpp, installed next to this file) go into one
# static library per project, `shopml_cpu_dispatch`, shared by every target: each
# extra target costs a link, not two more heavy compilations. The library defines
# SHOPML_CPU_DISPATCH for its users, which makes backend/cpu.hpp declare the
# instances `extern` and route calls through xsimd::dispatch.

# Creates shopml_cpu_dispatch once per project (x86 only; elsewhere nothing, and the
# compile-time choice, xsimd::default_arch, stays).
function(_shopml_add_cpu_dispatch_library)
  if(TARGET shopml_cpu_dispatch)
    return()
  endif()
  if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86|x86)$")
    return()
  endif()
  # This file sits next to dispatch/ both in the source tree and in share/shopml.
  set(sources "${_SHOPML_DISPATCH_DIR}/dispatch")
  if(MSVC)
    set(avx2_flags /arch:AVX2)
    set(avx512_flags /arch:AVX512)
  else()
    set(avx2_flags -mavx2 -mfma)
    set(avx512_flags -mavx512f -mavx512bw -mavx512dq -mavx512cd -mavx512vl)
  endif()
  # A library per ISA, because compile options on a source file are scoped to the
  # directory that sets them and this may run from anywhere. They use shopml::headers
  # (shopml::shopml itself links this library).
  add_library(shopml_cpu_dispatch_avx2 OBJECT "${sources}/avx2.cpp")
  target_compile_options(shopml_cpu_dispatch_avx2 PRIVATE ${avx2_flags})
  add_library(shopml_cpu_dispatch_avx512 OBJECT "${sources}/avx512.cpp")
  target_compile_options(shopml_cpu_dispatch_avx512 PRIVATE ${avx512_flags})
  # A package without shopml::headers (Conan's generated config) has a shopml::shopml
  # that does not link this library, so that one serves.
  if(TARGET shopml::headers)
    set(headers shopml::headers)
  else()
    set(headers shopml::shopml)
  endif()
  foreach(isa avx2 avx512)
    target_link_libraries(shopml_cpu_dispatch_${isa} PRIVATE ${headers})
  endforeach()
  add_library(shopml_cpu_dispatch STATIC
    $<TARGET_OBJECTS:shopml_cpu_dispatch_avx2> $<TARGET_OBJECTS:shopml_cpu_dispatch_avx512>)
  target_link_libraries(shopml_cpu_dispatch PUBLIC ${headers})
  target_compile_definitions(shopml_cpu_dispatch PUBLIC SHOPML_CPU_DISPATCH=1)
endfunction()
set(_SHOPML_DISPATCH_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(shopml_enable_cpu_dispatch target)
  _shopml_add_cpu_dispatch_library()
  if(TARGET shopml_cpu_dispatch)
    target_link_libraries(${target} PRIVATE shopml_cpu_dispatch)
  endif()
endfunction()

# An imported shopml::shopml (installed package, vcpkg, Conan) gets the dispatch library
# here; the source tree's own target links it in CMakeLists.txt.
if(TARGET shopml::shopml AND TARGET shopml::headers AND (NOT DEFINED SHOPML_CPU_DISPATCH OR SHOPML_CPU_DISPATCH))
  get_target_property(_shopml_imported shopml::shopml IMPORTED)
  if(_shopml_imported)
    _shopml_add_cpu_dispatch_library()
    get_target_property(_shopml_links shopml::shopml INTERFACE_LINK_LIBRARIES)
    if(TARGET shopml_cpu_dispatch AND NOT "shopml_cpu_dispatch" IN_LIST _shopml_links)
      set_property(TARGET shopml::shopml APPEND PROPERTY INTERFACE_LINK_LIBRARIES shopml_cpu_dispatch)
    endif()
  endif()
endif()
