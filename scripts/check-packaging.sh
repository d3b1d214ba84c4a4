#!/usr/bin/env bash
# Checks that shopml can be consumed the ways users consume a CMake library, each in
# its own build directory under build/packaging/:
#   install      cmake --install of a build without tests; every installed header
#                compiles on its own against the installed tree
#   find_package tests/consumer against the install, built as the README says (it fails
#                unless the kernels run the best ISA of this CPU: dispatch by default),
#                with SHOPML_CPU_DISPATCH=OFF (must run below it), then against a moved
#                copy of the install (the package config must be relocatable)
#   subdirectory tests/consumer/add_subdirectory
#   fetchcontent tests/consumer/fetch_content, offline: FETCHCONTENT_SOURCE_DIR_SHOPML at
#                this checkout, then a git clone of the committed HEAD (catches files
#                that were never committed)
#   cuda         (when nvcc exists) an install with SHOPML_WITH_CUDA and a .cu consumer
#                asking for the `cuda` component; the install without CUDA must refuse it
#   conan        conan create (recipe + test_package), offline against the system
#                Eigen/xsimd/nlohmann_json (scripts/conan/); SHOPML_CHECK_CONAN=0 skips it
#   vcpkg        ports/shopml/vcpkg.json is valid and agrees with CMakeLists.txt; the
#                portfile runs (scripts/vcpkg/run-port.cmake stands in for vcpkg's
#                helpers) with and without OpenMP, and a consumer builds against it
# Usage: scripts/check-packaging.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build/packaging
jobs=$(nproc)
rm -rf "$out"
mkdir -p "$out"

step() { echo "== packaging: $* (at ${SECONDS}s)"; }
configure() { cmake -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >"$out/last-configure.log" || { cat "$out/last-configure.log"; return 1; }; }
build() { cmake --build "$1" -j "$jobs"; }
no_extras=(-DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_BENCHMARKS=OFF -DSHOPML_BUILD_EXAMPLES=OFF)

step "install (OpenMP on, CUDA off)"
configure -S . -B "$out/shopml" "${no_extras[@]}"
cmake --install "$out/shopml" --prefix "$out/prefix" >/dev/null
for f in include/shopml/shopml.hpp share/shopml/shopmlConfig.cmake share/shopml/shopmlConfigVersion.cmake \
         share/shopml/shopmlTargets.cmake share/shopml/ShopmlDispatch.cmake; do
  [[ -f $out/prefix/$f ]] || { echo "missing from the install: $f"; exit 1; }
done

step "each installed header compiles on its own"
eigen_flags=$(pkg-config --cflags eigen3 2>/dev/null || echo -I/usr/include/eigen3)
(cd "$out/prefix/include" && find shopml -name '*.hpp' | sort) >"$out/headers.txt"
# shellcheck disable=SC2016
xargs -P "$jobs" -I{} sh -c 'printf "#include <%s>\n" "$1" | ${CXX:-c++} -std=c++20 -fopenmp -fsyntax-only \
    -I"$2" $3 -x c++ - || { echo "header does not compile alone: $1"; exit 255; }' _ {} "$out/prefix/include" \
    "$eigen_flags" <"$out/headers.txt"
echo "$(wc -l <"$out/headers.txt") headers"

step "find_package consumer"
configure -S tests/consumer -B "$out/find_package" -DCMAKE_PREFIX_PATH="$out/prefix"
build "$out/find_package"
"$out/find_package/shopml_consumer"

step "find_package consumer with SHOPML_CPU_DISPATCH=OFF (the opt-out: kernels follow -march)"
configure -S tests/consumer -B "$out/find_package-no-dispatch" -DCMAKE_PREFIX_PATH="$out/prefix" -DSHOPML_CPU_DISPATCH=OFF
build "$out/find_package-no-dispatch"
if "$out/find_package-no-dispatch/shopml_consumer"; then
  # Only a CPU whose best ISA is the compile-time baseline runs at its best without dispatch.
  "$out/find_package/shopml_consumer" | grep -q "best for this CPU: sse2" ||
    { echo "SHOPML_CPU_DISPATCH=OFF still dispatched"; exit 1; }
fi

step "find_package consumer against a moved install"
mv "$out/prefix" "$out/moved-prefix"
configure -S tests/consumer -B "$out/find_package-moved" -DCMAKE_PREFIX_PATH="$out/moved-prefix"
build "$out/find_package-moved"
"$out/find_package-moved/shopml_consumer"
if grep -rq "$out/prefix" "$out/moved-prefix/share/shopml"; then
  echo "the installed package config names its install prefix"; exit 1
