#!/usr/bin/env bash
# Builds every fuzz/<name>.cpp with clang++ -fsanitize=fuzzer,address,undefined and
# runs each for SHOPML_FUZZ_SECONDS (default 60) seconds, starting from its seed corpus
# fuzz/corpus/<name>/ (and fuzz/<name>.dict when present). Fails if any target crashes,
# leaks, hits UB, times out on one input or runs out of memory; the input that did it
# is left in build/fuzz/artifacts/<name>/ and can be replayed with
#   build/fuzz/<name> build/fuzz/artifacts/<name>/crash-...
#
# Usage: scripts/fuzz.sh [name...]      (default: every fuzz/*.cpp)
# Environment: SHOPML_FUZZ_SECONDS, SHOPML_FUZZ_CXX (default clang++), SHOPML_FUZZ_BUILD
# (default build/fuzz). New inputs found go to build/fuzz/corpus/<name>/, never into
# the committed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${SHOPML_FUZZ_SECONDS:-60}
build=${SHOPML_FUZZ_BUILD:-build/fuzz}
cxx=${SHOPML_FUZZ_CXX:-clang++}

if (($#)); then
  names=("$@")
else
  names=()
  for source in fuzz/*.cpp; do
    [[ -e $source ]] && names+=("$(basename "$source" .cpp)")
  done
fi
if ((${#names[@]} == 0)); then
  echo "fuzz: no fuzz/*.cpp targets"
  exit 0
fi

cmake -S fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" >/dev/null

# Every target at once on all cores (-k 0: a target that does not compile fails alone,
# the others are still built and run).
cmake --build "$build" -j "$(nproc)" -k 0 --target "${names[@]}" || true
failed=()
for name in "${names[@]}"; do
  if ! cmake --build "$build" --target "$name" >"$build/$name.build.log" 2>&1; then
    cat "$build/$name.build.log"
    failed+=("$name(build)")
    continue
  fi
  seeds=fuzz/corpus/$name
  work=$build/corpus/$name
  artifacts=$build/artifacts/$name/
  rm -rf "$artifacts"  # reproducers listed below are from this run only
  mkdir -p "$work" "$artifacts"
  args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts" "$work")
  if [[ -d $seeds ]]; then args+=("$seeds"); else echo "fuzz: $name has no seed corpus ($seeds)"; fi
  [[ -f fuzz/$name.dict ]] && args=(-dict="fuzz/$name.dict" "${args[@]}")
  echo "== fuzz $name for ${seconds}s"
  if ! "$build/$name" "${args[@]}" >"$build/$name.log" 2>&1; then
    failed+=("$name")
    tail -n 60 "$build/$name.log"
    echo "fuzz: $name FAILED; reproducer(s): $(ls "$artifacts")"
  else
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|Done [0-9]+ runs" "$build/$name.log" || true
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: failures in: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#names[@]} target(s) ran ${seconds}s each without a failure"
