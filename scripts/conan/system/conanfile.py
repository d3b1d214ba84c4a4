"""Conan wrappers for the Debian packages of shopml's dependencies, so that
`conan create` runs offline: `conan export --name <dep> --version system` with
SHOPML_SYSTEM_DEP=<dep>, then a profile's [replace_requires] maps <dep>/* to
<dep>/system. They package nothing and point at /usr/include, with the CMake file
and target names ConanCenter's recipes use."""
import os

from conan import ConanFile

# name -> (CMake file name, CMake target, include directory)
SYSTEM_PACKAGES = {
    "eigen": ("Eigen3", "Eigen3::Eigen", "/usr/include/eigen3"),
    "xsimd": ("xsimd", "xsimd", "/usr/include"),
    "nlohmann_json": ("nlohmann_json", "nlohmann_json::nlohmann_json", "/usr/include"),
}


class SystemHeaderLibrary(ConanFile):
    package_type = "header-library"
    description = "A header-only library installed by the system package manager (apt)"

    def package_id(self):
        self.info.clear()

    def package_info(self):
        file_name, target, include_dir = SYSTEM_PACKAGES[self.name]
        self.cpp_info.set_property("cmake_file_name", file_name)
        self.cpp_info.set_property("cmake_target_name", target)
        self.cpp_info.includedirs = [include_dir]
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
