#!/usr/bin/env bash
# shopml's approximate index (recommend/hnsw_index.hpp) against hnswlib, faiss (HNSW and
# IVF-Flat) and usearch on the same vectors and threads.
#
# usage: bench/peers/ann.sh [VECTORS.npy]
#   VECTORS.npy: float32 n × d rows (normalised here by each engine's cosine / inner
#   product; the last 1,000 rows become the queries); default: the shared English reviews
#   embedded by shopml's all-MiniLM-L6-v2 plus seeded vectors on the unit sphere around
#   them, N in all (bench/recommend/ann_bench.cpp, "data").
# env: N (default 1000000), THREADS (build threads, default 2), M (16), EFC (200),
#      ANN_VENV (the peers' venv, default build/peers-ann/venv, made on first use with the
#      pins of scripts/golden/requirements.txt), ANN_DATA (where the vectors go, default
#      build/peers-ann/data-N: made once, reused).
#
# Ground truth: shopml's exact embedding_index (top-10 by cosine). Every engine builds on
# THREADS threads with M / ef_construction = M / EFC (IVF-Flat: nlist = 4·√n) and answers
# the queries one at a time on one thread while its search parameter is swept. Ends with
#   RESULT n= dim= recall_at_10= qps_1t= vs_hnswlib_qps_at_recall= vs_faiss_qps_at_recall=
#          build_s_2t= bytes_per_item_int8= filtered_recall_at_10_1pct= filtered_recall_at_10_10pct=
# qps_1t and vs_* are queries/s at recall@10 = 0.95 (interpolated along each sweep; vs_faiss
# against the better of faiss's HNSW and IVF-Flat), and writes the chart
# build/peers-ann/ann.svg (recall@10 against queries/s, every engine).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/peers/peer_venv.sh
build=build/peers-ann
n=${N:-1000000}
threads=${THREADS:-2}
M=${M:-16}
efc=${EFC:-200}
python=$(peer_python "${ANN_VENV:-$build/venv}" numpy hnswlib faiss-cpu usearch) || exit 1

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target ann_bench -j "$(nproc)" >/dev/null

if [[ -n "${1:-}" ]]; then
  data=${ANN_DATA:-$build/data-$(basename "$1" .npy)}
  mkdir -p "$data"
  "$python" - "$1" "$data" <<'PY'
import sys, numpy as np
x = np.load(sys.argv[1]).astype(np.float32)
if x.ndim != 2 or len(x) <= 1000:
    sys.exit(f"{sys.argv[1]}: need a 2-D array of more than 1000 rows, got shape {x.shape}")
np.save(f"{sys.argv[2]}/vectors.npy", x[:-1000]); np.save(f"{sys.argv[2]}/queries.npy", x[-1000:])
PY
else
  data=${ANN_DATA:-$build/data-$n}
  [[ -s $data/vectors.npy ]] || "$build/bench/recommend/ann_bench" data --out "$data" --n "$n"
fi
rm -f "$data"/*.jsonl

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; threads=$threads M=$M ef_construction=$efc; $(date -u +%F)"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
"$build/bench/recommend/ann_bench" run --dir "$data" --threads "$threads" --M "$M" --efc "$efc" | tee "$data/shopml.jsonl"
"$python" bench/peers/ann_peer.py "$data" "$threads" "$M" "$efc" | tee "$data/peers.jsonl"
"$build/bench/recommend/ann_bench" summary --dir "$data" --chart "$build/ann.svg"
