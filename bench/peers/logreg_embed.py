"""Embeds the shared reviews with sentence-transformers all-MiniLM-L6-v2 and caches them.

The logistic-regression peer benchmark (bench/peers/logreg.sh) and the golden script
(scripts/golden/linear_model.py) fit on these vectors. Computing ~63k embeddings on a
couple of CPU cores takes a while, so the result is cached (never committed):

  ~/.cache/shopml/embeddings/<dataset>.minilm.npy   float32 [rows, 384], row i = input row i
  ~/.cache/shopml/embeddings/<dataset>.<task>.txt   one label per line, same order

Datasets: shopping (reviews-zh/online_shopping_10_cats.csv; tasks: sentiment, category),
english (reviews-en amazon + yelp + imdb labelled sentences, in that order; task: sentiment).

Usage: python bench/peers/logreg_embed.py [shopping|english ...]
       python bench/peers/logreg_embed.py --partial shopping
  (--partial: while an embedding run is under way, writes the rows finished so far as
   <dataset>_partial.minilm.npy with the matching <dataset>_partial.<task>.txt)
"""
import os
import pathlib
import sys

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


def encode(texts):
    """float32 [len(texts), 384] sentence embeddings (mean pooling, L2-normalised)."""
    global _MODEL
    if _MODEL is None:
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(int(os.environ.get("SHOPML_EMBED_THREADS", "2")))
        _MODEL = SentenceTransformer(str(MODEL), device="cpu")
    vectors = _MODEL.encode(list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embed(name):
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
            np.save(part, encode(texts[start:start + CHUNK]))
            print(f"{name}: {min(start + CHUNK, len(texts))}/{len(texts)}", flush=True)
        parts.append(part)
    matrix = np.concatenate([np.load(p) for p in parts])
    np.save(out, np.ascontiguousarray(matrix, dtype=np.float32))
    for p in parts:
        p.unlink()
    return out


def assemble_partial(name):
    """The first rows already embedded (the saved parts), with their labels."""
    parts = sorted(CACHE.glob(f"{name}.minilm.part*.npy"))
    if not parts:
        raise SystemExit(f"no finished parts of {name} in {CACHE}")
    matrix = np.concatenate([np.load(p) for p in parts])
    out = CACHE / f"{name}_partial.minilm.npy"
    np.save(out, matrix)
    _, tasks = load_dataset(name)
    for task, labels in tasks.items():
        (CACHE / f"{name}_partial.{task}.txt").write_text("\n".join(labels[:len(matrix)]) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--partial"]:
        for dataset in sys.argv[2:]:
            print(assemble_partial(dataset))
    else:
        for dataset in sys.argv[1:] or ["english", "shopping"]:
            print(embed(dataset))
