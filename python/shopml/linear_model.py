"""LogisticRegression with scikit-learn's names, for integer or string labels."""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

import numpy as np

from . import _shopml_ext as _ext


class LogisticRegression:
    """scikit-learn's LogisticRegression (lbfgs, L2): fit, predict_proba, predict, save/load.

    The label type is taken from y at fit: integers (any numpy integer dtype or Python
    ints) or strings. X is converted to float64 once when it is another dtype or layout.
    """

    def __init__(
        self,
        C: float = 1.0,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float = 1e-4,
        class_weight: Union[None, str, dict] = None,
        threads: int = 0,
    ) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.threads = threads
        self._model: Any = None

    def fit(self, X: Any, y: Sequence, sample_weight: Optional[Any] = None) -> "LogisticRegression":
        labels = np.asarray(y)
        if labels.ndim != 1:
            raise _ext.ShapeError(f"[shopml.shape] fit: y must be 1-D, got shape {labels.shape}")
        if labels.dtype.kind in "iub":
            head, labels = _ext._LogisticRegressionInt, labels.astype(np.int64).tolist()
        elif labels.dtype.kind in "UO":
            if not all(isinstance(v, str) for v in labels.tolist()):
                raise TypeError("fit: y must hold only integers or only strings")
            head, labels = _ext._LogisticRegressionStr, labels.tolist()
        else:
            raise TypeError(f"fit: y must hold integers or strings, got dtype {labels.dtype}")
        model = head(self.C, self.fit_intercept, self.max_iter, self.tol, self.class_weight, self.threads)
        weights = None if sample_weight is None else _float64_vector(sample_weight)
        model.fit(_float64_rows(X), labels, weights)
        self._model = model
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """[n × n_classes] probabilities, columns in classes_ order."""
        return self._fitted().predict_proba(_float64_rows(X))

    def decision_function(self, X: Any) -> np.ndarray:
        return self._fitted().decision_function(_float64_rows(X))

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self._fitted().predict(_float64_rows(X)))

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self._fitted().classes_)

    @property
    def coef_(self) -> np.ndarray:
        return self._fitted().coef_

    @property
    def intercept_(self) -> np.ndarray:
        return self._fitted().intercept_

    @property
    def n_iter_(self) -> int:
        return self._fitted().n_iter_

    @property
    def n_features_in_(self) -> int:
        return self._fitted().n_features_in_

    def save(self, path: Union[str, os.PathLike]) -> None:
        """A safetensors file that C++ `linear_model::load_head` reads too."""
        self._fitted().save(os.fspath(path))

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "LogisticRegression":
        path = os.fspath(path)
        label_type = _ext._head_label_type(path)
        model = (_ext._LogisticRegressionStr if label_type == "string" else _ext._LogisticRegressionInt).load(path)
        out = cls()
        out._model = model
        return out

    def _fitted(self) -> Any:
        if self._model is None:
            raise _ext.ShopmlValueError("[shopml.value] LogisticRegression: call fit (or load) first")
        return self._model


def _float64_rows(X: Any) -> np.ndarray:
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise _ext.ShapeError(f"[shopml.shape] X must be 2-D (samples × features), got shape {X.shape}")
    return X


def _float64_vector(v: Any) -> np.ndarray:
    v = np.ascontiguousarray(v, dtype=np.float64)
    if v.ndim != 1:
        raise _ext.ShapeError(f"[shopml.shape] sample_weight must be 1-D, got shape {v.shape}")
    return v
