"""implicit's side of bench/peers/cf.sh and cf_scale.sh: fits CosineRecommender and
BM25Recommender (K=50) on a `user,item,value` CSV or a safetensors CSR interaction file
(shopml's recommend/csr_file.hpp layout), recommends 10 items to every user (unless
FIT_ONLY is given), and writes the neighbour matrices (safetensors), median timings and
peak memory (JSON) to OUT_DIR.

usage: cf_peer.py INPUT OUT_DIR THREADS RUNS [FIT_ONLY]

Ids are mapped to indices in order of first appearance, as shopml's read_interactions does;
duplicated (user, item) pairs are summed and zero values dropped, as shopml does."""
import json
import pathlib
import resource
import statistics
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender
from safetensors.numpy import load_file, save_file

source, out_dir, threads, runs = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fit_only = len(sys.argv) > 5 and sys.argv[5] == "FIT_ONLY"
if source.endswith(".safetensors"):
    t = load_file(source)
    user_items = sp.csr_matrix((t["data"].astype(np.float64), t["indices"], t["indptr"]), shape=tuple(int(x) for x in t["shape"]))
    del t
else:
    frame = pd.read_csv(source, dtype={0: str, 1: str})
    users, _ = pd.factorize(frame.iloc[:, 0], sort=False)
    items, _ = pd.factorize(frame.iloc[:, 1], sort=False)
    values = frame.iloc[:, 2].to_numpy(dtype=np.float64) if frame.shape[1] > 2 else np.ones(len(frame))
    user_items = sp.csr_matrix((values, (users, items)), shape=(users.max() + 1, items.max() + 1))
    user_items.eliminate_zeros()
user_ids = np.arange(user_items.shape[0])

timings = {}
for name, make in (("cosine", lambda: CosineRecommender(K=50, num_threads=threads)),
                   ("bm25", lambda: BM25Recommender(K=50, K1=1.2, B=0.75, num_threads=threads))):
    fit, rec = [], []
    for _ in range(runs):
        model = make()
        start = time.perf_counter()
        model.fit(user_items, show_progress=False)
        fit.append(time.perf_counter() - start)
        if not fit_only:
            start = time.perf_counter()
            model.recommend(user_ids, user_items, N=10)
            rec.append(time.perf_counter() - start)
    timings[f"fit_{name}"] = statistics.median(fit)
    if not fit_only:
        timings[f"recommend_{name}"] = statistics.median(rec)
    s = model.similarity.tocsr()
    s.sort_indices()
    save_file({"indptr": s.indptr.astype(np.int64), "indices": s.indices.astype(np.int32),
               "data": s.data.astype(np.float64)}, str(out_dir / f"{name}.safetensors"))
timings["items"] = int(user_items.shape[1])
timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
(out_dir / "implicit.json").write_text(json.dumps(timings))
print("implicit", " ".join(f"{k}={v:.6g}" for k, v in timings.items()))
