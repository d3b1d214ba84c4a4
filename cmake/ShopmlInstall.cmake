# Installs the headers and a relocatable CMake package config under share/shopml.
include(CMakePackageConfigHelpers)

set(SHOPML_CONFIG_DIR "${CMAKE_INSTALL_DATADIR}/shopml")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/cmake/ShopmlDispatch.cmake" DESTINATION "${SHOPML_CONFIG_DIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/cmake/dispatch/" DESTINATION "${SHOPML_CONFIG_DIR}/dispatch" OPTIONAL)

set(SHOPML_INSTALL_TARGETS shopml_headers shopml)
if(SHOPML_WITH_CUDA)
  list(APPEND SHOPML_INSTALL_TARGETS shopml_cuda)
endif()
install(TARGETS ${SHOPML_INSTALL_TARGETS} EXPORT shopmlTargets)
install(EXPORT shopmlTargets NAMESPACE shopml:: DESTINATION "${SHOPML_CONFIG_DIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/shopmlConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/shopmlConfig.cmake" INSTALL_DESTINATION "${SHOPML_CONFIG_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/shopmlConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/shopmlConfig.cmake" "${PROJECT_BINARY_DIR}/shopmlConfigVersion.cmake"
  DESTINATION "${SHOPML_CONFIG_DIR}")
