"""shopml's heavy jobs on a Ray cluster (docs/scale-out.md):

* fit_item_item: an item-item similarity fit, one Ray task per block of items, the
  weighted interaction matrix put once in the object store; the driver stacks the blocks
  into the model, bit for bit what model.fit(user_items) gives in one process;
* encode: texts sharded over tasks, embeddings in input order, identical to one process;
* ShardedIndex: an embedding index split over actors, queries fanned out and the
  per-shard top-k merged exactly.

Call ray.init() (or ray.init(address="auto") on a cluster) first. A task whose worker dies
is retried by Ray (max_retries); a job that still fails raises, and the model is left as it
was: the driver assigns the similarity only once every block is back.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import ray

from . import _shopml_ext as _ext
from .recommend import ItemItemRecommender, csr_parts

Progress = Union[bool, Callable[[int, int], None]]


def _progress_reporter(progress: Progress, what: str) -> Callable[[int, int], None]:
    """progress=True: a line on stderr rewritten as tasks finish; a callable: called with
    (done, total); False: nothing."""
    if callable(progress):
        return progress
    if not progress:
        return lambda done, total: None

    def report(done: int, total: int) -> None:
        sys.stderr.write(f"\r{what}: {done}/{total}" + ("\n" if done == total else ""))
        sys.stderr.flush()

    return report


def _gather(refs: List[Any], report: Callable[[int, int], None], total: int) -> List[Any]:
    """Results in the order of `refs`, reporting progress as each task finishes; the first
    task that failed (after Ray's retries) raises here."""
    index_of = {ref: i for i, ref in enumerate(refs)}
    results: List[Any] = [None] * len(refs)
    pending = list(refs)
    done = 0
    report(0, total)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            results[index_of[ref]] = ray.get(ref)
            done += 1
        report(done, total)
    return results


# --- item-item similarity -------------------------------------------------------------


def _die_once_for_tests() -> None:
    """Fault injection for the worker-death test: when SHOPML_FAULT_DIE_ONCE names a file
    that does not exist yet, create it and kill this worker process."""
    marker = os.environ.get("SHOPML_FAULT_DIE_ONCE")
    if marker and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)


@ray.remote(num_cpus=1)
def _item_block(shared: Tuple[Any, ...], begin: int, end: int, K: int) -> Tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    _die_once_for_tests()
    users, items, by_user, by_item = shared  # arrays read in place from the object store
    indptr, indices, data = _ext._item_block_knn(users, items, *by_user, *by_item, begin, end, K)
    return begin, end, indptr, indices, data


def item_blocks(by_user: Tuple[np.ndarray, ...], n_items: int, n_blocks: int) -> List[Tuple[int, int]]:
    """[begin, end) item ranges of about equal work: row i costs the summed lengths of its
    users' rows (the candidates it accumulates), so popular items get smaller blocks."""
    if n_items == 0:
        return []
    indptr, indices = by_user[0], by_user[1]
    lengths = np.diff(indptr)
    cost = np.bincount(indices, weights=np.repeat(lengths, lengths).astype(np.float64), minlength=n_items)
    cumulative = np.cumsum(cost)
    targets = cumulative[-1] * np.arange(1, n_blocks) / n_blocks
    cuts = np.unique(np.concatenate(([0], np.searchsorted(cumulative, targets, side="right"), [n_items])))
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def fit_item_item(
    model: ItemItemRecommender,
    user_items: Any,
    n_blocks: Optional[int] = None,
    max_retries: int = 3,
    progress: Progress = False,
    ray_options: Optional[Dict[str, Any]] = None,
) -> ItemItemRecommender:
    """Fits `model` (an ItemItemRecommender, any measure but jaccard, shrinkage 0) on a
    users × items scipy.sparse matrix with one Ray task per block of items, and returns it.
    n_blocks defaults to 4 per CPU of the cluster. ray_options go to each task
    (resources, runtime_env, ...)."""
    rows, cols, indptr, indices, data = csr_parts(user_items)
    by_user, by_item = _ext._weighted_for_blocks(model._model, rows, cols, indptr, indices, data)
    if n_blocks is None:
        n_blocks = 4 * max(1, int(ray.cluster_resources().get("CPU", 1)))
    blocks = item_blocks(by_user, cols, n_blocks)
    shared = ray.put((rows, cols, by_user, by_item))  # once; every task maps the same copy
    task = _item_block.options(max_retries=max_retries, **(ray_options or {}))
    refs = [task.remote(shared, begin, end, model.K) for begin, end in blocks]
    done = _gather(refs, _progress_reporter(progress, "item-item blocks"), len(refs))
    model._model = _ext._item_item_from_blocks(model._model, cols, done)
    return model


# --- bulk embedding -------------------------------------------------------------------

_encoders: Dict[Tuple[str, str, Optional[int]], Any] = {}


def _encoder(model_dir: str, precision: str, max_seq_length: Optional[int]) -> Any:
    """One loaded model per worker process and setting, reused by its tasks."""
    key = (model_dir, precision, max_seq_length)
    if key not in _encoders:
        encoder = _ext.SentenceEncoder.from_pretrained(model_dir, precision)
        if max_seq_length is not None:
            encoder.max_seq_length = max_seq_length
        _encoders[key] = encoder
    return _encoders[key]


@ray.remote(num_cpus=1)
def _encode_shard(
    model_dir: str, precision: str, max_seq_length: Optional[int], texts: List[str], batch_size: int, normalize: bool, threads: int
) -> np.ndarray:
    return _encoder(model_dir, precision, max_seq_length).encode(texts, batch_size, normalize, threads)


