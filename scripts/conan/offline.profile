# Builds shopml's Conan package with the system (Debian) Eigen, xsimd and
# nlohmann_json instead of ConanCenter's, so no network is needed.
include(default)

[settings]
compiler.cppstd=20

[replace_requires]
eigen/*: eigen/system
xsimd/*: xsimd/system
nlohmann_json/*: nlohmann_json/system

[conf]
tools.cmake.cmaketoolchain:generator=Ninja
