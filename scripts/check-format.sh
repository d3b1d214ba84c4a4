#!/usr/bin/env bash
# Checks that every tracked C++ and CUDA file is formatted as .clang-format says (clang-format,
# from scripts/install-deps.sh); prints the files that are not and fails. `--fix` reformats them
# in place instead. Generated files (their first lines say GENERATED) are left as written.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v clang-format >/dev/null || { echo "check-format: clang-format not found (scripts/install-deps.sh installs it)"; exit 1; }
files=()
while IFS= read -r f; do
  head -n 3 "$f" | grep -q GENERATED || files+=("$f")
done < <(git ls-files '*.hpp' '*.cpp' '*.h' '*.cu' '*.cuh')

if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  printf 'not formatted as .clang-format says (scripts/check-format.sh --fix):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted as .clang-format says ($(clang-format --version | grep -o 'version [0-9.]*'))"
