#!/usr/bin/env python3
"""Compares two Google Benchmark JSON files (e.g. before/after a change, or two
machines): one row per benchmark present in both, with each time and the
speed-up B over A (time A / time B, > 1: B is faster), and the same ratio for
every rate counter (GFLOP/s, bytes/s, items/s) the benchmarks report.

usage: bench/compare.py A.json B.json [--png out.png]

Produce the inputs with the usual flags, e.g.
  build/dev/bench/kernels/bench_kernels --benchmark_out=A.json --benchmark_out_format=json
--png draws the speed-ups as a bar chart; it needs matplotlib, which the golden
venv has: "$(scripts/golden/make-venv.sh)" bench/compare.py A.json B.json --png out.png
"""
import argparse
import json
import math
import sys

TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
RUN_FIELDS = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
              "real_time", "cpu_time", "time_unit", "family_index", "per_family_instance_index",
              "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "label"}


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    runs = {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred"):
            continue
        # With repetitions, prefer the median aggregate; else the single run.
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        if name in runs and b.get("run_type") != "aggregate":
            continue
        runs[name] = b
    return doc.get("context", {}), runs


def seconds(b):
    return b["real_time"] * TIME_UNITS[b.get("time_unit", "ns")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--png", help="write a bar chart of the speed-ups to this file")
    args = parser.parse_args()

    ctx_a, a = load(args.a)
    ctx_b, b = load(args.b)
    common = [name for name in a if name in b]
    if not common:
        sys.exit(f"no benchmark names in common between {args.a} and {args.b}")
    for label, ctx in (("A", ctx_a), ("B", ctx_b)):
        extra = ", ".join(f"{k}={ctx[k]}" for k in sorted(ctx) if k.startswith("shopml_"))
        print(f"{label}: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs, {ctx.get('date', '?')}"
              + (f", {extra}" if extra else ""))

    width = max(len(n) for n in common)
    print(f"{'benchmark':<{width}} {'A time':>12} {'B time':>12} {'B/A speed':>10}  counters (B/A)")
    speedups = []
    for name in common:
        ta, tb = seconds(a[name]), seconds(b[name])
        speedup = ta / tb if tb > 0 else math.inf
        speedups.append(speedup)
        counters = []
        for key, va in a[name].items():
            vb = b[name].get(key)
            if key in RUN_FIELDS or not isinstance(va, (int, float)) or not isinstance(vb, (int, float)) or va == 0:
                continue
            counters.append(f"{key} {vb / va:.3f}")
        print(f"{name:<{width}} {ta * 1e6:10.2f}us {tb * 1e6:10.2f}us {speedup:10.3f}  {', '.join(counters)}")
    finite = [s for s in speedups if math.isfinite(s) and s > 0]
    if finite:
        geo = math.exp(sum(math.log(s) for s in finite) / len(finite))
        print(f"geometric mean speed-up B/A over {len(finite)} benchmarks: {geo:.3f}")

    if args.png:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            sys.exit("--png needs matplotlib: run with the golden venv, "
                     "\"$(scripts/golden/make-venv.sh)\" bench/compare.py ...")
        fig, ax = plt.subplots(figsize=(10, max(3.0, 0.25 * len(common) + 1)))
        ys = range(len(common))
        ax.barh(ys, speedups, color=["tab:green" if s >= 1 else "tab:red" for s in speedups])
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(list(ys))
        ax.set_yticklabels(common, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f"speed-up of B ({args.b}) over A ({args.a}): time A / time B")
        fig.tight_layout()
        fig.savefig(args.png, dpi=120)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
