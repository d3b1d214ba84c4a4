#!/usr/bin/env bash
# conan create for shopml (recipe + test_package), offline: Conan 2 from PyPI in a
# venv (pinned; skipped when the venv exists), a private CONAN_HOME with no remotes,
# the system-package wrappers of scripts/conan/system and the profile offline.profile.
# Usage: scripts/conan/create-offline.sh [work-dir]   (default build/conan)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(realpath -m "${1:-build/conan}")
venv=${SHOPML_CONAN_VENV:-build/conan-venv}
conan_version=2.34.0

if [[ ! -x $venv/bin/conan ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "conan==$conan_version"
fi
conan=$(realpath "$venv/bin/conan")

export CONAN_HOME=$work/home
rm -rf "$CONAN_HOME" "$work/test_package"
mkdir -p "$CONAN_HOME/profiles"
"$conan" profile detect --name default >/dev/null
"$conan" remote remove conancenter >/dev/null 2>&1 || true
cp scripts/conan/offline.profile "$CONAN_HOME/profiles/offline"

for dep in eigen xsimd nlohmann_json; do
  "$conan" export scripts/conan/system --name "$dep" --version system >/dev/null
done

# Conan builds test_package inside the folder it is given: a copy keeps the source
# tree clean.
cp -r test_package "$work/test_package"
for openmp in 1 0; do
  option=$([[ $openmp == 1 ]] && echo True || echo False)
  echo "-- conan create shopml with_openmp=$option"
  "$conan" create . -pr:a offline -o "shopml/*:with_openmp=$option" --build=missing -tf "$work/test_package" \
    -c tools.cmake.cmaketoolchain:user_presets="" 2>&1 | tee "$work/create-openmp-$openmp.log"
  # The option must reach the consumer's compile flags.
  grep -q "openmp = $openmp" "$work/create-openmp-$openmp.log" ||
    { echo "test_package did not report openmp = $openmp"; exit 1; }
done

# with_cuda adds the shopml::cuda target (nothing to build without a GPU toolchain in
# test_package; the generated CMake files are checked instead).
echo "-- conan install shopml with_cuda=True"
"$conan" install --requires="shopml/$("$conan" inspect . --format=json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" \
  -pr:a offline -o "shopml/*:with_cuda=True" -g CMakeDeps -of "$work/cuda-deps" >"$work/cuda-deps.log" 2>&1 ||
  { cat "$work/cuda-deps.log"; exit 1; }
grep -q "shopml::cuda" "$work/cuda-deps"/shopml-Target-*.cmake && grep -q "SHOPML_WITH_CUDA=1" "$work/cuda-deps"/shopml-*-data.cmake ||
  { echo "with_cuda=True generated no shopml::cuda target"; exit 1; }
echo "shopml::cuda declared with SHOPML_WITH_CUDA=1"
