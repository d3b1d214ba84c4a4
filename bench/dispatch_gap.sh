#!/usr/bin/env bash
# What run-time ISA dispatch by default is worth to a consumer (issue 15, item 1): shopml
# installed, then bench/dispatch_gap/ built against it exactly as the README says
# (find_package, link shopml::shopml: dispatch) and once more with SHOPML_CPU_DISPATCH=OFF
# (kernels for the compiler's default x86-64 baseline, what consumers got before), both
# Release. Each encodes the same N reviews of the shared Chinese shopping reviews with
# all-MiniLM-L6-v2; rounds run the two builds one after the other, RUNS rounds, medians.
# Ends with one RESULT line (speedup = baseline seconds / dispatch seconds).
# Usage: bench/dispatch_gap.sh   (BUILD_DIR=build/dispatch-gap, N=500, RUNS=3, THREADS=1,
#        JOBS=2, MODEL_DIR=~/.cache/shopml/models/all-MiniLM-L6-v2, DATA_DIR=../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath -m "${BUILD_DIR:-build/dispatch-gap}")
texts=${N:-500}
runs=${RUNS:-3}
threads=${THREADS:-1}
jobs=${JOBS:-2}
model=${MODEL_DIR:-$HOME/.cache/shopml/models/all-MiniLM-L6-v2}
reviews=${DATA_DIR:-../shared/data}/reviews-zh/online_shopping_10_cats.csv
[[ -f $model/tokenizer.json ]] || { echo "no model at $model: run scripts/fetch-model.sh"; exit 1; }
[[ -f $reviews ]] || { echo "no reviews at $reviews (see ../shared/data/README.md)"; exit 1; }
mkdir -p "$build"

configure() { cmake -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >"$build/configure.log" || { cat "$build/configure.log"; exit 1; }; }
configure -S . -B "$build/shopml" -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_BENCHMARKS=OFF -DSHOPML_BUILD_EXAMPLES=OFF
cmake --install "$build/shopml" --prefix "$build/prefix" >"$build/install.log"
configure -S bench/dispatch_gap -B "$build/dispatch" -DCMAKE_PREFIX_PATH="$build/prefix"
configure -S bench/dispatch_gap -B "$build/baseline" -DCMAKE_PREFIX_PATH="$build/prefix" -DSHOPML_CPU_DISPATCH=OFF
for variant in dispatch baseline; do cmake --build "$build/$variant" -j "$jobs"; done

# One run of a build: its "texts=... seconds=... isa=..." line.
encode() { "$build/$1/encode_reviews" "$model" "$reviews" review "$texts" "$threads"; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

declare -A seconds isa
for ((round = 1; round <= runs; ++round)); do
  for variant in dispatch baseline; do
    line=$(encode "$variant")
    echo "round $round $variant: $line (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    seconds[$variant]+="$(field seconds "$line") "
    isa[$variant]=$(field isa "$line")
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
dispatch_s=$(median "${seconds[dispatch]}")
baseline_s=$(median "${seconds[baseline]}")
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet -- include cmake bench/dispatch_gap || echo ' + uncommitted changes')"
echo "RESULT texts=$texts threads=$threads dispatch_isa=${isa[dispatch]} baseline_isa=${isa[baseline]}" \
  "dispatch_s=$dispatch_s baseline_s=$baseline_s speedup=$(awk -v b="$baseline_s" -v d="$dispatch_s" 'BEGIN { printf "%.2f", b / d }')"
