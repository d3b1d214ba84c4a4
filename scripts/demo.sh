#!/usr/bin/env bash
# The main job, from a fresh clone: installs dependencies, fetches all-MiniLM-L6-v2, builds
# the examples (release) and runs the product end to end on the shared real data:
#   1. texts -> HF-exact tokenizer -> BERT encoder: nearest product titles;
#   2. embeddings -> logistic-regression head: review sentiment, report, save + reload;
#   3. cold start: similar products from review text alone;
#   4. interactions -> item-item CF: similar movies, recommendations, offline evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/fetch-model.sh
cmake --preset release -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_BENCHMARKS=OFF >/dev/null
steps=(similar_titles review_sentiment similar_products movielens_recommend)
cmake --build --preset release -j "$(nproc)" --target "${steps[@]}"

for step in "${steps[@]}"; do
  printf '\n======== %s ========\n' "$step"
  "build/release/examples/$step"
done
