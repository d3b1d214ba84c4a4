"""Shared fixtures: the repository's golden files, the shared data and the fetched model."""

import json
import os
import pathlib
import struct

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
DATA = pathlib.Path(os.environ.get("SHOPML_DATA_DIR", ROOT.parent / "shared" / "data"))
MODEL = pathlib.Path(os.environ.get("SHOPML_MODEL_DIR", pathlib.Path.home() / ".cache/shopml/models/all-MiniLM-L6-v2"))

_SAFETENSORS_DTYPES = {"F64": np.float64, "F32": np.float32, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file, without the safetensors package."""
    raw = pathlib.Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    body = memoryview(raw)[8 + header_len :]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=_SAFETENSORS_DTYPES[t["dtype"]]).reshape(t["shape"])
    return tensors, meta


def golden_texts():
    """The encoder goldens' texts (tests/golden/nn/minilm_inputs.tsv, as tests/nn/golden.hpp reads them)."""
    texts = []
    for line in (GOLDEN / "nn" / "minilm_inputs.tsv").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        file, offset, length, quoted, _tokens = line.split("\t")
        with open(DATA / file, "rb") as f:
            f.seek(int(offset))
            raw = f.read(int(length)).decode("utf-8")
        texts.append(raw.replace('""', '"') if quoted == "1" else raw)
    return texts


def golden_token_ids():
    return [[int(t) for t in line.split()] for line in (GOLDEN / "nn" / "minilm_tokens.txt").read_text().splitlines()]


def golden_embeddings():
    return np.fromfile(GOLDEN / "nn" / "minilm_embeddings.f32", dtype=np.float32).reshape(-1, 384)


def movielens(binary=False):
    """MovieLens-100k as a users × items scipy CSR matrix (ids minus 1), ratings or 1s as values."""
    import scipy.sparse

    raw = np.loadtxt(DATA / "movielens-100k" / "u.data", dtype=np.int64)
    users, items = raw[:, 0] - 1, raw[:, 1] - 1
    values = np.ones(len(raw)) if binary else raw[:, 2].astype(np.float64)
    return scipy.sparse.csr_matrix((values, (users, items)), shape=(users.max() + 1, items.max() + 1))


@pytest.fixture(scope="session")
def model_dir():
    if not (MODEL / "tokenizer.json").exists():
        pytest.skip(f"no model at {MODEL} (scripts/fetch-model.sh fetches it)")
    return MODEL


@pytest.fixture(scope="session")
def encoder(model_dir):
    import shopml

    return shopml.SentenceEncoder.from_pretrained(model_dir)


@pytest.fixture(scope="session")
def texts():
    return golden_texts()
