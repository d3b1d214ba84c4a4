#!/usr/bin/env bash
# shopml's item-item fit at catalogue scale: a seeded power-law log of 10^6 items × 10^7 users
# × 10^8 interactions (bench/recommend/power_law_interactions.hpp), fitted with cosine and
# BM25 (K=50) on the sparse road; and, at 10^5 items where implicit still finishes quickly,
# the speed ratio to implicit 0.7.3 with the same threads.
#
# usage: bench/peers/cf_scale.sh
# env: THREADS (default: nproc), RUNS (default 3: alternated implicit / shopml fits at 10^5
#      items, medians), ITEMS USERS INTERACTIONS (default 1000000 10000000 100000000),
#      SMALL_ITEMS SMALL_USERS SMALL_INTERACTIONS (default 100000 1000000 10000000),
#      EXPONENT USER_EXPONENT SEED (1.0 0.5 42), MAX_HISTORY (0: no cap on a user's
#      history; see similarity_options::max_history), CF_VENV (the peers' venv, default
#      build/peers-cf/venv, made on first use with the pins of scripts/golden/requirements.txt),
#      OMP_WAIT_POLICY (default passive: the machine is shared).
#
# Needs ~1 GB of disk for the large file (in a temporary directory) and ~5 GB of memory.
# Ends with exactly one line:
#   RESULT items=<n> users=<n> interactions=<n> fit_s=<x> peak_rss_gb=<x> vs_implicit_1e5=<x>
# fit_s: the slower of the cosine and BM25 fits of the large log; peak_rss_gb: the fitting
# process's peak resident memory (loading, both fits); vs_implicit_1e5: implicit's fit time ÷
# shopml's (cosine + BM25, medians) on the small log, whose neighbour sets are also compared.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/peers/peer_venv.sh
build=build/peers-cf
threads=${THREADS:-$(nproc)}
runs=${RUNS:-3}
exponent=${EXPONENT:-1.0}
user_exponent=${USER_EXPONENT:-0.5}
seed=${SEED:-42}
max_history=${MAX_HISTORY:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python=$(peer_python "${CF_VENV:-$build/venv}" implicit numpy scipy pandas safetensors) || exit 1
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHOPML_BUILD_TESTS=OFF -DSHOPML_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target generate_interactions cf_scale_bench -j "$(nproc)" >/dev/null

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; threads=$threads runs=$runs; $(date -u +%F)"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export OPENBLAS_NUM_THREADS=1
generate() {  # OUT USERS ITEMS INTERACTIONS
  "$build/bench/recommend/generate_interactions" "$1" "$2" "$3" "$4" "$exponent" "$user_exponent" "$seed" "$threads"
}

# 10^5 items: implicit and shopml alternately, one fit of each model per round.
small=$work/small.safetensors
generate "$small" "${SMALL_USERS:-1000000}" "${SMALL_ITEMS:-100000}" "${SMALL_INTERACTIONS:-10000000}"
for ((r = 1; r <= runs; r++)); do
  "$python" bench/peers/cf_peer.py "$small" "$work" "$threads" 1 FIT_ONLY 2> >(grep -v -e ParameterWarning -e 'warnings.warn' >&2) \
    | tee -a "$work/implicit_small.txt"
  "$build/bench/recommend/cf_scale_bench" "$small" "$threads" 1 "$max_history" "$work" | tee -a "$work/shopml_small.txt"
done
rm -f "$small"

# The large log: one fit of each model.
large=$work/large.safetensors
generate "$large" "${USERS:-10000000}" "${ITEMS:-1000000}" "${INTERACTIONS:-100000000}" | tee "$work/generated.txt"
"$build/bench/recommend/cf_scale_bench" "$large" "$threads" 1 "$max_history" | tee "$work/shopml_large.txt"

"$python" - "$work" <<'PY'
import pathlib, re, statistics, sys
work = pathlib.Path(sys.argv[1])
def values(name, key):
    return [float(v) for v in re.findall(rf"\b{key}=([^\s]+)", (work / name).read_text())]
med = lambda name, key: statistics.median(values(name, key))
implicit = med("implicit_small.txt", "fit_cosine") + med("implicit_small.txt", "fit_bm25")
shopml = med("shopml_small.txt", "fit_cosine") + med("shopml_small.txt", "fit_bm25")
mismatches = values("shopml_small.txt", "neighbour_mismatches")[-1]
print(f"small log: implicit {implicit:.3f} s, shopml {shopml:.3f} s (cosine + BM25 fits, medians); "
      f"neighbour_mismatches={int(mismatches)}; implicit peak_rss_mb={max(values('implicit_small.txt', 'peak_rss_mb')):.0f}, "
      f"shopml peak_rss_mb={max(values('shopml_small.txt', 'peak_rss_mb')):.0f}")
large = (work / "shopml_large.txt").read_text()
size = dict(re.findall(r"\b(users|items|interactions)=(\d+)", large.splitlines()[0]))
fit = max(values("shopml_large.txt", "fit_cosine")[0], values("shopml_large.txt", "fit_bm25")[0])
peak = values("shopml_large.txt", "peak_rss_mb")[0] / 1024
print(f"RESULT items={size['items']} users={size['users']} interactions={size['interactions']} fit_s={fit:.1f} "
      f"peak_rss_gb={peak:.2f} vs_implicit_1e5={implicit / shopml:.2f}")
PY
