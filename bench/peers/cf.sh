#!/usr/bin/env bash
# shopml's item-item recommenders against implicit 0.7.3, side by side in one run on the
# same interactions and thread count, plus exact embedding top-k against the machine's
# read bandwidth.
#
# usage: bench/peers/cf.sh [INTERACTIONS_FILE]
#   INTERACTIONS_FILE: CSV `user,item,value` with a header (ids: any strings); default the
#   shared MovieLens-100k ratings (converted from u.data).
# env: THREADS (default: nproc), RUNS (default 5; times are medians), KNN_ROWS (1000000),
#      KNN_DIM (384), KNN_QUERIES (1000), OMP_WAIT_POLICY (default passive: the machine is shared),
#      CF_VENV (the peers' venv, default build/peers-cf/venv, made on first use with the pins
#      of scripts/golden/requirements.txt)
#
# Steps: builds the release configuration into build/peers-cf; implicit fits
# CosineRecommender and BM25Recommender (K=50, K1=1.2, B=0.75) and recommends 10 items to
# every user (bench/peers/cf_peer.py); shopml does the same (bench/recommend/cf_bench.cpp)
# and counts the items whose neighbour set differs from implicit's; then shopml searches the
# top 10 of KNN_QUERIES random queries in a KNN_ROWS × KNN_DIM float32 matrix (inner
# product) and measures a streaming read of that matrix with the same threads.
# Ends with exactly one line:
#   RESULT items=<n> neighbour_mismatches=<n> speedup_fit=<x> speedup_recommend=<x> knn_gbps=<x> mem_gbps=<x> peak_rss_mb=<x>
# speedup_* = implicit's time ÷ shopml's (cosine + BM25 summed); knn_gbps = the matrix's
# bytes × queries ÷ search time (the read rate a query-at-a-time scan would need to match
# the batched search, which reads the matrix once for all queries); the single-query scan
# rate, a true memory stream, is printed above it as single_query_gbps; peak_rss_mb = shopml's
# peak resident memory through the recommender runs (before the embedding matrix; implicit's
# is printed with its timings).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/peers/peer_venv.sh
root=$PWD
build=build/peers-cf
threads=${THREADS:-$(nproc)}
runs=${RUNS:-5}
python=$(peer_python "${CF_VENV:-$build/venv}" implicit numpy scipy pandas safetensors) || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

input=${1:-}
if [[ -z "$input" ]]; then
  input=$work/movielens-100k.csv
  { echo "user,item,value"; awk -F'\t' '{print $1","$2","$3}' "$root/../shared/data/movielens-100k/u.data"; } >"$input"
fi
[[ -r "$input" ]] || { echo "cannot read $input" >&2; exit 1; }

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target cf_bench -j "$(nproc)" >/dev/null

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; threads=$threads runs=$runs; $(date -u +%F)"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export OPENBLAS_NUM_THREADS=1
"$python" bench/peers/cf_peer.py "$input" "$work" "$threads" "$runs" 2> >(grep -v -e ParameterWarning -e 'warnings.warn' >&2) \
  | tee "$work/implicit.txt"
"$build/bench/recommend/cf_bench" "$input" "$work" "$threads" "$runs" "${KNN_ROWS:-1000000}" "${KNN_DIM:-384}" \
  "${KNN_QUERIES:-1000}" | tee "$work/shopml.txt"

"$python" - "$work" <<'PY'
import json, pathlib, re, sys
work = pathlib.Path(sys.argv[1])
peer = json.loads((work / "implicit.json").read_text())
ours = {}
for line in (work / "shopml.txt").read_text().splitlines():
    ours.update(dict(re.findall(r"(\w+)=([^\s]+)", line)))
f = lambda k: float(ours[k])
speedup_fit = (peer["fit_cosine"] + peer["fit_bm25"]) / (f("fit_cosine") + f("fit_bm25"))
speedup_rec = (peer["recommend_cosine"] + peer["recommend_bm25"]) / (f("recommend_cosine") + f("recommend_bm25"))
knn = ours.get("effective_gbps", "0")
mem = ours.get("mem_gbps", "0")
print(f"RESULT items={ours['items']} neighbour_mismatches={ours['neighbour_mismatches']} "
      f"speedup_fit={speedup_fit:.2f} speedup_recommend={speedup_rec:.2f} knn_gbps={float(knn):.2f} mem_gbps={float(mem):.2f} "
      f"peak_rss_mb={float(ours['peak_rss_mb']):.0f}")
PY
