"""The peers of bench/peers/ann.sh on the vectors shopml's ann_bench wrote: hnswlib,
faiss HNSW and IVF-Flat, usearch (f32 and i8), each built on THREADS threads with the same
M / ef_construction as shopml's index (IVF: nlist = 4·√n, trained on the vectors), then
swept over its search parameter with queries one at a time on one thread; recall@10
against shopml's exact top-10 (truth.npy). One JSON object a line on stdout.

usage: ann_peer.py DIR THREADS M EFC
"""
import json
import sys
import time

import numpy as np

directory, threads, M, efc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = np.load(f"{directory}/vectors.npy")
queries = np.load(f"{directory}/queries.npy")
truth = np.load(f"{directory}/truth.npy")
n, dim = data.shape
EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256]


def recall(ids):
    return float(np.mean([len(set(ids[q]) & set(truth[q])) / 10.0 for q in range(len(truth))]))


def one_by_one(search):
    ids = np.empty((len(queries), 10), dtype=np.int64)
    t0 = time.perf_counter()
    for q in range(len(queries)):
        ids[q] = search(queries[q : q + 1])
    return ids, len(queries) / (time.perf_counter() - t0)


def emit(engine, param, ids, qps, build_s):
    print(json.dumps({"engine": engine, "n": n, "dim": dim, "param": param, "recall": recall(ids), "qps": qps,
                      "build_s": build_s, "threads": threads}), flush=True)


import hnswlib

index = hnswlib.Index(space="ip", dim=dim)
index.init_index(max_elements=n, M=M, ef_construction=efc, random_seed=100)
t0 = time.perf_counter()
index.add_items(data, np.arange(n), num_threads=threads)
build = time.perf_counter() - t0
index.set_num_threads(1)
for ef in EFS:
    index.set_ef(max(ef, 10))
    ids, qps = one_by_one(lambda q: index.knn_query(q, k=10, num_threads=1)[0][0])
    emit("hnswlib", f"ef={ef}", ids, qps, build)
del index

import faiss

faiss.omp_set_num_threads(threads)
index = faiss.IndexHNSWFlat(dim, M, faiss.METRIC_INNER_PRODUCT)
index.hnsw.efConstruction = efc
t0 = time.perf_counter()
index.add(data)
build = time.perf_counter() - t0
faiss.omp_set_num_threads(1)
for ef in EFS:
    index.hnsw.efSearch = max(ef, 10)
    ids, qps = one_by_one(lambda q: index.search(q, 10)[1][0])
    emit("faiss hnsw", f"efSearch={ef}", ids, qps, build)
del index

faiss.omp_set_num_threads(threads)
nlist = int(4 * np.sqrt(n))
quantizer = faiss.IndexFlatIP(dim)
index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
t0 = time.perf_counter()
index.train(data)
index.add(data)
build = time.perf_counter() - t0
faiss.omp_set_num_threads(1)
for nprobe in [1, 2, 4, 8, 16, 32, 64]:
    index.nprobe = nprobe
    ids, qps = one_by_one(lambda q: index.search(q, 10)[1][0])
    emit("faiss ivf-flat", f"nprobe={nprobe} nlist={nlist}", ids, qps, build)
del index

from usearch.index import Index

for dtype in ["f32", "i8"]:
    index = Index(ndim=dim, metric="ip", dtype=dtype, connectivity=M, expansion_add=efc)
    t0 = time.perf_counter()
    index.add(np.arange(n), data, threads=threads)
    build = time.perf_counter() - t0
    for ef in EFS:
        index.expansion_search = max(ef, 10)
        ids, qps = one_by_one(lambda q: index.search(q, 10, threads=1).keys.reshape(-1)[:10])
        emit(f"usearch {dtype}", f"expansion_search={ef}", ids, qps, build)
    del index
