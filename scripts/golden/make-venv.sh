#!/usr/bin/env bash
# Creates .venv-golden with the pinned reference packages and prints its python.
# Golden files are regenerated with: "$(scripts/golden/make-venv.sh)" scripts/golden/<component>.py
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${SHOPML_GOLDEN_VENV:-.venv-golden}
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --upgrade pip >&2
  "$venv/bin/pip" install -q -r scripts/golden/requirements.txt >&2
fi
echo "$PWD/$venv/bin/python"
