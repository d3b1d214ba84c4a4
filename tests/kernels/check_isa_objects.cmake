# Fails when an ISA object of shopml_enable_cpu_dispatch defines code that is not
# specific to its instruction set. Such a function (an inline non-template
# helper, a template instance with the same arguments in both objects) is merged
# by the linker into one copy, possibly the AVX-512 one, which then runs on CPUs
# without AVX-512. Every weak or global code symbol must name its ISA.
#   cmake -DNM=<nm> -DOBJECTS=<a.o;b.o> -P check_isa_objects.cmake
foreach(object IN LISTS OBJECTS)
  execute_process(COMMAND "${NM}" -C --defined-only "${object}" OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${object}")
  endif()
  string(REPLACE "\n" ";" lines "${symbols}")
  set(shared "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[0-9a-f]+ [TW] (.*)$" AND NOT CMAKE_MATCH_1 MATCHES "avx")
      string(APPEND shared "\n  ${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(shared)
    message(FATAL_ERROR "${object} defines code shared with other objects:${shared}")
  endif()
  message(STATUS "${object}: every code symbol is ISA-specific")
endforeach()
