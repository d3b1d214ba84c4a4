"""scikit-learn side of bench/peers/logreg.sh, and the comparison with shopml.

Splits FEATURES (.npy float32) / LABELS (one per line) 80/20 stratified (random_state=0),
fits sklearn.linear_model.LogisticRegression(solver="lbfgs") and the shopml program
(logreg_peer) on the same rows with the same C, tol, max_iter and thread count, REPEATS
times each, and prints the RESULT line with medians.

usage: logreg_peer.py SHOPML_BINARY FEATURES LABELS THREADS REPEATS C MAX_ITER TOL
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits


def main():
    binary, features, labels_path, threads, repeats, C, max_iter, tol = sys.argv[1:9]
    threads, repeats, C, max_iter, tol = int(threads), int(repeats), float(C), int(max_iter), float(tol)
    X = np.load(features)
    with open(labels_path, encoding="utf-8") as f:
        y = np.array([line.rstrip("\n") for line in f if line.strip()])
    if X.shape[0] != y.shape[0]:
        raise SystemExit(f"{features} has {X.shape[0]} rows, {labels_path} {y.shape[0]} labels")
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)

    with tempfile.TemporaryDirectory() as tmp:
        train_path, test_path = os.path.join(tmp, "train.txt"), os.path.join(tmp, "test.txt")
        coef_path = os.path.join(tmp, "coef.f64")
        np.savetxt(train_path, train, fmt="%d")
        np.savetxt(test_path, test, fmt="%d")

        # sklearn: same float32 matrix, BLAS limited to the same thread count.
        X_train, y_train = np.ascontiguousarray(X[train]), y[train]
        times = []
        with threadpool_limits(threads):
            for _ in range(repeats):
                model = LogisticRegression(solver="lbfgs", C=C, max_iter=max_iter, tol=tol)
                start = time.perf_counter()
                model.fit(X_train, y_train)
                times.append(time.perf_counter() - start)
            sk_accuracy = float((model.predict(X[test]) == y[test]).mean())
        sk_time = statistics.median(times)
        sk_coef = np.hstack([model.coef_, model.intercept_[:, None]]).astype(np.float64)

        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        out = subprocess.run([binary, features, labels_path, train_path, test_path, str(C), str(threads),
                              str(repeats), str(max_iter), str(tol), coef_path],
                             check=True, capture_output=True, text=True, env=env).stdout
        print("shopml:", out.strip())
        fields = dict(kv.split("=") for kv in out.split())
        ours = np.fromfile(coef_path, dtype=np.float64).reshape(sk_coef.shape)

    print(f"sklearn: fit_seconds_median={sk_time:.6f} accuracy={sk_accuracy:.6f} n_iter={int(model.n_iter_[0])} "
          f"rows={len(train)} threads={threads} dtype={X.dtype}")
    coef_rel_diff = float(np.linalg.norm(ours - sk_coef) / np.linalg.norm(sk_coef))
    speedup = sk_time / float(fields["fit_seconds_median"])
    print(f"RESULT rows={len(train)} accuracy={float(fields['accuracy']):.4f} sklearn_accuracy={sk_accuracy:.4f} "
          f"coef_rel_diff={coef_rel_diff:.2e} speedup_fit={speedup:.2f}")


if __name__ == "__main__":
    main()
