"""Item-item recommenders with implicit's names (fit, similar_items, recommend), on
scipy.sparse users × items matrices."""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Union

import numpy as np

from . import _shopml_ext as _ext

_INT32_MAX = np.iinfo(np.int32).max


def csr_parts(matrix: Any) -> Tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, indptr, indices, data) of a scipy.sparse matrix as int64, int32 and
    float64 arrays: the matrix's own indices and data when it is a canonical CSR matrix of
    those dtypes (no copy; scipy's int32 indptr, rows + 1 entries, is widened), otherwise
    converted once. fit then makes the one copy the C++ fit needs (an owning matrix);
    recommend reads the user's row in place."""
    import scipy.sparse

    if not scipy.sparse.issparse(matrix):
        raise TypeError(f"expected a scipy.sparse matrix (users × items, CSR), got {type(matrix).__name__}")
    if matrix.format != "csr":
        matrix = matrix.tocsr()
    if not matrix.has_canonical_format:  # unsorted or duplicate entries: sum them on a copy
        matrix = matrix.copy()
        matrix.sum_duplicates()
    rows, cols = matrix.shape
    if rows > _INT32_MAX or cols > _INT32_MAX or matrix.nnz > _INT32_MAX:
        raise _ext.ShapeError(f"[shopml.shape] a {rows} × {cols} matrix with {matrix.nnz} entries exceeds int32 indexing")
    return (
        rows,
        cols,
        np.ascontiguousarray(matrix.indptr, dtype=np.int64),
        np.ascontiguousarray(matrix.indices, dtype=np.int32),
        np.ascontiguousarray(matrix.data, dtype=np.float64),
    )


class ItemItemRecommender:
    """implicit's ItemItemRecommender family: the K most similar items of every item by
    `measure` (dot, cosine, tfidf, bm25, adjusted_cosine, pearson, jaccard)."""

    def __init__(
        self,
        K: int = 20,
        measure: str = "cosine",
        K1: float = 1.2,
        B: float = 0.75,
        shrinkage: float = 0.0,
        max_history: int = 0,
        threads: int = 0,
    ) -> None:
        self._model = _ext._ItemItemRecommender(measure, K, K1, B, shrinkage, max_history, threads)

    def fit(self, user_items: Any) -> "ItemItemRecommender":
        """Computes the item similarity from a users × items scipy.sparse matrix."""
        self._model.fit(*csr_parts(user_items))
        return self

    def similar_items(self, itemid: int, N: int = 10, include_self: bool = True) -> Tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the item's kept neighbours, best first (itself included, as implicit does)."""
        return self._model.similar_items(int(itemid), N, include_self)

    def recommend(
        self,
        userid: Union[int, np.ndarray],
        user_items: Any,
        N: int = 10,
        filter_already_liked_items: bool = True,
        filter_items: Optional[np.ndarray] = None,
        items: Optional[np.ndarray] = None,
        threads: int = 0,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """As implicit 0.7: user_items holds one row per user in `userid` (user_items[userid]).
        A single user gives 1-D (ids, scores); an array of users gives [users × N] arrays
        padded with id -1 and score -FLT_MAX."""
        rows, cols, indptr, indices, data = csr_parts(user_items)
        filter_items = None if filter_items is None else np.ascontiguousarray(filter_items, dtype=np.int32)
        items = None if items is None else np.ascontiguousarray(items, dtype=np.int32)
        users = np.atleast_1d(userid)
        if rows != len(users):
            raise _ext.ShapeError(
                f"[shopml.shape] recommend: user_items has {rows} rows for {len(users)} users; pass user_items[userid]"
            )
        if cols != self._model.n_items:
            raise _ext.ShapeError(
                f"[shopml.shape] recommend: user_items has {cols} columns, the model knows {self._model.n_items} items"
            )
        if np.ndim(userid) == 0:
            begin, end = indptr[0], indptr[1]
            return self._model.recommend_row(
                indices[begin:end], data[begin:end], N, filter_already_liked_items, filter_items, items
            )
        return self._model.recommend_rows(
            rows, cols, indptr, indices, data, N, filter_already_liked_items, filter_items, items, threads
        )

    @property
    def similarity(self) -> Any:
        """items × items scipy.sparse.csr_matrix: row i holds i's kept neighbours."""
        import scipy.sparse

        indptr, indices, data = self._model.similarity_arrays
        n = self._model.n_items
        return scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, n))

    @property
    def n_items(self) -> int:
        return self._model.n_items

    @property
    def K(self) -> int:
        return self._model.K

    @property
    def measure(self) -> str:
        return self._model.measure

    def save(self, path: Union[str, os.PathLike]) -> None:
        self._model.save(os.fspath(path))

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "ItemItemRecommender":
        out = cls.__new__(cls)
        out._model = _ext._ItemItemRecommender.load(os.fspath(path))
        return out


class CosineRecommender(ItemItemRecommender):
    """implicit.nearest_neighbours.CosineRecommender."""

    def __init__(self, K: int = 20, threads: int = 0) -> None:
        super().__init__(K=K, measure="cosine", threads=threads)


class TFIDFRecommender(ItemItemRecommender):
    """implicit.nearest_neighbours.TFIDFRecommender."""

    def __init__(self, K: int = 20, threads: int = 0) -> None:
        super().__init__(K=K, measure="tfidf", threads=threads)


class BM25Recommender(ItemItemRecommender):
    """implicit.nearest_neighbours.BM25Recommender."""

    def __init__(self, K: int = 20, K1: float = 1.2, B: float = 0.75, threads: int = 0) -> None:
        super().__init__(K=K, measure="bm25", K1=K1, B=B, threads=threads)
