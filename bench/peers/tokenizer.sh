#!/usr/bin/env bash
# Tokenizer: shopml vs HF tokenizers (Python Tokenizer.encode_batch), side by side on the
# same lines, same model, same thread counts (RAYON_NUM_THREADS for HF, --threads for shopml).
#
#   bench/peers/tokenizer.sh [--model bert-base-uncased|bert-base-chinese|gpt2|DIR] [FILE ...]
#
# --model DIR takes DIR/tokenizer.json (truncation and padding switched off on both sides).
# FILEs hold one text per line (split on '\n' only); default: the shared English and
# Chinese review files. Every line's ids must be equal. Knobs (environment): REPEATS (5).
# Ends with: RESULT lines=<n> mismatches=<n> speedup_1t=<x> speedup_2t=<x>
# (throughput ratio shopml/HF, median of REPEATS runs each, after one warm-up run).
set -euo pipefail
cd "$(dirname "$0")/../.."
model=bert-base-uncased
files=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
data=${SHOPML_DATA_DIR:-$PWD/../shared/data}
if [[ ${#files[@]} -eq 0 ]]; then
  files=("$data"/reviews-en/amazon_cells_labelled.txt "$data"/reviews-en/imdb_labelled.txt "$data"/reviews-en/yelp_labelled.txt
         "$data"/reviews-en/womens_clothing_reviews_sample.csv "$data"/reviews-zh/online_shopping_10_cats.csv "$data"/reviews-zh/waimai_10k.csv)
fi
python=$("scripts/golden/make-venv.sh")

build=build/peers-tokenizer
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=OFF \
  -DSHOPML_BUILD_EXAMPLES=OFF -DSHOPML_BUILD_BENCHMARKS=ON >&2
cmake --build "$build" --target tokenizer_peer -j "${BUILD_JOBS:-2}" >&2
peer=$build/bench/tokenize/tokenizer_peer
repeats=${REPEATS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) threads, $(date -u +%F), model $model" >&2

cat > "$work/hf.py" <<'PY'
import os, statistics, sys, time
sys.path.insert(0, "scripts/golden")
model, repeats, ids_out, *files = sys.argv[1:]
import tokenizer as golden  # scripts/golden/tokenizer.py: the reference configurations
from tokenizers import Tokenizer
lines = []
for f in files:
    part = open(f, "rb").read().decode("utf-8").split("\n")
    if part and part[-1] == "":
        part.pop()
    lines += part
makers = {"bert-base-uncased": golden.bert_uncased, "bert-base-chinese": golden.bert_chinese, "gpt2": golden.gpt2}
if model in makers:
    t = makers[model]()
else:
    t = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    t.no_truncation()
    t.no_padding()
out = t.encode_batch(lines)  # warm-up
times = []
for _ in range(int(repeats)):
    start = time.perf_counter()
    out = t.encode_batch(lines)
    times.append(time.perf_counter() - start)
if ids_out != "-":
    with open(ids_out, "w") as f:
        for e in out:
            f.write(" ".join(map(str, e.ids)) + "\n")
print(f"lines={len(lines)} bytes={sum(len(l.encode()) for l in lines)} median_s={statistics.median(times):.6f}")
PY

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
declare -A hf_s shopml_s
for threads in 1 2; do
  ids_hf=- ids_shopml=/dev/null
  if [[ $threads == 1 ]]; then ids_hf=$work/hf.ids ids_shopml=$work/shopml.ids; fi
  r=$(RAYON_NUM_THREADS=$threads TOKENIZERS_PARALLELISM=true "$python" "$work/hf.py" "$model" "$repeats" "$ids_hf" "${files[@]}")
  echo "hf      threads=$threads $r" >&2
  hf_s[$threads]=$(field median_s "$r")
  r=$("$peer" --model "$model" --threads "$threads" --repeats "$repeats" --ids-out "$ids_shopml" "${files[@]}")
  echo "shopml  $r" >&2
  shopml_s[$threads]=$(field median_s "$r")
  lines=$(field lines "$r")
done
mismatches=$("$python" - "$work/hf.ids" "$work/shopml.ids" <<'PY'
import sys
a = open(sys.argv[1]).read().split("\n")
b = open(sys.argv[2]).read().split("\n")
bad = [i for i in range(max(len(a), len(b))) if (a[i] if i < len(a) else None) != (b[i] if i < len(b) else None)]
for i in bad[:5]:
    print(f"line {i + 1}: hf [{a[i] if i < len(a) else ''}] shopml [{b[i] if i < len(b) else ''}]", file=sys.stderr)
print(len(bad))
PY
)
ratio() { "$python" -c "print(f'{$1 / $2:.2f}')"; }
echo "RESULT lines=$lines mismatches=$mismatches speedup_1t=$(ratio "${hf_s[1]}" "${shopml_s[1]}") speedup_2t=$(ratio "${hf_s[2]}" "${shopml_s[2]}")"
