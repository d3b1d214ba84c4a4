"""Item-item recommenders against implicit 0.7.3's goldens on MovieLens-100k
(tests/golden/recommend/movielens.safetensors, as tests/recommend/test_parity.cpp)."""

import numpy as np
import pytest
import scipy.sparse

import shopml
from conftest import GOLDEN, movielens, read_safetensors

GOLDEN_CF, _ = read_safetensors(GOLDEN / "recommend" / "movielens.safetensors")
TOLERANCE = 1e-5  # TF-IDF and BM25 scores differ from numpy's in the last bits (log)
MODELS = {
    "cosine": lambda: shopml.CosineRecommender(K=50, threads=1),
    "tfidf": lambda: shopml.TFIDFRecommender(K=50, threads=1),
    "bm25": lambda: shopml.BM25Recommender(K=50, K1=1.2, B=0.75, threads=1),
}


@pytest.mark.parametrize("variant", ["explicit", "binary"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_fit_recommend_and_similar_items_match_implicit(variant, name):
    user_items = movielens(binary=variant == "binary")
    model = MODELS[name]().fit(user_items)
    prefix = f"{variant}.{name}"

    ours = model.similarity
    assert ours.shape == (1682, 1682)
    assert np.array_equal(ours.indptr, GOLDEN_CF[prefix + ".indptr"])
    assert np.array_equal(ours.indices, GOLDEN_CF[prefix + ".indices"])
    assert np.abs(ours.data - GOLDEN_CF[prefix + ".data"]).max() <= TOLERANCE

    users = np.arange(user_items.shape[0])
    ids, scores = model.recommend(users, user_items[users], N=10)
    assert np.array_equal(ids, GOLDEN_CF[prefix + ".rec_ids"])
    assert np.abs(scores - GOLDEN_CF[prefix + ".rec_scores"]).max() <= TOLERANCE

    for item in range(50):  # scores position by position; implicit orders tied ids its own way
        ids, scores = model.similar_items(item, N=10)
        assert np.abs(scores - GOLDEN_CF[prefix + ".similar_scores"][item]).max() <= TOLERANCE


def test_single_user_recommend_is_the_batch_row():
    user_items = movielens()
    model = shopml.CosineRecommender(K=50).fit(user_items)
    batch_ids, batch_scores = model.recommend(np.arange(20), user_items[:20], N=10)
    for user in range(20):
        ids, scores = model.recommend(user, user_items[user], N=10)
        assert np.array_equal(ids, batch_ids[user]) and np.array_equal(scores, batch_scores[user])
    filtered, _ = model.recommend(0, user_items[0], N=10, filter_items=batch_ids[0, :3])
    assert not set(filtered) & set(batch_ids[0, :3])
    only, _ = model.recommend(0, user_items[0], N=5, items=batch_ids[0, 5:])
    assert set(only) <= set(batch_ids[0, 5:])


def test_other_sparse_formats_and_dtypes_are_converted_once():
    user_items = movielens()
    reference = shopml.CosineRecommender(K=20).fit(user_items).similarity
    for variant in (user_items.tocoo(), user_items.tocsc(), user_items.astype(np.float32), scipy.sparse.csr_array(user_items)):
        got = shopml.CosineRecommender(K=20).fit(variant).similarity
        assert np.array_equal(got.indices, reference.indices) and np.array_equal(got.data, reference.data)


def test_save_and_load_keep_the_model(tmp_path):
    user_items = movielens()
    model = shopml.BM25Recommender(K=30).fit(user_items)
    model.save(tmp_path / "bm25.safetensors")
    again = shopml.ItemItemRecommender.load(tmp_path / "bm25.safetensors")
    assert again.measure == "bm25" and again.K == 30
    assert (again.similarity != model.similarity).nnz == 0
    assert np.array_equal(again.recommend(3, user_items[3])[0], model.recommend(3, user_items[3])[0])


def test_bad_input_raises_clear_errors():
    user_items = movielens()
    model = shopml.CosineRecommender(K=20).fit(user_items)
    with pytest.raises(shopml.ShopmlValueError, match="similar_items: item 5000 is outside 0..1681"):
        model.similar_items(5000)
    with pytest.raises(shopml.ShopmlValueError, match="N must be >= 1"):
        model.similar_items(1, N=0)
    with pytest.raises(shopml.ShapeError, match="1 rows for 2 users"):
        model.recommend(np.array([0, 1]), user_items[0])
    with pytest.raises(shopml.ShapeError, match="columns"):
        model.recommend(0, user_items[0][:, :100])
    with pytest.raises(TypeError, match="scipy.sparse"):
        model.fit(user_items.toarray())
    negative = user_items[0].copy()
    negative.data[0] = -1.0
    with pytest.raises(shopml.ShopmlValueError, match="not a finite number >= 0"):
        model.recommend(0, negative)
    broken = user_items.copy()
    broken.indices[5] = 99999  # what a hand-built matrix can hold
    with pytest.raises(ValueError, match="out of range"):
        model.fit(broken)
    with pytest.raises(shopml.ShopmlValueError, match="K must be >= 1"):
        shopml.CosineRecommender(K=0)
    with pytest.raises(shopml.ShopmlValueError, match="unknown similarity measure 'manhattan'"):
        shopml.ItemItemRecommender(measure="manhattan")