def encode(
    texts: Sequence[str],
    model_dir: Union[str, os.PathLike],
    precision: str = "fp32",
    max_seq_length: Optional[int] = None,
    batch_size: int = 32,
    normalize_embeddings: bool = False,
    shard_size: int = 512,
    threads_per_task: int = 1,
    max_retries: int = 3,
    progress: Progress = True,
) -> np.ndarray:
    """Embeddings of `texts` [len(texts) × dim] float32, row i for texts[i], computed in
    shards of shard_size texts, one Ray task each (threads_per_task CPUs). model_dir must
    exist at the same path on every node; max_seq_length (tokens) defaults to the model's."""
    if shard_size < 1:
        raise _ext.ShopmlValueError(f"[shopml.value] encode: shard_size must be >= 1, got {shard_size}")
    model_dir = os.fspath(os.path.expanduser(model_dir))
    texts = list(texts)
    task = _encode_shard.options(num_cpus=threads_per_task, max_retries=max_retries)
    refs = [
        task.remote(model_dir, precision, max_seq_length, texts[start : start + shard_size], batch_size, normalize_embeddings, threads_per_task)
        for start in range(0, len(texts), shard_size)
    ]
    shards = _gather(refs, _progress_reporter(progress, "encode shards"), len(refs))
    if not shards:
        return np.empty((0, _encoder(model_dir, precision, max_seq_length).dimension), dtype=np.float32)
    return np.concatenate(shards)


# --- sharded embedding index ----------------------------------------------------------


@ray.remote
class _IndexShard:
    """One shard of a ShardedIndex: rows [offset, offset + len(vectors)) of the whole."""

    def __init__(self, vectors: np.ndarray, offset: int, kind: str, metric: str, storage: str, hnsw: Dict[str, Any]) -> None:
        self.offset = offset
        if kind == "exact":
            self.index = _ext.EmbeddingIndex(vectors, metric, storage, 1)
        else:
            self.index = _ext.HnswIndex(vectors.shape[1], metric=metric, storage=storage, **hnsw)
            self.index.add(vectors, np.arange(offset, offset + len(vectors), dtype=np.int32), 1)
        self.kind = kind

    def search(self, queries: np.ndarray, k: int, ef: int) -> Tuple[np.ndarray, np.ndarray]:
        if self.kind == "exact":
            scores, ids = self.index.search(queries, k, 1)
            return scores, ids + self.offset
        return self.index.search(queries, min(k, len(self.index)), ef, None, 1)

    def size(self) -> int:
        return len(self.index)


def merge_top_k(parts: Sequence[Tuple[np.ndarray, np.ndarray]], k: int) -> Tuple[np.ndarray, np.ndarray]:
    """The k best of the per-shard (scores, ids) [queries × k_shard]: descending score, ties
    by lower id, as one index orders them."""
    scores = np.concatenate([p[0] for p in parts], axis=1)
    ids = np.concatenate([p[1] for p in parts], axis=1)
    order = np.lexsort((ids, -scores), axis=-1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)


class ShardedIndex:
    """An embedding index over Ray actors, each holding one shard of the rows.

    kind="exact": each actor an EmbeddingIndex; shard sizes are multiples of
    EmbeddingIndex.block_rows, so every row scores bit for bit as in one index, and the
    merged top-k equals a single index's. kind="hnsw": each actor an HnswIndex (approximate;
    hnsw takes M, ef_construction, seed). Each actor holds num_cpus CPUs of the cluster for
    its lifetime (a fraction lets more shards share a node).
    """

    def __init__(
        self,
        vectors: np.ndarray,
        num_shards: int,
        kind: str = "exact",
        metric: str = "cosine",
        storage: str = "f32",
        hnsw: Optional[Dict[str, Any]] = None,
        num_cpus: float = 1.0,
        max_restarts: int = 0,
    ) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise _ext.ShapeError(f"[shopml.shape] ShardedIndex: vectors must be 2-D (rows × dim), got shape {vectors.shape}")
        if kind not in ("exact", "hnsw"):
            raise _ext.ShopmlValueError(f"[shopml.value] ShardedIndex: kind must be 'exact' or 'hnsw', got '{kind}'")
        if num_shards < 1:
            raise _ext.ShopmlValueError(f"[shopml.value] ShardedIndex: num_shards must be >= 1, got {num_shards}")
        block = _ext.EmbeddingIndex.block_rows
        blocks = -(-len(vectors) // block)
        cuts = sorted({min(len(vectors), block * (blocks * s // num_shards)) for s in range(num_shards + 1)})
        self.offsets = cuts[:-1]
        self.dim = vectors.shape[1]
        self.ntotal = len(vectors)
        self._shards = [
            _IndexShard.options(num_cpus=num_cpus, max_restarts=max_restarts).remote(vectors[a:b], a, kind, metric, storage, hnsw or {})
            for a, b in zip(cuts[:-1], cuts[1:])
        ]

    def search(self, queries: np.ndarray, k: int, ef: int = 64) -> Tuple[np.ndarray, np.ndarray]:
        """(scores, ids) [queries × min(k, ntotal)], as EmbeddingIndex.search."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            raise _ext.ShapeError(f"[shopml.shape] ShardedIndex.search: queries must be [n × {self.dim}], got shape {queries.shape}")
        if k < 1:
            raise _ext.ShopmlValueError("[shopml.value] ShardedIndex.search: k must be >= 1")
        shared = ray.put(queries)  # once for every shard
        parts = ray.get([shard.search.remote(shared, k, ef) for shard in self._shards])
        return merge_top_k(parts, min(k, self.ntotal))

    def shutdown(self) -> None:
        for shard in self._shards:
            ray.kill(shard)
        self._shards = []
