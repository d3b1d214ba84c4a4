"""Golden neighbour lists of implicit 0.7.3 on a generated 10^5-item catalogue.

Run: "$(scripts/golden/make-venv.sh)" scripts/golden/recommend_scale.py GENERATE_INTERACTIONS
  GENERATE_INTERACTIONS: the built bench/recommend/generate_interactions program
  (cmake --build <dir> --target generate_interactions).
The interactions are not stored: the test regenerates them from the same seeded
parameters (bench/recommend/power_law_interactions.hpp), which the metadata records. For
each of CosineRecommender, TFIDFRecommender and BM25Recommender (K=50) it stores
  <model>.hash     U64 [items]  FNV-1a 64 of row i's neighbour indices, ascending, as int32
                                little-endian bytes (implicit's model.similarity, one row per item)
  <model>.sample_rows I32 [s]   every 499th item
  <model>.sample.{indptr,indices,data}  those rows in full (CSR, scores F64)
so that a mismatch in any row is caught and sampled rows show what differs, in ~2.5 MB.
"""
import pathlib
import subprocess
import sys
import tempfile

import implicit
import numpy as np
import scipy.sparse as sp
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender
from safetensors.numpy import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "recommend" / "power_law_1e5.safetensors"
SPEC = {"users": 200_000, "items": 100_000, "interactions": 2_000_000, "exponent": "1.0", "user_exponent": "0.5", "seed": 42}
K = 50
MODELS = {
    "cosine": lambda: CosineRecommender(K=K, num_threads=1),
    "tfidf": lambda: TFIDFRecommender(K=K, num_threads=1),
    "bm25": lambda: BM25Recommender(K=K, K1=1.2, B=0.75, num_threads=1),
}
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


def fnv1a_rows(m):
    """FNV-1a 64 of each row's int32 indices (little-endian bytes), vectorised over rows."""
    hashes = np.full(m.shape[0], FNV_OFFSET, dtype=np.uint64)
    lengths = np.diff(m.indptr)
    for c in range(int(lengths.max(initial=0))):
        rows = np.nonzero(lengths > c)[0]
        value = m.indices[m.indptr[rows] + c].astype(np.uint32)
        for byte in range(4):
            part = ((value >> np.uint32(8 * byte)) & np.uint32(0xFF)).astype(np.uint64)
            with np.errstate(over="ignore"):
                hashes[rows] = (hashes[rows] ^ part) * np.uint64(FNV_PRIME)
    return hashes


assert implicit.__version__ == "0.7.3", implicit.__version__
generator = sys.argv[1]
with tempfile.TemporaryDirectory() as work:
    path = pathlib.Path(work) / "log.safetensors"
    subprocess.run([generator, str(path), *(str(SPEC[k]) for k in ("users", "items", "interactions", "exponent", "user_exponent", "seed")), "1"],
                   check=True)
    t = load_file(str(path))
rows, cols = (int(x) for x in t["shape"])
user_items = sp.csr_matrix((t["data"].astype(np.float64), t["indices"], t["indptr"]), shape=(rows, cols))
print("interactions", user_items.nnz)

tensors = {}
sample = np.arange(0, cols, 499, dtype=np.int32)
for name, make in MODELS.items():
    model = make()
    model.fit(user_items, show_progress=False)
    s = model.similarity.tocsr()
    s.sort_indices()
    tensors[f"{name}.hash"] = fnv1a_rows(s)
    part = s[sample]
    tensors[f"{name}.sample_rows"] = sample
    tensors[f"{name}.sample.indptr"] = part.indptr.astype(np.int64)
    tensors[f"{name}.sample.indices"] = part.indices.astype(np.int32)
    tensors[f"{name}.sample.data"] = part.data.astype(np.float64)
    print(name, "neighbour entries", s.nnz)

meta = {k: str(v) for k, v in SPEC.items()}
meta.update({"implicit": implicit.__version__, "K": str(K), "interactions_stored": str(user_items.nnz)})
OUT.parent.mkdir(parents=True, exist_ok=True)
save_file(tensors, str(OUT), metadata=meta)
print("wrote", OUT, OUT.stat().st_size, "bytes")