fi

step "install without CUDA refuses the cuda component"
mkdir -p "$out/no-cuda"
cat >"$out/no-cuda/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.21)
project(shopml_no_cuda LANGUAGES CXX)
find_package(shopml CONFIG COMPONENTS cuda)
if(shopml_FOUND)
  message(FATAL_ERROR "an install without CUDA reported the cuda component found")
endif()
CMAKE
configure -S "$out/no-cuda" -B "$out/no-cuda/build" -DCMAKE_PREFIX_PATH="$out/moved-prefix"

step "add_subdirectory consumer"
configure -S tests/consumer/add_subdirectory -B "$out/subdirectory" -DSHOPML_SOURCE_DIR="$root"
build "$out/subdirectory"
"$out/subdirectory/shopml_consumer"

step "FetchContent consumer, FETCHCONTENT_SOURCE_DIR_SHOPML"
configure -S tests/consumer/fetch_content -B "$out/fetchcontent" -DFETCHCONTENT_SOURCE_DIR_SHOPML="$root" \
  -DFETCHCONTENT_FULLY_DISCONNECTED=ON
build "$out/fetchcontent"
"$out/fetchcontent/shopml_consumer"

if head=$(git rev-parse HEAD 2>/dev/null); then
  step "FetchContent consumer, git clone of the committed HEAD (${head:0:7})"
  configure -S tests/consumer/fetch_content -B "$out/fetchcontent-git" -DSHOPML_GIT_REPOSITORY="$root" \
    -DSHOPML_GIT_TAG="$head"
  build "$out/fetchcontent-git"
  "$out/fetchcontent-git/shopml_consumer"
else
  step "FetchContent from git skipped: not a git checkout"
fi

if command -v nvcc >/dev/null 2>&1; then
  step "install with CUDA + a CUDA consumer"
  configure -S . -B "$out/shopml-cuda" "${no_extras[@]}" -DSHOPML_WITH_CUDA=ON
  cmake --install "$out/shopml-cuda" --prefix "$out/prefix-cuda" >/dev/null
  configure -S tests/consumer/cuda -B "$out/cuda" -DCMAKE_PREFIX_PATH="$out/prefix-cuda" -DCMAKE_CUDA_ARCHITECTURES=80
  build "$out/cuda"
  status=0
  "$out/cuda/shopml_cuda_consumer" || status=$?
  [[ $status == 0 || $status == 77 ]] || { echo "the CUDA consumer failed ($status)"; exit 1; }
else
  step "cuda skipped: nvcc not found"
fi

if [[ ${SHOPML_CHECK_CONAN:-1} != 0 ]]; then
  step "conan create (offline, system dependencies)"
  bash scripts/conan/create-offline.sh "$out/conan"
else
  step "conan skipped (SHOPML_CHECK_CONAN=0)"
fi

step "vcpkg port manifest"
python3 - "$root" <<'PY'
import json, pathlib, re, sys
root = pathlib.Path(sys.argv[1])
manifest = json.loads((root / "ports/shopml/vcpkg.json").read_text())
version = re.search(r"project\(shopml VERSION ([0-9.]+)", (root / "CMakeLists.txt").read_text()).group(1)
assert manifest["name"] == "shopml", manifest["name"]
assert manifest["version"] == version, f"vcpkg.json version {manifest['version']} != CMake {version}"
assert "openmp" in manifest["features"] and "cuda" in manifest["features"], "features openmp and cuda"
assert "openmp" in [f if isinstance(f, str) else f["name"] for f in manifest.get("default-features", [])]
names = {d if isinstance(d, str) else d["name"] for d in manifest["dependencies"]}
missing = {"eigen3", "xsimd", "nlohmann-json", "vcpkg-cmake", "vcpkg-cmake-config"} - names
assert not missing, f"missing dependencies: {missing}"
print(f"vcpkg.json valid, version {version}, features {sorted(manifest['features'])}")
PY

for features in "core;openmp" "core"; do
  step "vcpkg portfile run with stand-in helpers, features $features"
  work=$out/vcpkg-${features//;/-}
  cmake -DWORK="$work" "-DFEATURES=$features" -P scripts/vcpkg/run-port.cmake >"$work.log" 2>&1 ||
    { tail -n 20 "$work.log"; exit 1; }
  configure -S tests/consumer -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/packages"
  build "$work/consumer"
  "$work/consumer/shopml_consumer"
done

echo "== packaging: all checks passed"
