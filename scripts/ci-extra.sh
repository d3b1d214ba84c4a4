#!/usr/bin/env bash
# What CI checks beyond the test suite: ASan+UBSan, CUDA compile and link where nvcc
# exists, `cmake --install` + a find_package consumer.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== asan-ubsan"
cmake --preset asan-ubsan
cmake --build --preset asan-ubsan -j "$jobs"
ctest --preset asan-ubsan -j "$jobs"

echo "== install + consumer"
prefix=$(mktemp -d)
cmake --install build/dev --prefix "$prefix"
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
cmake --build build/consumer
./build/consumer/shopml_consumer

if command -v nvcc >/dev/null 2>&1; then
  echo "== cuda (compile and link)"
  cmake --preset cuda
  cmake --build --preset cuda -j "$jobs"
  ctest --preset cuda
else
  echo "== cuda skipped: nvcc not found"
fi
