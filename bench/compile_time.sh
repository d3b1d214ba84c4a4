#!/usr/bin/env bash
# What a consumer pays to compile shopml (issue 15, item 6), with the exact flags CMake gives
# the examples (the dev preset's RelWithDebInfo: -O2 -g, read from compile_commands.json):
#   o2_*     examples/quickstart.cpp compiled to an object with the component headers it
#            includes, and the same file with those lines replaced by <shopml/shopml.hpp>
#   parse_*  -fsyntax-only of a file that includes one header: the umbrella, or one component
# With BASE=<commit>, every figure is also taken with that commit's include/ (the same
# sources, flags and rounds), so a change to the headers is measured side by side.
# Times are the compiler's CPU seconds (user + sys: less inflated than wall time on a shared,
# loaded machine), median of RUNS rounds; each round compiles every variant once, so slow
# and quiet spells fall on all of them alike. Ends with one RESULT line.
# Usage: bench/compile_time.sh   (BUILD_DIR=build/compile-time, RUNS=3, BASE=<commit>)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$(realpath -m "${BUILD_DIR:-build/compile-time}")
runs=${RUNS:-3}
base=${BASE:-}
work=$build/compile-time
mkdir -p "$work"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_BENCHMARKS=OFF >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }

# quickstart.cpp's compile command, split into arguments, without its -o/-c/source.
mapfile -t flags < <(python3 - "$build/compile_commands.json" <<'PY'
import json, shlex, sys
entry = next(e for e in json.load(open(sys.argv[1])) if e["file"].endswith("examples/quickstart.cpp"))
args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
out, skip = [], False
for a in args:
    if skip: skip = False; continue
    if a in ("-o", "-c"): skip = True; continue
    out.append(a)
print("\n".join(out))
PY
)
compiler=${flags[0]}
flags=("${flags[@]:1}")
[[ " ${flags[*]} " == *" -I$root/include "* ]] || { echo "no -I$root/include in: ${flags[*]}"; exit 1; }

grep -q '#include <shopml/shopml.hpp>' examples/quickstart.cpp &&
  { echo "examples/quickstart.cpp includes the umbrella: the component variant would not be one"; exit 1; }
cp examples/quickstart.cpp "$work/quickstart_components.cpp"
# The umbrella variant: the first shopml include becomes the umbrella, the others go.
awk '/^#include <shopml\// { if (!done) print "#include <shopml/shopml.hpp>"; done = 1; next } { print }' \
  examples/quickstart.cpp >"$work/quickstart_umbrella.cpp"

# name=header for the parse-only files
parse_headers=(umbrella=shopml/shopml.hpp tokenizer=shopml/tokenize/tokenizer.hpp
  sentence_encoder=shopml/nn/sentence_encoder.hpp logistic_regression=shopml/linear_model/logistic_regression.hpp
  item_item=shopml/recommend/item_item.hpp evaluation=shopml/recommend/evaluation.hpp kfold=shopml/model_selection/kfold.hpp)
variants=(o2_umbrella o2_components)
for entry in "${parse_headers[@]}"; do
  printf '#include <%s>\n' "${entry#*=}" >"$work/parse_${entry%%=*}.cpp"
  variants+=("parse_${entry%%=*}")
done
trees=(here)
if [[ -n $base ]]; then
  rm -rf "$work/base" && mkdir -p "$work/base"
  git archive "$base" include | tar -x -C "$work/base"
  trees+=(base)
fi

# Prints the CPU seconds of one compile against a tree's include/ (here: this checkout's);
# a failing compile shows its errors and stops the script.
cpu_seconds() {
  local tree=$1 variant=$2 source=$work/${2#o2_}.cpp mode=(-c -o "$work/$1_$2.o") tree_flags=("${flags[@]}")
  [[ $variant == o2_* ]] && source=$work/quickstart_${variant#o2_}.cpp
  [[ $variant == parse_* ]] && mode=(-fsyntax-only)
  [[ $tree == base ]] && tree_flags=("${flags[@]/#-I$root\/include/-I$work/base/include}")
  local TIMEFORMAT='%U %S' times
  times=$( { time (cd "$build" && "$compiler" "${tree_flags[@]}" "${mode[@]}" "$source" 2>"$work/$1_$2.log") ; } 2>&1 ) ||
    { cat "$work/$1_$2.log" >&2; exit 1; }
  awk '{ printf "%.2f\n", $1 + $2 }' <<<"$times"
}

declare -A samples
for ((round = 1; round <= runs; ++round)); do
  for variant in "${variants[@]}"; do
    for tree in "${trees[@]}"; do
      samples[$tree.$variant]+="$(cpu_seconds "$tree" "$variant") "
    done
  done
  echo "round $round/$runs done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "compiler: $("$compiler" --version | head -1)"
echo "flags: ${flags[*]}"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet -- include examples || echo ' + uncommitted changes')${base:+, base: $(git rev-parse --short "$base")}"
result="RESULT"
for variant in "${variants[@]}"; do
  printf '%-28s median %6s s  (runs: %s)' "$variant" "$(median "${samples[here.$variant]}")" "${samples[here.$variant]% }"
  result+=" ${variant}_s=$(median "${samples[here.$variant]}")"
  if [[ -n $base ]]; then
    printf '   base median %6s s  (runs: %s)' "$(median "${samples[base.$variant]}")" "${samples[base.$variant]% }"
    result+=" ${variant}_base_s=$(median "${samples[base.$variant]}")"
  fi
  echo
done
echo "$result"
