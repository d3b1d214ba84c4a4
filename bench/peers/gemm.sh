#!/usr/bin/env bash
# shopml's GEMM (kernels<cpu>::gemm, run-time dispatched) against OpenBLAS's
# cblas_sgemm, side by side in one run on the same inputs: M in {1, 32, 128, 4096},
# K, N in {384, 1536}, B both as nn.Linear's weight [N, K] (trans_b) and as [K, N],
# at 1 and 2 threads (OpenBLAS through openblas_set_num_threads), median of REPS
# repetitions. Prints a table and ends with exactly one line
#   RESULT gemm_vs_openblas_1t=<x> gemm_vs_openblas_2t=<x>
# where x = the median over the 32 shapes of OpenBLAS time ÷ shopml time (> 1: shopml faster).
#
# usage: bench/peers/gemm.sh
# env:   ISA=avx2 runs shopml's AVX2 kernels and OpenBLAS's Haswell ones (OPENBLAS_CORETYPE)
#        on an AVX-512 machine, to stand in for an AVX2-only CPU (Zen 3); ISA=avx512bw
#        names the AVX-512 kernels; unset, the library's own run-time choice.
#        AT=1 times gemm_at (Aᵀ·B, training's weight gradients) against sgemm with A
#        transposed instead (16 shapes, B [K, N]).
#        BUILD_DIR (default build/peers-gemm), JOBS for its build (default: all CPUs),
#        REPS (default 5), MIN_SECONDS per timing (default 0.05),
#        OMP_WAIT_POLICY (default passive: on a machine shared by other jobs, OpenMP
#        workers that spin at the end of a region steal the core their peer needs;
#        OpenBLAS's own pthreads yield instead. Set it to active on a quiet machine.)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build/peers-gemm}

# OpenBLAS is the yardstick here only; shopml never links it.
if ! dpkg-query -W -f='${Status}' libopenblas-dev 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libopenblas-dev
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=OFF \
  -DSHOPML_BUILD_EXAMPLES=OFF -DSHOPML_PEER_OPENBLAS=ON >/dev/null
cmake --build "$build" --target gemm_vs_openblas -j "${JOBS:-$(nproc)}" >/dev/null

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(date -u +%F); load average $(cut -d' ' -f1-3 /proc/loadavg)"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
echo "OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
if [[ -n ${ISA:-} ]]; then
  export SHOPML_BENCH_ISA=$ISA
  [[ $ISA == avx2 ]] && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
fi
[[ -n ${AT:-} ]] && export SHOPML_BENCH_AT=$AT
"$build/bench/kernels/gemm_vs_openblas" "${REPS:-5}" "${MIN_SECONDS:-0.05}"
