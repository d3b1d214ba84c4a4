"""shopml from Python: the C++ library's tokenizer, sentence encoder, fine-tuning of BERT
classifiers, logistic heads, item-item recommenders and embedding indexes, with the GIL
released while they compute.

    import shopml
    model = shopml.SentenceEncoder.from_pretrained("~/.cache/shopml/models/all-MiniLM-L6-v2")
    X = model.encode(["red cotton t-shirt", "blue denim jacket"], normalize_embeddings=True)

Errors are shopml.ShopmlError subclasses carrying the C++ message ("[shopml.<kind>] ..."),
each also the builtin Python code expects (ParseError, ShapeError, ShopmlValueError are
ValueErrors; IoError is an OSError). shopml.distributed runs the heavy jobs on Ray.
"""

from ._shopml_ext import (
    CudaError,
    EmbeddingIndex,
    Encoding,
    HnswIndex,
    IoError,
    ParseError,
    SentenceEncoder,
    SequenceClassifier,
    ShapeError,
    ShopmlError,
    ShopmlValueError,
    Tokenizer,
    num_threads,
    set_num_threads,
)
from .linear_model import LogisticRegression
from .recommend import (
    BM25Recommender,
    CosineRecommender,
    ItemItemRecommender,
    TFIDFRecommender,
)

__version__ = "0.1.0"

__all__ = [
    "BM25Recommender",
    "CosineRecommender",
    "CudaError",
    "EmbeddingIndex",
    "Encoding",
    "HnswIndex",
    "IoError",
    "ItemItemRecommender",
    "LogisticRegression",
    "ParseError",
    "SentenceEncoder",
    "SequenceClassifier",
    "ShapeError",
    "ShopmlError",
    "ShopmlValueError",
    "TFIDFRecommender",
    "Tokenizer",
    "num_threads",
    "set_num_threads",
]
