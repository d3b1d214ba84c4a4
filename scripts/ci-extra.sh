#!/usr/bin/env bash
# What CI checks beyond the test suite (scripts/test.sh): the house style (.clang-format, .clang-tidy),
# the suite again under ASan+UBSan, the concurrency tests under ThreadSanitizer, the CUDA
# backend compiled and linked where nvcc exists (its tests skip without a GPU), packaging
# (install, find_package/add_subdirectory/FetchContent consumers, Conan, the vcpkg port)
# and a short libFuzzer run of every parser (30 s each).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

# Runs before scripts/test.sh in CI, so it sets up the same way (both steps are idempotent).
bash scripts/install-deps.sh
bash scripts/fetch-model.sh

echo "== format and lint (at ${SECONDS}s)"
bash scripts/check-format.sh
bash scripts/check-tidy.sh

echo "== asan-ubsan (at ${SECONDS}s)"
cmake --preset asan-ubsan
cmake --build --preset asan-ubsan -j "$jobs"
ctest --preset asan-ubsan -j "$jobs"

echo "== tsan: the concurrency tests (at ${SECONDS}s)"
cmake --preset tsan
cmake --build --preset tsan -j "$jobs"
ctest --preset tsan -j "$jobs"

if command -v nvcc >/dev/null 2>&1; then
  echo "== cuda: compile and link (at ${SECONDS}s)"
  cmake --preset cuda
  cmake --build --preset cuda -j "$jobs" --target test_cuda
  ctest --preset cuda -L cuda
else
  echo "== cuda skipped: nvcc not found"
fi

echo "== packaging (at ${SECONDS}s)"
bash scripts/check-packaging.sh

# 30 s a target keeps CI well inside its time budget; run longer by hand (scripts/fuzz.sh).
export SHOPML_FUZZ_SECONDS=${SHOPML_FUZZ_SECONDS:-30}
echo "== fuzz, ${SHOPML_FUZZ_SECONDS}s per target (at ${SECONDS}s)"
bash scripts/fuzz.sh
echo "== done (at ${SECONDS}s)"
