#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, test and benchmark shopml.
# Idempotent: packages already present are skipped.
set -euo pipefail

packages=(
  build-essential cmake ninja-build git unzip python3 python3-venv python3-pip
  libeigen3-dev        # dense/sparse linear algebra (logistic regression, CF)
  libxsimd-dev xtl-dev # portable SIMD with run-time ISA dispatch (Debian's xsimd 8 CMake config names xtl)
  nlohmann-json3-dev   # tokenizer.json, config.json and safetensors headers
  doctest-dev          # unit and parity tests
  libbenchmark-dev     # micro-benchmarks
  libomp-dev           # OpenMP for clang builds (fuzzers); gcc's libgomp comes with g++
  clang libclang-rt-14-dev  # libFuzzer targets and sanitizer runtimes
  clang-format         # the house style (.clang-format), checked by scripts/check-format.sh
  clang-tidy           # the modest lint of .clang-tidy, run by scripts/check-tidy.sh
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
