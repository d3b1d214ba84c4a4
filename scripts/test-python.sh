#!/usr/bin/env bash
# The Python package's tests: a venv (build/python-venv) with pinned test dependencies,
# the package built and installed from this checkout (`pip install .`), then pytest over
# tests/python, Ray's local-cluster tests included. Run by scripts/test.sh; fails when
# pytest fails. SHOPML_SKIP_PYTHON_TESTS=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${SHOPML_SKIP_PYTHON_TESTS:-0}" == 1 ]]; then
  echo "test-python: skipped (SHOPML_SKIP_PYTHON_TESTS=1)"
  exit 0
fi

venv=build/python-venv
start=$SECONDS
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet numpy==2.4.6 scipy==1.17.1 pytest==9.2.0 ray==2.60.0
# A normal isolated build (scikit-build-core and nanobind pinned in pyproject.toml), on
# two cores like everything else here. (Isolation puts nanobind in a new temporary folder
# each time, so a second run recompiles the extension: ~2.5 min.)
CMAKE_BUILD_PARALLEL_LEVEL=2 "${pip[@]}" install --quiet .
echo "test-python: venv and package ready in $((SECONDS - start)) s"
cd tests/python
# Last, so that pytest's summary closes the output of scripts/test.sh (and of CI).
"../../$venv/bin/python" -m pytest -q -p no:cacheprovider
