#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs dependencies, fetches the model,
# builds the dev preset and runs every test with CTest, then the Python package's tests
# (scripts/test-python.sh: pytest, Ray's local-cluster jobs included).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/fetch-model.sh
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev -j "$(nproc)"
bash scripts/test-python.sh
