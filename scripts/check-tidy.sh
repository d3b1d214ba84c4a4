#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy's checks, from scripts/install-deps.sh) over every public header
# at once, through the umbrella header include/shopml/shopml.hpp; fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v clang-tidy >/dev/null || { echo "check-tidy: clang-tidy not found (scripts/install-deps.sh installs it)"; exit 1; }
eigen_flags=$(pkg-config --cflags eigen3 2>/dev/null || echo -I/usr/include/eigen3)
# shellcheck disable=SC2086
clang-tidy --quiet include/shopml/shopml.hpp -- -x c++ -std=c++20 -Iinclude $eigen_flags -fopenmp -DNDEBUG
echo "check-tidy: the headers pass .clang-tidy ($(clang-tidy --version | grep -o 'version [0-9.]*'))"
