# CTest names each doctest case after its title, and a ';' splits a CMake list: a case
# whose title holds one would be registered under a truncated name that selects no case,
# so it would "pass" without running. Fails naming any such title.
file(GLOB_RECURSE sources "${TESTS_DIR}/*.cpp")
set(bad "")
foreach(source ${sources})
  file(STRINGS "${source}" lines REGEX "TEST_CASE\\(\"[^\"]*;")
  foreach(line ${lines})
    string(APPEND bad "\n  ${source}: ${line}")
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "test titles with ';' (CTest would run none of these cases):${bad}")
endif()
