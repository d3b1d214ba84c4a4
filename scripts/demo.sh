#!/usr/bin/env bash
# The main job, from a fresh clone: installs dependencies, fetches all-MiniLM-L6-v2, builds
# the examples (release) and runs the product end to end on the shared real data:
#   1. texts -> HF-exact tokenizer -> BERT encoder: nearest product titles;
#   2. embeddings -> logistic-regression head: review sentiment, report, save + reload;
#   3. cold start: similar products from review text alone;
#   4. interactions -> item-item CF: similar movies, recommendations, offline evaluation;
#   5. fine-tuning: all-MiniLM-L6-v2 trained end to end on Chinese shopping reviews (a short
#      run, ~2-3 minutes on 2 cores), beside the frozen-embedding baseline; writes the
#      training curve as an SVG picture.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/fetch-model.sh
cmake --preset release -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_BENCHMARKS=OFF >/dev/null
steps=(similar_titles review_sentiment similar_products movielens_recommend)
cmake --build --preset release -j "$(nproc)" --target "${steps[@]}" finetune_reviews

for step in "${steps[@]}"; do
  printf '\n======== %s ========\n' "$step"
  "build/release/examples/$step"
done

printf '\n======== finetune_reviews (short run) ========\n'
curve="$PWD/build/release/finetune_reviews.svg"
build/release/examples/finetune_reviews --rows 2000 --epochs 2 --max-length 64 --lr 1e-4 --add-cjk --svg "$curve"
echo "the training curve is in $curve (open it in a browser)"
