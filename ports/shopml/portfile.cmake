# An overlay port that builds the shopml sources it sits in:
#   vcpkg install shopml --overlay-ports=<shopml>/ports
# (A registry port would fetch a release with vcpkg_from_github instead.)
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

# Headers only: nothing differs between debug and release.
set(VCPKG_BUILD_TYPE release)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    openmp SHOPML_WITH_OPENMP
    cuda   SHOPML_WITH_CUDA
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DSHOPML_BUILD_TESTS=OFF
    -DSHOPML_BUILD_BENCHMARKS=OFF
    -DSHOPML_BUILD_EXAMPLES=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME shopml CONFIG_PATH share/shopml)

vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
