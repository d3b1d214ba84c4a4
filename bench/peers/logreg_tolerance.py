"""Why bench/peers/logreg.sh fits with tol=1e-5: scikit-learn alone, on the float32 and the
float64 copy of the same training rows, at each tolerance (same split as logreg_peer.py).

At sklearn's default 1e-4 the two fits stop far from the optimum at points that float
rounding picks; from 1e-5 on they agree on held-out accuracy.

usage: logreg_tolerance.py [FEATURES.npy LABELS.txt]   (default: the cached shopping matrix)
"""
import pathlib
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

CACHE = pathlib.Path.home() / ".cache/shopml/embeddings"


def main():
    features, labels = (sys.argv[1:3] if len(sys.argv) == 3
                        else (CACHE / "shopping.minilm.npy", CACHE / "shopping.sentiment.txt"))
    X = np.load(features)
    y = np.array(pathlib.Path(labels).read_text(encoding="utf-8").split())
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
    with threadpool_limits(1):
        for tol in (1e-4, 1e-5, 1e-6):
            coef, accuracy = {}, {}
            for dtype in (np.float32, np.float64):
                model = LogisticRegression(tol=tol, max_iter=5000).fit(X[train].astype(dtype), y[train])
                coef[dtype] = model.coef_.ravel().astype(np.float64)
                accuracy[dtype] = float((model.predict(X[test].astype(dtype)) == y[test]).mean())
                print(f"tol={tol:g} {dtype.__name__}: n_iter={model.n_iter_[0]} accuracy={accuracy[dtype]:.4f}")
            diff = np.linalg.norm(coef[np.float32] - coef[np.float64]) / np.linalg.norm(coef[np.float64])
            print(f"tol={tol:g} float32 vs float64: coef_rel_diff={diff:.2e} "
                  f"accuracy_diff={abs(accuracy[np.float32] - accuracy[np.float64]):.4f}")


if __name__ == "__main__":
    main()
