#!/usr/bin/env bash
# shopml's sentence encoder against ONNX Runtime and PyTorch (sentence-transformers) on the
# same texts: all-MiniLM-L6-v2, 1 and 2 threads, batch 1 and 32, median of several runs; and
# at batch 32 shopml at precision bf16 (dense layers in bfloat16) and int8 (dynamic
# quantisation) beside ONNX Runtime with quantize_dynamic's INT8 graph.
# Checks shopml's embeddings against sentence-transformers' and ends with one line
#   RESULT texts=<n> min_cosine=<x> vs_onnxruntime_1t=<x> vs_onnxruntime_2t=<x> vs_torch_2t=<x> peak_rss_mb=<x>
#          bf16_min_cosine=<x> bf16_vs_onnxruntime_fp32_1t=<x> bf16_vs_onnxruntime_fp32_2t=<x>
#          bf16_vs_shopml_fp32_1t=<x> bf16_vs_shopml_fp32_2t=<x> int8_vs_shopml_fp32_1t=<x> int8_min_cosine=<x> int8_vs_onnxruntime_int8_1t=<x>
#          int8_vs_onnxruntime_int8_2t=<x> isa=<isa> int8_isa=<isa>
# where vs_* = shopml texts/s ÷ peer texts/s at batch 32 (medians over RUNS interleaved rounds),
# and isa is the instruction set the kernels ran (amx_bf16 when the bf16 layers ran on AMX
# tiles; int8_isa: the int8 GEMM's road, amx_int8 or avx2_int8).
#
# usage: bench/peers/encoder.sh [FILE]   (FILE: one text per line; default: the shared
#        English review sentences, every other line, plus every 20th Chinese food-delivery
#        review: about 2,000 texts)
# env:   RUNS (default 3), THREADS (default "1 2"; "1" alone where other work shares the
#        machine: two threads that wait on each other at every barrier slow down by up to 100×
#        there, torch most; the 2t figures then read n/a), CLOCK (wall, the default, or cpu: the
#        process's CPU seconds per pass, which at THREADS=1 barely change with the load others
#        put on the machine; at 2 threads spinning workers count too, so it is only for 1),
#        SHOPML_PEER_PYTHON (default: a venv of this script's own, ENCODER_VENV,
#        default build/peers-encoder/venv, made on first use with the versions pinned in
#        scripts/golden/requirements.txt: torch, transformers, sentence-transformers, tokenizers,
#        safetensors, numpy, onnx, onnxruntime)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
runs=${RUNS:-3}
clock=${CLOCK:-wall}
[[ $clock == wall || $clock == cpu ]] || { echo "encoder.sh: CLOCK must be wall or cpu, not $clock" >&2; exit 1; }
thread_counts=${THREADS:-1 2}
last_threads=${thread_counts##* }
build=build/peers-encoder
work=$build/run
mkdir -p "$work"

bash scripts/fetch-model.sh >/dev/null
model=${SHOPML_MODEL_DIR:-$HOME/.cache/shopml/models/all-MiniLM-L6-v2}
if [[ -n ${SHOPML_PEER_PYTHON:-} ]]; then
  py=$SHOPML_PEER_PYTHON
else
  source bench/peers/peer_venv.sh
  py=$(peer_python "${ENCODER_VENV:-$build/venv}" torch transformers sentence-transformers tokenizers safetensors numpy \
    onnx onnxruntime) || { echo "encoder.sh: no python with the peers (see above)" >&2; exit 1; }
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target encoder_throughput -j "$(nproc)" >/dev/null

texts=$work/texts.txt
if [[ $# -ge 1 ]]; then
  cp "$1" "$texts"
else
  "$py" - "$root/../shared/data" "$texts" <<'PY'
import csv, sys
data, out = sys.argv[1], sys.argv[2]
texts = []
for name in ["amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"]:
    with open(f"{data}/reviews-en/{name}", encoding="utf-8", newline="\n") as f:
        texts += [line.rsplit("\t", 1)[0] for line in f.read().split("\n") if "\t" in line][::2]
with open(f"{data}/reviews-zh/waimai_10k.csv", encoding="utf-8", newline="") as f:
    texts += [row["review"] for row in csv.DictReader(f)][::20]
with open(out, "w", encoding="utf-8") as f:
    f.writelines(" ".join(t.split()) + "\n" for t in texts)
PY
fi
echo "texts: $(wc -l <"$texts") lines from ${1:-the shared reviews}; model $model; $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%F)"

[[ -f $build/minilm.onnx ]] || "$py" bench/peers/export_onnx.py "$model" "$build/minilm.onnx" >/dev/null

# RUNS rounds, each timing every configuration once, shopml's then the peers': on a machine
# shared with other work the load drifts over minutes, and interleaving spreads it over all
# engines instead of charging it to whichever ran then (the median per configuration is taken
# over the rounds).
results=$work/results.jsonl
: >"$results"
for round in $(seq "$runs"); do
  echo "round $round of $runs"
  for threads in $thread_counts; do
    for batch in 1 32; do
      out=/dev/null
      [[ $threads == "$last_threads" && $batch == 32 ]] && out=$work/shopml.f32
      "$build/bench/nn/encoder_throughput" --model "$model" --texts "$texts" --threads "$threads" --batch "$batch" \
        --runs 1 --out "$out" | tee -a "$results"
    done
    for precision in bf16 int8; do
      out=/dev/null
      [[ $threads == "$last_threads" ]] && out=$work/shopml_$precision.f32
      "$build/bench/nn/encoder_throughput" --model "$model" --texts "$texts" --threads "$threads" --batch 32 \
        --runs 1 --out "$out" --precision "$precision" | tee -a "$results"
    done
  done
  # shellcheck disable=SC2086
  "$py" bench/peers/encoder_peers.py "$model" "$build/minilm.onnx" "$texts" "$work" --runs 1 --threads $thread_counts |
    tee -a "$results"
done

"$py" - "$results" "$work" "$clock" <<'PY'
import json, sys
import numpy as np
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
runs_key = "cpu_runs" if sys.argv[3] == "cpu" else "runs"
seconds = {}  # every round's seconds per configuration
for r in rows:
    key = (r["engine"] + ("_" + r["precision"] if r.get("precision", "fp32") != "fp32" else ""), r["threads"], r["batch"])
    seconds.setdefault(key, []).extend(r[runs_key])
n = rows[0]["texts"]
rate = {key: n / float(np.median(s)) for key, s in seconds.items()}
def ratio(a, b):  # "n/a" for a thread count not run (THREADS)
    return f"{rate[a] / rate[b]:.2f}" if a in rate and b in rate else "n/a"
isa = next(r["isa"] for r in rows if r.get("precision") == "bf16")
int8_isa = next(r["isa"] for r in rows if r.get("precision") == "int8")
work = sys.argv[2]
ref = np.fromfile(f"{work}/torch.f32", dtype="<f4").reshape(-1, 384)
def min_cos(name):
    e = np.fromfile(f"{work}/{name}.f32", dtype="<f4").reshape(-1, 384)
    return float(((e * ref).sum(1) / (np.linalg.norm(e, axis=1) * np.linalg.norm(ref, axis=1))).min()), \
           float(np.abs(e - ref).max())
print(f"\nengine           threads batch  texts/s  ({sys.argv[3]} seconds of each round)")
for (engine, t, b), v in sorted(rate.items()):
    print(f"{engine:16} {t:7} {b:5} {v:8.1f}  {seconds[(engine, t, b)]}")
cos, diff = min_cos("shopml")
bf16_cos, bf16_diff = min_cos("shopml_bf16")
int8_cos, int8_diff = min_cos("shopml_int8")
ort_int8_cos, _ = min_cos("onnxruntime_int8")
ort_cos, _ = min_cos("onnxruntime")
print(f"shopml vs sentence-transformers: min cosine {cos:.9f}, max abs diff {diff:.3g}; onnxruntime's min cosine {ort_cos:.9f}")
print(f"shopml bf16 vs sentence-transformers (fp32): min cosine {bf16_cos:.9f}, max abs diff {bf16_diff:.3g}; kernels: {isa}")
print(f"shopml int8 vs sentence-transformers (fp32): min cosine {int8_cos:.9f}, max abs diff {int8_diff:.3g}; kernels: "
      f"{int8_isa}; onnxruntime int8's min cosine {ort_int8_cos:.9f}")
for t in sorted({t for _, t, _ in rate}):
    print(f"{t} thread(s), batch 1: shopml/onnxruntime {ratio(('shopml', t, 1), ('onnxruntime', t, 1))}, "
          f"shopml/torch {ratio(('shopml', t, 1), ('torch', t, 1))}")
rss = max(r.get("peak_rss_mb", 0) for r in rows if r["engine"] == "shopml")
print(f"RESULT texts={n} min_cosine={cos:.6f} vs_onnxruntime_1t={ratio(('shopml', 1, 32), ('onnxruntime', 1, 32))} "
      f"vs_onnxruntime_2t={ratio(('shopml', 2, 32), ('onnxruntime', 2, 32))} "
      f"vs_torch_2t={ratio(('shopml', 2, 32), ('torch', 2, 32))} peak_rss_mb={rss:.0f} "
      f"bf16_min_cosine={bf16_cos:.6f} "
      f"bf16_vs_onnxruntime_fp32_1t={ratio(('shopml_bf16', 1, 32), ('onnxruntime', 1, 32))} "
      f"bf16_vs_onnxruntime_fp32_2t={ratio(('shopml_bf16', 2, 32), ('onnxruntime', 2, 32))} "
      f"bf16_vs_shopml_fp32_1t={ratio(('shopml_bf16', 1, 32), ('shopml', 1, 32))} "
      f"bf16_vs_shopml_fp32_2t={ratio(('shopml_bf16', 2, 32), ('shopml', 2, 32))} "
      f"int8_vs_shopml_fp32_1t={ratio(('shopml_int8', 1, 32), ('shopml', 1, 32))} "
      f"int8_min_cosine={int8_cos:.6f} "
      f"int8_vs_onnxruntime_int8_1t={ratio(('shopml_int8', 1, 32), ('onnxruntime_int8', 1, 32))} "
      f"int8_vs_onnxruntime_int8_2t={ratio(('shopml_int8', 2, 32), ('onnxruntime_int8', 2, 32))} "
      f"isa={isa} int8_isa={int8_isa} clock={sys.argv[3]}")
PY
