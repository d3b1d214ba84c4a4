"""EmbeddingIndex (exact) against a numpy brute force, HnswIndex against the exact index."""

import numpy as np
import pytest

import shopml


def brute_force(vectors, queries, k):
    """Cosine top-k by numpy: descending score, ties by lower row (the index's order)."""
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    scores = q @ v.T
    order = np.lexsort((np.broadcast_to(np.arange(len(v)), scores.shape), -scores), axis=-1)[:, :k]
    return np.take_along_axis(scores, order, 1), order


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((3000, 64)).astype(np.float32), rng.standard_normal((25, 64)).astype(np.float32)


def test_exact_search_matches_brute_force(data):
    vectors, queries = data
    index = shopml.EmbeddingIndex(vectors)
    assert index.ntotal == len(index) == 3000 and index.d == 64
    scores, ids = index.search(queries, 10)
    assert scores.shape == ids.shape == (25, 10) and ids.dtype == np.int64 and scores.dtype == np.float32
    ref_scores, ref_ids = brute_force(vectors, queries, 10)
    assert np.array_equal(ids, ref_ids)
    assert np.abs(scores - ref_scores).max() < 1e-5
    one_scores, one_ids = index.search(queries[:1], 10)  # the one-query road (axpy) agrees
    assert np.array_equal(one_ids[0], ids[0])


def test_inner_product_and_compact_storage(data):
    vectors, queries = data
    _, ids = shopml.EmbeddingIndex(vectors, metric="inner_product").search(queries, 5)
    assert np.array_equal(ids, np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :5])
    exact = shopml.EmbeddingIndex(vectors)
    f16 = shopml.EmbeddingIndex(vectors, storage="f16")
    assert f16.storage_bytes < exact.storage_bytes
    assert np.mean(f16.search(queries, 10)[1] == exact.search(queries, 10)[1]) > 0.9


def test_hnsw_recall_add_remove_and_save(tmp_path, data):
    vectors, queries = data
    index = shopml.HnswIndex(64, M=16, ef_construction=100)
    index.add(vectors, threads=1)
    assert len(index) == 3000 and 42 in index
    _, exact_ids = shopml.EmbeddingIndex(vectors).search(queries, 10)
    _, ids = index.search(queries, 10, ef=128)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact_ids)])
    assert recall >= 0.9
    allowed = np.arange(0, 3000, 2, dtype=np.int32)
    _, even = index.search(queries, 5, allowed_ids=allowed)
    assert np.all(even % 2 == 0)
    index.remove(np.array([int(ids[0, 0])], dtype=np.int32))
    assert int(ids[0, 0]) not in index
    index.save(tmp_path / "index.hnsw")
    again = shopml.HnswIndex.load(tmp_path / "index.hnsw")
    assert np.array_equal(again.search(queries, 10)[1], index.search(queries, 10)[1])


def test_bad_input_raises_clear_errors(data):
    vectors, queries = data
    index = shopml.EmbeddingIndex(vectors)
    with pytest.raises(shopml.ShapeError, match="the index has dim 64"):
        index.search(queries[:, :32], 5)
    with pytest.raises(shopml.ShopmlValueError, match="k must be >= 1"):
        index.search(queries, 0)
    with pytest.raises(TypeError):
        index.search(queries[0], 5)  # 1-D: not a queries × dim array
    bad = vectors.copy()
    bad[17, 3] = np.inf
    with pytest.raises(shopml.ShopmlValueError, match="row 17"):
        shopml.EmbeddingIndex(bad)
    with pytest.raises(shopml.ShopmlValueError, match="metric must be"):
        shopml.EmbeddingIndex(vectors, metric="l2")
    # Non-contiguous and float64 arrays are converted, not refused: the same answer.
    strided = np.asfortranarray(queries.astype(np.float64))
    assert np.array_equal(index.search(strided, 5)[1], index.search(queries, 5)[1])
    hnsw = shopml.HnswIndex(64)
    with pytest.raises(shopml.ShapeError):
        hnsw.add(vectors, ids=np.arange(10, dtype=np.int32))
    with pytest.raises(shopml.ShopmlValueError, match="dim must be in 1..65536"):
        shopml.HnswIndex(0)
