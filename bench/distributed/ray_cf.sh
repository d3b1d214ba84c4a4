#!/usr/bin/env bash
# shopml's item-item fit on a local Ray cluster against one process, one thread per process:
# one process, then shopml.distributed.fit_item_item with 1 and with 2 Ray workers (the
# interaction matrix put once in the object store, one task per block of items).
#
# usage: bench/distributed/ray_cf.sh [CSV]
#   CSV: interactions as user,item[,value] rows with a header line. Default: the seeded
#   power-law log of bench/recommend/power_law_interactions.hpp, USERS × ITEMS ×
#   INTERACTIONS (default 1000000 × 100000 × 10000000), written by generate_interactions.
# env: K (50), MEASURE (cosine), RUNS (1: medians over this many fits per configuration),
#      USERS ITEMS INTERACTIONS EXPONENT USER_EXPONENT SEED (generated log; 1.0 0.5 42),
#      RAY_CF_VENV (default build/bench-ray/venv: made here with the pins below and the
#      package installed from this checkout).
# Ends with one line:
#   RESULT interactions=<n> identical=<0|1> overhead_1w=<x> speedup_2w=<x>
# and exits non-zero when a Ray fit was not bit for bit the single-process fit.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build/bench-ray
venv=${RAY_CF_VENV:-$build/venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check numpy==2.4.6 scipy==1.17.1 ray==2.60.0
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check .

if [[ $# -ge 1 ]]; then
  data=$1
else
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$build" --target generate_interactions -j 2 >/dev/null
  data=$work/interactions.safetensors
  "$build/bench/recommend/generate_interactions" "$data" "${USERS:-1000000}" "${ITEMS:-100000}" "${INTERACTIONS:-10000000}" \
    "${EXPONENT:-1.0}" "${USER_EXPONENT:-0.5}" "${SEED:-42}" 2
fi

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(date -u +%F); shopml $(git rev-parse --short HEAD)"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
"$venv/bin/python" bench/distributed/ray_cf.py "$data" "${K:-50}" "${MEASURE:-cosine}" "${RUNS:-1}"
