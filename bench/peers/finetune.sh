#!/usr/bin/env bash
# Fine-tuning all-MiniLM-L6-v2 (BertForSequenceClassification) with shopml against
# transformers + torch on the records of a CSV:
#   1. parity: scripts/golden/finetune.py --csv makes a golden of 160 of its records (10 steps of
#      AdamW with warm-up, decay and clipping, dropout off) and tests/train's parity test checks
#      shopml against it (SHOPML_FINETUNE_GOLDEN): step-0 loss and gradients, 10 steps' losses,
#      the parameters after them;
#   2. speed: training steps (batch 16, max_length 128, dropout on, forward + backward + clipping +
#      AdamW) of shopml and PyTorch on the same batches at 1 and 2 threads, PyTorch padding each
#      batch to its longest row as DataCollatorWithPadding does; median step time. Also a padded
#      16 x 128 shopml step against the machine's fp32 GEMM rate (kernels<cpu>::gemm on 2048^3 at
#      the same thread count);
#   3. fine-tunes shopml on an 80/20 stratified split for BUDGET_STEPS steps and reports the
#      accuracy on EVAL_ROWS held-out records beside frozen embeddings + logistic regression on the
#      same split (fitted on BASELINE_ROWS of the training records, scored on the same held-out ones);
#   4. save_pretrained, reloaded by transformers' AutoModelForSequenceClassification (no missing or
#      unexpected keys), logits compared; peak RSS of the shopml training process.
# With ADD_CJK=1 the fine-tuning of step 3 first adds to the tokenizer the single CJK characters of
# the shared bert-base-chinese vocabulary that MiniLM's lacks (add_tokens + resize_token_embeddings,
# HF's remedy for [UNK]), and step 4's reload uses the saved tokenizer with them.
# With POOLING=mean the classifier reads the mean of the tokens (sentence-transformers' pooling, the
# one all-MiniLM-L6-v2 was trained with) instead of BERT's pooler, on both sides (PyTorch:
# scripts/golden/finetune.py's MeanPoolingClassifier), and the save is reloaded by
# sentence-transformers (SentenceTransformer(dir).encode = the logits).
# Ends with one line:
#   RESULT rows=<n> classes=<k> step0_loss_abs_diff=<x> grad_max_rel_l2=<x> loss_max_abs_diff_10=<x>
#   param_max_rel=<x> zero_grad_tensors=<n> hf_reload_max_abs_diff=<x> speedup_step_1t=<x>
#   speedup_step_2t=<x> accuracy=<x> frozen_lr_accuracy=<x> peak_rss_mb=<x>
# (speedup = PyTorch s/step / shopml s/step). Exits non-zero after it when the parity test failed.
#
# usage: bench/peers/finetune.sh [CSV]
#   CSV: columns text,label or text_a,text_b,label (review,label also read as text,label).
#   Default: the shared Chinese shopping reviews, reviews-zh/online_shopping_10_cats.csv (review ->
#   text, label -> label: binary sentiment) under SHOPML_DATA_DIR, else ../shared/data beside this
#   checkout, else beside the repository it was cloned from.
# env: POOLING (pooler or mean; default pooler), ADD_CJK (0 or 1; default 0), THREADS (fine-tuning and baseline threads; default
#      nproc), BUDGET_STEPS (default 600),
#      LR (1e-4), MAX_LENGTH (128), TIME_BATCHES (10), REPEATS (2: passes over the timing batches),
#      EVAL_ROWS (5000; 0 = the whole 20 %), BASELINE_ROWS (10000; 0 = the whole 80 %),
#      RELOAD_ROWS (32), BUILD_JOBS (2), SHOPML_MODEL_DIR, OMP_WAIT_POLICY (default passive, for
#      both sides: on a shared, loaded machine OpenMP's spinning made shopml's 2-thread steps 3x
#      slower than 1 thread; set active on a quiet machine),
#      SHOPML_PEER_PYTHON (a python with the pinned packages; default: a venv of this script's own,
#      FINETUNE_VENV, default build/peers-finetune/venv, made on first use with the versions pinned
#      in scripts/golden/requirements.txt: torch, transformers, tokenizers, safetensors, numpy,
#      scikit-learn, scipy, sentence-transformers; a venv made with fewer gets the missing ones).
# Progress goes to stderr; the report and RESULT to stdout. About 20 minutes on 2 quiet cores with
# the defaults (after the first build and venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=build/peers-finetune
work=$build/run
threads=${THREADS:-$(nproc)}
budget=${BUDGET_STEPS:-600}
lr=${LR:-1e-4}
max_length=${MAX_LENGTH:-128}
time_batches=${TIME_BATCHES:-10}
repeats=${REPEATS:-2}
reload_rows=${RELOAD_ROWS:-32}
eval_rows=${EVAL_ROWS:-5000}
baseline_rows=${BASELINE_ROWS:-10000}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
say() { echo "[finetune.sh] $*" >&2; }
die() { echo "finetune.sh: $*" >&2; exit 1; }
start_all=$SECONDS
pooling=${POOLING:-pooler}
[[ $pooling == pooler || $pooling == mean ]] || die "POOLING is pooler or mean, not '$pooling'"
add_cjk=${ADD_CJK:-0}
[[ $add_cjk == 0 || $add_cjk == 1 ]] || die "ADD_CJK is 0 or 1, not '$add_cjk'"

