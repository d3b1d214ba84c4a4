#!/usr/bin/env bash
# Logistic regression: shopml vs scikit-learn LogisticRegression(solver="lbfgs"), fitted
# side by side on the same float32 matrix, rows, C, tol, max_iter and thread count.
#
#   bench/peers/logreg.sh [FEATURES.npy LABELS.txt]
#
# Default matrix: all-MiniLM-L6-v2 embeddings of the 62,774 online_shopping_10_cats
# reviews (sentiment labels), computed once by bench/peers/logreg_embed.py with
# sentence-transformers and cached in ~/.cache/shopml/embeddings (slow on a small CPU).
# Knobs (environment): THREADS (default: nproc), REPEATS (5), C (1.0), MAX_ITER (1000), TOL (1e-4).
# Ends with: RESULT rows=<n> accuracy=<x> sklearn_accuracy=<x> coef_rel_diff=<x> speedup_fit=<x>
set -euo pipefail
cd "$(dirname "$0")/../.."
python=$("scripts/golden/make-venv.sh")
cache=${SHOPML_EMBED_CACHE:-$HOME/.cache/shopml/embeddings}
if [[ $# -ge 2 ]]; then
  features=$1 labels=$2
else
  "$python" bench/peers/logreg_embed.py shopping >&2
  features=$cache/shopping.minilm.npy labels=$cache/shopping.sentiment.txt
fi

build=build/peers-logreg
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=OFF \
  -DSHOPML_BUILD_EXAMPLES=OFF -DSHOPML_BUILD_BENCHMARKS=ON >&2
cmake --build "$build" --target logreg_peer -j "${BUILD_JOBS:-2}" >&2

threads=${THREADS:-$(nproc)}
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), threads=$threads, $(date -u +%F)" >&2
"$python" bench/peers/logreg_peer.py "$build/bench/linear_model/logreg_peer" "$features" "$labels" \
  "$threads" "${REPEATS:-5}" "${C:-1.0}" "${MAX_ITER:-1000}" "${TOL:-1e-4}"
