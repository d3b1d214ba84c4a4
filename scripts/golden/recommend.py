"""Golden files for shopml's recommenders, made with implicit 0.7.3 on MovieLens-100k.

Run: "$(scripts/golden/make-venv.sh)" scripts/golden/recommend.py
Writes tests/golden/recommend/movielens.safetensors, holding for each interaction
variant ("explicit": the 1-5 ratings as values; "binary": every rating as 1, implicit
feedback) and each implicit model (CosineRecommender, TFIDFRecommender, BM25Recommender
with K=50):
  <variant>.<model>.{indptr,indices,data}   model.similarity (CSR, items x items)
  <variant>.<model>.rec_{ids,scores}        model.recommend(all users, N=10) on the full matrix
  <variant>.<model>.similar_{ids,scores}    model.similar_items(items 0..49, N=10)
and two splits of the explicit ratings with implicit.evaluation.ranking_metrics_at_k(K=10)
for the three models fitted on the training part (metadata "<split>.<model>.<metric>"):
  random.{train,test}.{indptr,indices,data}   train_test_split(0.8, random_state=42)
  loo.{train,test}.{indptr,indices,data}      leave_k_out_split(K=1, random_state=42)
Users and items are the MovieLens ids minus 1.
"""
import pathlib

import implicit
import numpy as np
import scipy.sparse as sp
from implicit.evaluation import leave_k_out_split, ranking_metrics_at_k, train_test_split
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "movielens-100k" / "u.data"
OUT = ROOT / "tests" / "golden" / "recommend" / "movielens.safetensors"
K = 50
MODELS = {
    "cosine": lambda: CosineRecommender(K=K, num_threads=1),
    "tfidf": lambda: TFIDFRecommender(K=K, num_threads=1),
    "bm25": lambda: BM25Recommender(K=K, K1=1.2, B=0.75, num_threads=1),
}

assert implicit.__version__ == "0.7.3", implicit.__version__
raw = np.loadtxt(DATA, dtype=np.int64)
users, items, ratings = raw[:, 0] - 1, raw[:, 1] - 1, raw[:, 2].astype(np.float64)
shape = (users.max() + 1, items.max() + 1)
tensors, meta = {}, {"source": "MovieLens-100k u.data", "implicit": implicit.__version__, "K": str(K)}


def put_csr(prefix, m):
    m = m.tocsr()
    m.sort_indices()
    tensors[prefix + ".indptr"] = m.indptr.astype(np.int64)
    tensors[prefix + ".indices"] = m.indices.astype(np.int32)
    tensors[prefix + ".data"] = m.data.astype(np.float64)


for variant, values in (("explicit", ratings), ("binary", np.ones_like(ratings))):
    user_items = sp.csr_matrix((values, (users, items)), shape=shape)
    for name, make in MODELS.items():
        model = make()
        model.fit(user_items, show_progress=False)
        prefix = f"{variant}.{name}"
        put_csr(prefix, model.similarity)
        short = np.diff(model.similarity.indptr) < K
        print(prefix, "rows with fewer than K neighbours:", int(short.sum()),
              "; row 0 has (0,0):", 0 in model.similarity[0].indices)
        ids, scores = model.recommend(np.arange(shape[0]), user_items, N=10)
        tensors[prefix + ".rec_ids"] = ids.astype(np.int32)
        tensors[prefix + ".rec_scores"] = scores.astype(np.float64)
        ids, scores = model.similar_items(np.arange(50), N=10)
        tensors[prefix + ".similar_ids"] = ids.astype(np.int32)
        tensors[prefix + ".similar_scores"] = scores.astype(np.float64)

explicit = sp.csr_matrix((ratings, (users, items)), shape=shape)
splits = {
    "random": train_test_split(explicit, train_percentage=0.8, random_state=42),
    "loo": leave_k_out_split(explicit, K=1, random_state=42),
}
for split, (train, test) in splits.items():
    put_csr(f"{split}.train", train)
    put_csr(f"{split}.test", test)
    for name, make in MODELS.items():
        model = make()
        model.fit(train, show_progress=False)
        metrics = ranking_metrics_at_k(model, train, test, K=10, show_progress=False)
        for metric, value in metrics.items():
            meta[f"{split}.{name}.{metric}"] = repr(float(value))
        print(split, name, metrics)

OUT.parent.mkdir(parents=True, exist_ok=True)
save_file(tensors, str(OUT), metadata=meta)
print("wrote", OUT, OUT.stat().st_size, "bytes")
