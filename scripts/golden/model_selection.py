"""Golden files for shopml::model_selection::kfold / stratified_kfold (scikit-learn 1.9.1).

Run:  "$(scripts/golden/make-venv.sh)" scripts/golden/model_selection.py

Output: tests/golden/model_selection/kfold.json, one entry per case:
  kind       "kfold" or "stratified"
  n_splits   folds
  n / labels the number of rows (kfold) or the labels (stratified; ints or strings), or
  source     for the real data: "reviews-zh/online_shopping_10_cats.csv:<column>" (the
             labels are that column, read with Python's csv module)
  test_fold  the unshuffled split, as a string with one digit per row: the fold whose
             test part holds that row (sklearn's train part is every other row, both in
             increasing order; checked here)
  shuffled   the split with shuffle=True, random_state=0: what does not depend on the
             random stream, test fold sizes and, for stratified, each class's count per
             test fold ({label: [count in fold 0, ...]})
The C++ test rebuilds the unshuffled splits index for index and checks the shuffled
ones' invariants (its random stream is not numpy's).
"""
import csv
import json
import pathlib

import numpy as np
import sklearn
from sklearn.model_selection import KFold, StratifiedKFold

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
OUT = REPO / "tests" / "golden" / "model_selection"


def fold_string(splitter, n, y):
    fold = np.full(n, -1)
    for i, (train, test) in enumerate(splitter.split(np.zeros((n, 1)), y)):
        assert (np.diff(train) > 0).all() and (np.diff(test) > 0).all()
        assert (fold[test] == -1).all()
        fold[test] = i
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(n))
    assert (fold >= 0).all() and splitter.get_n_splits() <= 10
    return "".join(str(f) for f in fold)


def shuffled(splitter, n, y):
    sizes, counts = [], {}
    classes = [] if y is None else list(dict.fromkeys(y.tolist()))
    for c in classes:
        counts[str(c)] = []
    for train, test in splitter.split(np.zeros((n, 1)), y):
        sizes.append(len(test))
        for c in classes:
            counts[str(c)].append(int((y[test] == c).sum()))
    out = {"test_sizes": sizes}
    if y is not None:
        out["class_counts"] = counts
    return out


def real_column(column):
    with open(DATA / "reviews-zh" / "online_shopping_10_cats.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    at = rows[0].index(column)
    return np.array([r[at] for r in rows[1:]])


def main():
    rng = np.random.default_rng(15)
    cases = []

    for n, k in [(10, 3), (7, 7), (103, 5), (2, 2), (50, 10)]:
        case = {"name": f"kfold_n{n}_k{k}", "kind": "kfold", "n_splits": k, "n": n}
        case["test_fold"] = fold_string(KFold(k), n, None)
        case["shuffled"] = shuffled(KFold(k, shuffle=True, random_state=0), n, None)
        cases.append(case)

    stratified = [
        # classes appear in an order other than sorted (2, then 0, then 1)
        ("ints_appearance_order", [2, 2, 0, 1, 0, 2, 1, 1, 0, 2, 2, 0, 1, 2, 0], 3),
        ("binary_imbalanced", rng.choice([0, 1], size=57, p=[0.8, 0.2]).tolist(), 5),
        # a class ("rare", 2 members) smaller than n_splits: sklearn warns, still splits
        ("strings_rare_class", rng.choice(["shoes", "bags", "hats"], size=40, p=[0.5, 0.3, 0.2]).tolist()
         + ["rare", "rare"], 4),
        ("strings_interleaved", ["b", "a"] * 9 + ["c"] * 5, 5),
        ("k_equals_n", [1, 0, 1, 0, 1, 0], 2),
    ]
    for name, labels, k in stratified:
        y = np.array(labels)
        case = {"name": name, "kind": "stratified", "n_splits": k, "labels": labels}
        case["test_fold"] = fold_string(StratifiedKFold(k), len(y), y)
        case["shuffled"] = shuffled(StratifiedKFold(k, shuffle=True, random_state=0), len(y), y)
        cases.append(case)

    for column, k in [("cat", 5), ("label", 10)]:
        y = real_column(column)
        case = {"name": f"reviews_zh_{column}_k{k}", "kind": "stratified", "n_splits": k,
                "source": f"reviews-zh/online_shopping_10_cats.csv:{column}", "n": len(y)}
        case["test_fold"] = fold_string(StratifiedKFold(k), len(y), y)
        case["shuffled"] = shuffled(StratifiedKFold(k, shuffle=True, random_state=0), len(y), y)
        cases.append(case)

    # What sklearn refuses (the C++ test checks that shopml refuses the same).
    errors = []
    for kind, k, labels in [("kfold", 1, [0, 1, 2]), ("kfold", 4, [0, 1, 2]),
                            ("stratified", 3, [0, 0, 1, 1]), ("stratified", 4, [0, 1, 2])]:
        try:
            splitter = KFold(k) if kind == "kfold" else StratifiedKFold(k)
            list(splitter.split(np.zeros((len(labels), 1)), np.array(labels)))
            raise AssertionError("sklearn accepted " + repr((kind, k, labels)))
        except ValueError as e:
            errors.append({"kind": kind, "n_splits": k, "labels": labels, "sklearn_message": str(e)})

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "kfold.json").write_text(json.dumps(
        {"sklearn": sklearn.__version__, "cases": cases, "errors": errors}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    for c in cases:
        print(c["name"], c["kind"], "k =", c["n_splits"], "shuffled test sizes", c["shuffled"]["test_sizes"])


if __name__ == "__main__":
    main()
