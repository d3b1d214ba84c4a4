"""The item-item fit in one process against the same fit on Ray (shopml.distributed), one
thread per process throughout. Run by bench/distributed/ray_cf.sh, which sets up the venv.

usage: ray_cf.py INTERACTIONS [K] [MEASURE] [RUNS]
  INTERACTIONS: a safetensors CSR file (recommend/csr_file.hpp; what generate_interactions
  writes) or a CSV of user,item[,value] rows with a header line.
Prints per-configuration times and one closing line
  RESULT interactions=<n> identical=<0|1> overhead_1w=<x> speedup_2w=<x>
(overhead_1w = Ray with 1 worker ÷ one process; speedup_2w = one process ÷ Ray with 2
workers; times are medians over RUNS of the whole fit call on a started cluster).
"""

import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import scipy.sparse

import shopml
from shopml import distributed


def load(path):
    if path.endswith(".safetensors"):
        raw = open(path, "rb").read()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + n])
        header.pop("__metadata__", None)
        dtypes = {"I64": np.int64, "I32": np.int32, "F64": np.float64, "F32": np.float32}
        t = {k: np.frombuffer(raw, dtypes[v["dtype"]], count=int(np.prod(v["shape"])), offset=8 + n + v["data_offsets"][0]) for k, v in header.items()}
        return scipy.sparse.csr_matrix((t["data"], t["indices"], t["indptr"]), shape=tuple(int(s) for s in t["shape"]))
    rows = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    users, user_index = np.unique(rows[:, 0], return_inverse=True)
    items, item_index = np.unique(rows[:, 1], return_inverse=True)
    values = rows[:, 2].astype(np.float64) if rows.shape[1] > 2 else np.ones(len(rows))
    m = scipy.sparse.csr_matrix((values, (user_index, item_index)), shape=(len(users), len(items)))
    m.sum_duplicates()
    return m


def median_time(fit, runs):
    times, model = [], None
    for _ in range(runs):
        start = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times), model


def same(a, b):
    x, y = a.similarity, b.similarity
    return np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices) and np.array_equal(x.data.view(np.uint64), y.data.view(np.uint64))


def main():
    path = sys.argv[1]
    K = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    measure = sys.argv[3] if len(sys.argv) > 3 else "cosine"
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    user_items = load(path)
    print(f"interactions: {user_items.nnz} ({user_items.shape[0]} users × {user_items.shape[1]} items), K={K}, measure={measure}, runs={runs}", flush=True)
    make = lambda: shopml.ItemItemRecommender(K=K, measure=measure, threads=1)

    single_s, single = median_time(lambda: make().fit(user_items), runs)
    print(f"one process, 1 thread: {single_s:.2f} s", flush=True)
    identical, ray_s = True, {}
    for workers in (1, 2):
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=True, runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
        distributed.fit_item_item(make(), user_items[:1000])  # workers started before timing
        ray_s[workers], spread = median_time(lambda: distributed.fit_item_item(make(), user_items), runs)
        ray.shutdown()
        identical &= same(spread, single)
        print(f"Ray, {workers} worker(s): {ray_s[workers]:.2f} s, identical={int(same(spread, single))}", flush=True)
    print(f"RESULT interactions={user_items.nnz} identical={int(identical)} overhead_1w={ray_s[1] / single_s:.2f} speedup_2w={single_s / ray_s[2]:.2f}")
    return 0 if identical else 1


if __name__ == "__main__":
    import ray

    sys.exit(main())