# ---- the CSV
data=${SHOPML_DATA_DIR:-}
if [[ -z $data ]]; then
  data=$root/../shared/data
  origin=$(git config --get remote.origin.url || true)
  [[ ! -d $data && -n $origin && -d $origin/../shared/data ]] && data=$origin/../shared/data
fi
if [[ $# -ge 1 ]]; then
  csv=$1
else
  csv=$data/reviews-zh/online_shopping_10_cats.csv
fi
[[ -f $csv ]] || die "no CSV at '$csv' (give one as the argument, or set SHOPML_DATA_DIR to the shared data)"
csv=$(realpath "$csv")

# ---- Python with the pinned reference packages
if [[ -n ${SHOPML_PEER_PYTHON:-} ]]; then
  py=$SHOPML_PEER_PYTHON
else
  source bench/peers/peer_venv.sh
  py=$(peer_python "${FINETUNE_VENV:-$build/venv}" torch transformers tokenizers safetensors numpy scikit-learn scipy \
    sentence-transformers) || die "no python with the reference packages (see above)"
fi
"$py" - <<'PY' || die "$py lacks the reference packages (see above)"
import importlib, sys
pins = {l.split("==")[0]: l.strip().split("==")[1] for l in open("scripts/golden/requirements.txt")
        if "==" in l and l.split("==")[0] in ("torch", "transformers", "tokenizers", "safetensors", "numpy", "scikit-learn",
                                               "sentence-transformers")}
import torch, transformers, tokenizers, safetensors, numpy, sklearn, sentence_transformers
have = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__, "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__, "sentence-transformers": sentence_transformers.__version__}
off = {k: (have[k], v) for k, v in pins.items() if have[k] != v}
print("[finetune.sh] python:", sys.executable, " ".join(f"{k}=={v}" for k, v in have.items()), file=sys.stderr)
if off:
    print(f"[finetune.sh] WARNING: versions other than scripts/golden/requirements.txt's (have, pinned): {off}", file=sys.stderr)
PY

# ---- model and build
bash scripts/fetch-model.sh >&2 || die "scripts/fetch-model.sh could not fetch all-MiniLM-L6-v2"
export SHOPML_MODEL_DIR=${SHOPML_MODEL_DIR:-$HOME/.cache/shopml/models/all-MiniLM-L6-v2}
say "building test_train and finetune_peer in $build (Release, -j ${BUILD_JOBS:-2}) ..."
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=ON -DSHOPML_BUILD_BENCHMARKS=ON \
  -DSHOPML_BUILD_EXAMPLES=OFF -DSHOPML_MODEL_DIR="$SHOPML_MODEL_DIR" >&2 || die "cmake configure failed"
cmake --build "$build" --target test_train finetune_peer -j "${BUILD_JOBS:-2}" >&2 || die "the build failed"
peer=$build/bench/train/finetune_peer
test_bin=$build/tests/train/test_train

load() { cut -d' ' -f1-3 /proc/loadavg; }
flags=$(grep -m1 -o -w -E 'avx512f|avx512bw|avx512_bf16|avx512_vnni|avx2|fma|amx_tile|amx_bf16|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ' || true)
machine="$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs [${flags% }], threads=$threads"
commit=$(git rev-parse --short HEAD || echo unknown)
say "machine: $machine; $(date -u '+%F %H:%M UTC'); commit $commit; load average $(load); pooling $pooling; add CJK $add_cjk"

# ---- records, split, timing batches
rm -rf "$work"
mkdir -p "$work"
"$py" bench/peers/finetune_peer.py prepare "$csv" "$work" --time-batches "$time_batches" --eval-rows "$eval_rows" \
  --baseline-rows "$baseline_rows" >"$work/prepare.json" ||
  die "could not read '$csv' (see above)"
read -r rows text text_b label < <("$py" -c '
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
cols = m["text_columns"]
print(m["rows"], cols[0], cols[1] if len(cols) > 1 else "-", m["label_column"])' "$work/meta.json" || die "cannot read $work/meta.json")
common=(--csv "$csv" --text "$text" --label "$label" --classes "$work/classes.txt" --rows "$rows"
        --model "$SHOPML_MODEL_DIR" --max-length "$max_length" --pooling "$pooling")
[[ $text_b != - ]] && common+=(--text-b "$text_b")
say "$(cat "$work/prepare.json")"

# ---- 1. parity on the CSV's records
t0=$SECONDS
say "parity: golden of 160 records by transformers + torch (scripts/golden/finetune.py --csv) ..."
"$py" scripts/golden/finetune.py --csv "$csv" --out "$work/golden" --pooling "$pooling" >&2 || die "scripts/golden/finetune.py --csv failed"
golden=$(ls "$work"/golden/*.safetensors)
say "parity: shopml against it (tests/train, SHOPML_FINETUNE_GOLDEN=$golden) ..."
parity_ok=1
SHOPML_FINETUNE_GOLDEN=$golden "$test_bin" -tc='*SHOPML_FINETUNE_GOLDEN*' --no-skip >"$work/parity.log" 2>&1 || parity_ok=0
cat "$work/parity.log" >&2
((parity_ok)) || say "PARITY FAILED: the test's checks did not all pass (see above); the figures follow anyway"
say "parity took $((SECONDS - t0)) s"

# ---- 2. training steps, shopml and PyTorch, same batches, 1 and 2 threads
t0=$SECONDS
: >"$work/timing.jsonl"
for t in 1 2; do
  say "timing at $t thread(s): shopml (load average $(load)) ..."
  OMP_NUM_THREADS=$t "$peer" time "${common[@]}" --threads "$t" --batches "$work/time.idx" --repeats "$repeats" \
    >>"$work/timing.jsonl" || die "finetune_peer time failed"
  say "timing at $t thread(s): PyTorch (load average $(load)) ..."
  OMP_NUM_THREADS=$t "$py" bench/peers/finetune_peer.py torch-time "$work" "$t" "$repeats" "$max_length" "$pooling" \
    >>"$work/timing.jsonl" || die "the PyTorch timing failed"
done
say "timing took $((SECONDS - t0)) s"

# ---- 3. fine-tuning for the budget, held-out accuracy; 4. HF reload
t0=$SECONDS
added=()
if ((add_cjk)); then
  vocab=$data/vocab/bert-base-chinese-vocab.txt
  [[ -f $vocab ]] || die "ADD_CJK=1 needs the shared bert-base-chinese vocabulary at '$vocab' (set SHOPML_DATA_DIR)"
  # one-character lines in CJK Unified Ideographs and Extension A, as examples/finetune_reviews.cpp's --add-cjk
  "$py" -c '
import sys
for line in open(sys.argv[1], encoding="utf-8"):
    t = line.rstrip("\r\n")
    if len(t) == 1 and (0x4E00 <= ord(t) <= 0x9FFF or 0x3400 <= ord(t) <= 0x4DBF):
        print(t)' "$vocab" >"$work/cjk_tokens.txt" || die "could not read '$vocab'"
  added=(--add-tokens "$work/cjk_tokens.txt")
fi
say "fine-tuning shopml: $budget steps of 16, lr $lr, $threads thread(s) (load average $(load)) ..."
OMP_NUM_THREADS=$threads "$peer" train "${common[@]}" --threads "$threads" --train "$work/train.idx" --test "$work/eval.idx" \
  --steps "$budget" --lr "$lr" --save "$work/saved" --logits-out "$work/logits.f32" --logits-rows "$reload_rows" "${added[@]}" \
  >"$work/train.jsonl" || die "finetune_peer train failed"
say "fine-tuning and evaluation took $((SECONDS - t0)) s"
"$py" bench/peers/finetune_peer.py reload "$work" "$work/saved" "$work/logits.f32" "$reload_rows" "$max_length" \
  >"$work/reload.jsonl" || die "transformers (sentence-transformers with POOLING=mean) could not reload shopml's save_pretrained (see above)"

t0=$SECONDS
say "frozen embeddings + logistic regression on the same split (load average $(load)) ..."
OMP_NUM_THREADS=$threads "$peer" baseline "${common[@]}" --threads "$threads" --train "$work/baseline.idx" --test "$work/eval.idx" \
  >"$work/baseline.jsonl" || die "finetune_peer baseline failed"
say "baseline took $((SECONDS - t0)) s"

echo "machine: $machine; $(date -u '+%F %H:%M UTC'); commit $commit; load average at the end $(load); whole run $((SECONDS - start_all)) s"
"$py" bench/peers/finetune_peer.py summary "$work" || die "could not summarise $work"
((parity_ok)) || die "the parity test failed (see $work/parity.log)"
