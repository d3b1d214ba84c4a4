"""shopml.distributed on a local Ray cluster started here (2 worker CPUs, shut down at the
end): each job's result against the same job in one process, bit for bit."""

import os

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import shopml  # noqa: E402
from shopml import distributed  # noqa: E402
from conftest import movielens  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def same_similarity(a, b):
    x, y = a.similarity, b.similarity
    return (
        np.array_equal(x.indptr, y.indptr)
        and np.array_equal(x.indices, y.indices)
        and np.array_equal(x.data.view(np.uint64), y.data.view(np.uint64))  # bits, not values
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: shopml.CosineRecommender(K=50, threads=1),
        lambda: shopml.BM25Recommender(K=20, threads=1),
        lambda: shopml.ItemItemRecommender(K=30, measure="pearson", max_history=200, threads=1),
    ],
    ids=["cosine", "bm25", "pearson+max_history"],
)
def test_item_item_on_ray_is_the_single_process_fit_bit_for_bit(make):
    user_items = movielens()
    single = make().fit(user_items)
    for n_blocks in (1, 7):
        spread = distributed.fit_item_item(make(), user_items, n_blocks=n_blocks)
        assert same_similarity(spread, single)
    users = np.arange(100)
    assert all(np.array_equal(a, b) for a, b in zip(spread.recommend(users, user_items[users]), single.recommend(users, user_items[users])))


def test_blocks_balance_the_work_and_cover_every_item():
    user_items = movielens(binary=True)
    by_item = user_items.T.tocsr()
    blocks = distributed.item_blocks((user_items.indptr, user_items.indices), user_items.shape[1], 8)
    assert blocks[0][0] == 0 and blocks[-1][1] == user_items.shape[1]
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    user_lengths = np.diff(user_items.indptr)
    cost = [user_lengths[by_item.indices[by_item.indptr[i] : by_item.indptr[i + 1]]].sum() for i in range(by_item.shape[0])]
    work = [sum(cost[a:b]) for a, b in blocks]  # the candidates each block accumulates
    assert len(blocks) == 8 and max(work) < 1.5 * np.mean(work)


def test_a_dead_worker_is_retried_and_without_retries_the_job_fails_leaving_the_model(tmp_path):
    user_items = movielens()
    single = shopml.CosineRecommender(K=20).fit(user_items)
    die_once = {"runtime_env": {"env_vars": {"SHOPML_FAULT_DIE_ONCE": str(tmp_path / "died")}}}
    retried = distributed.fit_item_item(shopml.CosineRecommender(K=20), user_items, n_blocks=4, ray_options=die_once)
    assert (tmp_path / "died").exists()  # a worker did die
    assert same_similarity(retried, single)

    die_once = {"runtime_env": {"env_vars": {"SHOPML_FAULT_DIE_ONCE": str(tmp_path / "died-again")}}}
    model = shopml.CosineRecommender(K=20)
    with pytest.raises(ray.exceptions.RayError):
        distributed.fit_item_item(model, user_items, n_blocks=4, max_retries=0, ray_options=die_once)
    assert model.n_items == 0  # no partial model: still unfitted


def test_measures_not_offered_block_by_block_say_so():
    with pytest.raises(shopml.ShopmlValueError, match="jaccard measure is not supported block by block"):
        distributed.fit_item_item(shopml.ItemItemRecommender(measure="jaccard"), movielens())


def test_bulk_embedding_on_ray_is_one_process_bit_for_bit(model_dir, texts):
    # Texts cut at 32 tokens keep this near 20 s on two cores; the full length is
    # the same code (tests/python/test_text.py checks it against sentence-transformers).
    some = texts[:2000]
    single = shopml.SentenceEncoder.from_pretrained(model_dir)
    single.max_seq_length = 32
    seen = []
    spread = distributed.encode(
        some, model_dir, max_seq_length=32, shard_size=300, progress=lambda done, total: seen.append((done, total))
    )
    assert spread.shape == (2000, 384)
    assert np.array_equal(spread, single.encode(some))
    assert seen[0] == (0, 7) and seen[-1] == (7, 7) and len(seen) == 8  # progress on the driver, task by task


@pytest.mark.parametrize("num_shards", [2, 3])
def test_sharded_exact_search_is_one_index(num_shards):
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((5000, 48)).astype(np.float32)
    vectors[4000] = vectors[10]  # a tie across shards: the lower row first, as one index orders it
    queries = np.vstack([rng.standard_normal((30, 48)).astype(np.float32), vectors[10:11]])
    single = shopml.EmbeddingIndex(vectors)
    sharded = distributed.ShardedIndex(vectors, num_shards=num_shards, num_cpus=0.5)  # every shard fits on 2 CPUs
    try:
        assert all(o % shopml.EmbeddingIndex.block_rows == 0 for o in sharded.offsets)
        for k in (1, 10, 6000):
            scores, ids = sharded.search(queries, k)
            ref_scores, ref_ids = single.search(queries, k)
            assert np.array_equal(ids, ref_ids) and np.array_equal(scores, ref_scores)
    finally:
        sharded.shutdown()


def test_sharded_hnsw_search_finds_the_exact_neighbours():
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((4000, 32)).astype(np.float32)
    queries = rng.standard_normal((20, 32)).astype(np.float32)
    sharded = distributed.ShardedIndex(vectors, num_shards=2, kind="hnsw", hnsw={"M": 16, "ef_construction": 100})
    try:
        _, ids = sharded.search(queries, 10, ef=100)
    finally:
        sharded.shutdown()
    _, exact = shopml.EmbeddingIndex(vectors).search(queries, 10)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact)]) >= 0.9
