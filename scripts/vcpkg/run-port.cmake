# Runs ports/shopml/portfile.cmake without vcpkg (which cannot be installed here),
# with small stand-ins for the vcpkg helpers it calls, so that its feature mapping,
# configure options, install layout and copyright step are exercised for real. The
# stand-ins do what vcpkg's documentation says each helper does, in the simplest
# form: they check the port's logic, not vcpkg itself.
#   cmake -DWORK=<dir> "-DFEATURES=core;openmp" -P scripts/vcpkg/run-port.cmake
# leaves the installed port in <dir>/packages (use it as CMAKE_PREFIX_PATH).
cmake_minimum_required(VERSION 3.21)
if(NOT WORK)
  message(FATAL_ERROR "pass -DWORK=<work dir>")
endif()
set(PORT shopml)
set(CURRENT_PACKAGES_DIR "${WORK}/packages")
set(CURRENT_BUILDTREES_DIR "${WORK}/buildtrees")
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}")

function(run_checked)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${ARGN}")
  endif()
endfunction()

# FEATURES <feature> <CMake variable> ...: -D<variable>=ON/OFF by the selected features.
function(vcpkg_check_features)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_FEATURE_OPTIONS" "FEATURES")
  set(options "")
  while(arg_FEATURES)
    list(POP_FRONT arg_FEATURES feature variable)
    if(feature IN_LIST FEATURES)
      list(APPEND options "-D${variable}=ON")
    else()
      list(APPEND options "-D${variable}=OFF")
    endif()
  endwhile()
  set(${arg_OUT_FEATURE_OPTIONS} "${options}" PARENT_SCOPE)
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS")
  if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "a header-only port should set VCPKG_BUILD_TYPE release")
  endif()
  run_checked("${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${CURRENT_BUILDTREES_DIR}/rel" -G Ninja
              -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}" ${arg_OPTIONS})
endfunction()

function(vcpkg_cmake_install)
  run_checked("${CMAKE_COMMAND}" --build "${CURRENT_BUILDTREES_DIR}/rel" --target install)
endfunction()

# Moves the package's CMake config to share/<package> (vcpkg's layout).
function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "PACKAGE_NAME;CONFIG_PATH" "")
  set(from "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
  set(to "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
  if(NOT EXISTS "${from}/${arg_PACKAGE_NAME}Config.cmake")
    message(FATAL_ERROR "vcpkg_cmake_config_fixup: no ${arg_PACKAGE_NAME}Config.cmake in ${arg_CONFIG_PATH}")
  endif()
  if(NOT from STREQUAL to)
    file(RENAME "${from}" "${to}")
  endif()
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
  foreach(file IN LISTS arg_FILE_LIST)
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "vcpkg_install_copyright: ${file} does not exist (vcpkg would fail here too)")
    endif()
  endforeach()
  set(text "")
  foreach(file IN LISTS arg_FILE_LIST)
    file(READ "${file}" content)
    string(APPEND text "${content}")
  endforeach()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

include("${CMAKE_CURRENT_LIST_DIR}/../../ports/shopml/portfile.cmake")

# vcpkg's post-build checks that apply to a header-only port.
foreach(required include/shopml/shopml.hpp share/shopml/shopmlConfig.cmake share/shopml/usage share/shopml/copyright)
  if(NOT EXISTS "${CURRENT_PACKAGES_DIR}/${required}")
    message(FATAL_ERROR "the port installed no ${required}")
  endif()
endforeach()
foreach(forbidden debug lib/cmake bin)
  if(EXISTS "${CURRENT_PACKAGES_DIR}/${forbidden}")
    message(FATAL_ERROR "the port installed ${forbidden}/, which vcpkg rejects for this port")
  endif()
endforeach()
message(STATUS "port shopml[${FEATURES}] installed to ${CURRENT_PACKAGES_DIR}")
