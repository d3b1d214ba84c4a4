"""Embeds the shared reviews with all-MiniLM-L6-v2 and caches them.

The logistic-regression peer benchmark (bench/peers/logreg.sh) fits on these vectors; the
golden script (scripts/golden/linear_model.py) uses this module's loaders and
`encode_reference` (sentence-transformers). The cached matrix of a whole dataset is computed
by shopml's own encoder (`encode`, the encoder_throughput program: its embeddings equal
sentence-transformers' to 2.5e-7, tests/nn) because it is several times faster than PyTorch
on a small CPU and needs no torch. The result is cached (never committed):

  ~/.cache/shopml/embeddings/<dataset>.minilm.npy   float32 [rows, 384], row i = input row i
  ~/.cache/shopml/embeddings/<dataset>.<task>.txt   one label per line, same order

Datasets: shopping (reviews-zh/online_shopping_10_cats.csv; tasks: sentiment, category),
english (reviews-en amazon + yelp + imdb labelled sentences, in that order; task: sentiment).

Usage: python bench/peers/logreg_embed.py ENCODER_BINARY [shopping|english ...]
  ENCODER_BINARY: bench/nn/encoder_throughput of a Release build (logreg.sh builds it).
  SHOPML_EMBED_THREADS: encoder threads (default: all cores).
"""
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path(os.environ.get("SHOPML_DATA_DIR", REPO.parent / "shared" / "data"))
MODEL = pathlib.Path(os.environ.get(
    "SHOPML_MODEL_DIR", pathlib.Path.home() / ".cache/shopml/models/all-MiniLM-L6-v2"))
CACHE = pathlib.Path(os.environ.get(
    "SHOPML_EMBED_CACHE", pathlib.Path.home() / ".cache/shopml/embeddings"))
CHUNK = 2048  # rows per saved part, so an interrupted run resumes where it stopped


def load_dataset(name):
    """Returns (texts, {task: labels}) in the row order of the shared files."""
    if name == "shopping":
        frame = pd.read_csv(DATA / "reviews-zh" / "online_shopping_10_cats.csv",
                            dtype=str, keep_default_na=False)
        return list(frame["review"]), {"sentiment": list(frame["label"]),
                                       "category": list(frame["cat"])}
    if name == "english":
        texts, labels = [], []
        for part in ("amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"):
            for line in (DATA / "reviews-en" / part).read_text(encoding="utf-8").split("\n"):
                if not line.strip():
                    continue
                text, label = line.rsplit("\t", 1)
                texts.append(text.strip())
                labels.append(label.strip())
        return texts, {"sentiment": labels}
    raise SystemExit(f"unknown dataset {name!r} (shopping, english)")


_MODEL = None


def encode_reference(texts):
    """float32 [len(texts), 384] from sentence-transformers (mean pooling, L2-normalised)."""
    global _MODEL
    if _MODEL is None:
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(int(os.environ.get("SHOPML_EMBED_THREADS", "2")))
        _MODEL = SentenceTransformer(str(MODEL), device="cpu")
    vectors = _MODEL.encode(list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def encode(binary, texts):
    """The same embeddings from shopml's encoder_throughput program (one text a line, so
    line breaks inside a review become spaces: BERT's clean_text does the same)."""
    threads = os.environ.get("SHOPML_EMBED_THREADS", str(os.cpu_count()))
    with tempfile.TemporaryDirectory() as tmp:
        texts_path, out_path = os.path.join(tmp, "texts.txt"), os.path.join(tmp, "out.f32")
        with open(texts_path, "w", encoding="utf-8") as f:
            for text in texts:
                f.write(text.replace("\r", " ").replace("\n", " ") + "\n")
        subprocess.run([binary, "--model", str(MODEL), "--texts", texts_path, "--threads", threads,
                        "--runs", "1", "--out", out_path], check=True, stdout=subprocess.DEVNULL)
        vectors = np.fromfile(out_path, dtype=np.float32)
    return vectors.reshape(len(texts), -1)


def embed(binary, name):
    """Writes the cached embeddings + labels of one dataset; returns the .npy path."""
    out = CACHE / f"{name}.minilm.npy"
    texts, tasks = load_dataset(name)
    CACHE.mkdir(parents=True, exist_ok=True)
    for task, labels in tasks.items():
        (CACHE / f"{name}.{task}.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
    if out.exists() and np.load(out, mmap_mode="r").shape[0] == len(texts):
        return out
    parts = []
    for start in range(0, len(texts), CHUNK):
        part = CACHE / f"{name}.minilm.part{start // CHUNK:04d}.npy"
        if not part.exists():
            np.save(part, encode(binary, texts[start:start + CHUNK]))
            print(f"{name}: {min(start + CHUNK, len(texts))}/{len(texts)}", flush=True)
        parts.append(part)
    matrix = np.concatenate([np.load(p) for p in parts])
    np.save(out, np.ascontiguousarray(matrix, dtype=np.float32))
    for p in parts:
        p.unlink()
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for dataset in sys.argv[2:] or ["english", "shopping"]:
        print(embed(sys.argv[1], dataset))
