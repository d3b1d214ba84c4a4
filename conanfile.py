import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class ShopmlConan(ConanFile):
    name = "shopml"
    description = ("Header-only C++20 building blocks for e-commerce ML: HuggingFace-exact tokenization, "
                   "BERT sentence encoders from safetensors, logistic-regression heads and collaborative-"
                   "filtering recommenders on xsimd/OpenMP kernels, with an optional CUDA backend")
    license = "MIT"
    topics = ("machine-learning", "tokenizer", "bert", "recommender", "simd", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_openmp": [True, False],
        "with_cuda": [True, False],
    }
    default_options = {
        "with_openmp": True,
        "with_cuda": False,
    }
    no_copy_source = True
    exports_sources = "include/*", "cmake/ShopmlDispatch.cmake", "cmake/dispatch/*", "LICENSE*"

    def set_version(self):
        cmakelists = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        self.version = self.version or re.search(r"project\(shopml VERSION ([0-9.]+)", cmakelists).group(1)

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        # Versions the headers are written for: Eigen 3.4 (Debian) to 5.x (ConanCenter),
        # xsimd 8.1 to 14, nlohmann_json 3.10+.
        self.requires("eigen/[>=3.4 <6]")
        self.requires("xsimd/[>=8.1 <15]")
        self.requires("nlohmann_json/[>=3.10 <4]")

    def package_id(self):
        # Headers only: one package serves every setting and option; the options act
        # in package_info (flags and targets), which runs for each consumer.
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)
        if self.options.with_openmp and self.settings.compiler == "apple-clang":
            raise ConanInvalidConfiguration("apple-clang has no OpenMP of its own: use -o shopml/*:with_openmp=False")

    def build(self):
        pass

    def package(self):
        copy(self, "LICENSE*", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))
        # shopml_enable_cpu_dispatch() and the per-ISA sources it compiles into consumers.
        cmake_dir = os.path.join(self.package_folder, self._cmake_dir)
        copy(self, "ShopmlDispatch.cmake", os.path.join(self.source_folder, "cmake"), cmake_dir)
        copy(self, "*", os.path.join(self.source_folder, "cmake", "dispatch"), os.path.join(cmake_dir, "dispatch"))

    @property
    def _cmake_dir(self):
        return os.path.join("lib", "cmake", "shopml")

    def package_info(self):
        # Same file and target names as shopml's own CMake install. The root target
        # aggregates the components the options enabled; consumers link shopml::shopml
        # (CPU) and, with with_cuda, shopml::cuda.
        self.cpp_info.set_property("cmake_file_name", "shopml")
        self.cpp_info.set_property("cmake_target_name", "shopml::all")
        self.cpp_info.set_property("cmake_build_modules", [os.path.join(self._cmake_dir, "ShopmlDispatch.cmake")])
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []

        core = self.cpp_info.components["shopml"]
        core.set_property("cmake_target_name", "shopml::shopml")
        core.bindirs = []
        core.libdirs = []
        core.requires = ["eigen::eigen", "xsimd::xsimd", "nlohmann_json::nlohmann_json"]
        if self.options.with_openmp:
            flag = "/openmp" if self.settings.compiler == "msvc" else "-fopenmp"
            core.cxxflags = [flag]
            if self.settings.compiler != "msvc":
                core.exelinkflags = [flag]
                core.sharedlinkflags = [flag]

        if self.options.with_cuda:
            # The CUDA toolkit is not a Conan package: cudart and cuBLAS come from the
            # consumer's toolkit (enable_language(CUDA) puts its libraries on the link path),
            # and .cu sources need C++20 (CMAKE_CUDA_STANDARD 20).
            gpu = self.cpp_info.components["cuda"]
            gpu.set_property("cmake_target_name", "shopml::cuda")
            gpu.bindirs = []
            gpu.libdirs = []
            gpu.requires = ["shopml"]
            gpu.defines = ["SHOPML_WITH_CUDA=1"]
            gpu.system_libs = ["cudart", "cublas"]
