"""Golden files for shopml::linear_model and shopml::metrics (scikit-learn 1.9.1).

Run:  "$(scripts/golden/make-venv.sh)" scripts/golden/linear_model.py

Inputs (real shared data, embedded with sentence-transformers all-MiniLM-L6-v2):
  en    all 2,838 English labelled sentences (reviews-en amazon, yelp, imdb; in that
        order, blank lines skipped): binary sentiment, integer labels 0/1
  shop  2,000 rows of reviews-zh/online_shopping_10_cats.csv drawn with
        numpy.random.default_rng(5) (row numbers stored): 10 product categories (string
        labels, imbalanced as in the file) and binary sentiment
Outputs (tests/golden/linear_model/):
  features.safetensors  en_X, shop_X (F32 embeddings), shop_rows (I64 CSV data row of each)
  cases.safetensors     per case: <case>.coef/.intercept (F64), .train/.test (I64 row
                        indices), .pred (I64 class index predicted for every row),
                        .proba_test (F64)
  cases.json            labels, per-case parameters, sklearn.metrics on sklearn's test
                        predictions (incl. classification_report text), and metric edge
                        cases (ties, zero division, clipped probabilities)
"""
import json
import pathlib
import sys

import numpy as np
import sklearn
from safetensors.numpy import save_file
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix, f1_score,
                             log_loss, precision_recall_fscore_support, roc_auc_score)
from sklearn.model_selection import train_test_split

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "peers"))
import logreg_embed  # noqa: E402  (the shared loaders + encoder of the peer benchmark)

OUT = REPO / "tests" / "golden" / "linear_model"
TIGHT = 1e-10  # tolerances tight enough that both solvers reach the optimum


def datasets():
    en_texts, en_tasks = logreg_embed.load_dataset("english")
    shop_texts, shop_tasks = logreg_embed.load_dataset("shopping")
    rows = np.sort(np.random.default_rng(5).choice(len(shop_texts), size=2000, replace=False))
    return {
        "en_X": logreg_embed.encode_reference(en_texts),
        "en_sentiment": np.array([int(v) for v in en_tasks["sentiment"]], dtype=np.int64),
        "shop_rows": rows.astype(np.int64),
        "shop_X": logreg_embed.encode_reference([shop_texts[i] for i in rows]),
        "shop_category": np.array([shop_tasks["category"][i] for i in rows]),
        "shop_sentiment": np.array([int(shop_tasks["sentiment"][i]) for i in rows], dtype=np.int64),
    }


# name, features, labels, LogisticRegression parameters, sample weights rule
CASES = [
    ("en_c1_default_tol", "en_X", "en_sentiment", dict(C=1.0), None),
    ("en_c1", "en_X", "en_sentiment", dict(C=1.0, tol=TIGHT, max_iter=10000), None),
    ("en_c005", "en_X", "en_sentiment", dict(C=0.05, tol=TIGHT, max_iter=10000), None),
    ("en_c1_sample_weight", "en_X", "en_sentiment", dict(C=1.0, tol=TIGHT, max_iter=10000), "1+row%3"),
    ("shop_cat_c1", "shop_X", "shop_category", dict(C=1.0, tol=TIGHT, max_iter=10000), None),
    ("shop_cat_c10_balanced", "shop_X", "shop_category",
     dict(C=10.0, class_weight="balanced", tol=TIGHT, max_iter=10000), None),
    ("shop_cat_c03_no_intercept", "shop_X", "shop_category",
     dict(C=0.3, fit_intercept=False, tol=TIGHT, max_iter=10000), None),
    ("shop_sent_c2_balanced_weighted", "shop_X", "shop_sentiment",
     dict(C=2.0, class_weight="balanced", tol=TIGHT, max_iter=10000), "1+row%3"),
]


def label_list(values):
    return [v.item() if hasattr(v, "item") else v for v in values]


def metrics_of(y_true, y_pred, proba, classes):
    """sklearn.metrics on one set of predictions (the ones the C++ metrics must reproduce)."""
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0.0)
    out = {
        "accuracy": accuracy_score(y_true, y_pred),
        "precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": s.tolist(),
        "confusion_matrix": confusion_matrix(y_true, y_pred).tolist(),
        "log_loss": log_loss(y_true, proba, labels=classes),
        "report": classification_report(y_true, y_pred, digits=2),
        "report_digits4": classification_report(y_true, y_pred, digits=4),
    }
    for avg in ("macro", "weighted", "micro"):
        ap, ar, af, _ = precision_recall_fscore_support(y_true, y_pred, average=avg)
        out[f"precision_{avg}"], out[f"recall_{avg}"], out[f"f1_{avg}"] = ap, ar, af
    if len(classes) == 2:
        out["roc_auc"] = roc_auc_score(y_true, proba[:, 1])
        out["f1_binary"] = f1_score(y_true, y_pred, pos_label=classes[1])
    else:
        out["roc_auc_ovr_macro"] = roc_auc_score(y_true, proba, multi_class="ovr", average="macro")
        out["roc_auc_ovr_weighted"] = roc_auc_score(y_true, proba, multi_class="ovr", average="weighted")
    return out


def main():
    data = datasets()
    tensors = {"en_X": data["en_X"], "shop_X": data["shop_X"], "shop_rows": data["shop_rows"]}
    save_file(tensors, str(OUT / "features.safetensors"),
              metadata={"model": "sentence-transformers/all-MiniLM-L6-v2",
                        "sentence_transformers_max_seq_length": "256"})

    labels_json = {k: label_list(data[k]) for k in ("en_sentiment", "shop_category", "shop_sentiment")}
    out_tensors, cases = {}, []
    for name, xkey, ykey, params, weight_rule in CASES:
        X = data[xkey].astype(np.float64)
        y = data[ykey]
        rows = np.arange(len(y))
        train, test = train_test_split(rows, test_size=0.25, stratify=y, random_state=0)
        weights = None
        if weight_rule == "1+row%3":
            weights = 1.0 + (rows % 3)
        model = LogisticRegression(solver="lbfgs", **params)
        model.fit(X[train], y[train], sample_weight=None if weights is None else weights[train])
        classes = label_list(model.classes_)
        pred = model.predict(X)
        proba = model.predict_proba(X[test])
        index_of = {c: i for i, c in enumerate(classes)}
        out_tensors[f"{name}.coef"] = np.ascontiguousarray(model.coef_, dtype=np.float64)
        out_tensors[f"{name}.intercept"] = np.ascontiguousarray(model.intercept_, dtype=np.float64)
        out_tensors[f"{name}.train"] = train.astype(np.int64)
        out_tensors[f"{name}.test"] = test.astype(np.int64)
        out_tensors[f"{name}.pred"] = np.array([index_of[label_list([v])[0]] for v in pred], dtype=np.int64)
        out_tensors[f"{name}.proba_test"] = np.ascontiguousarray(proba, dtype=np.float64)
        case = {"name": name, "features": xkey, "labels": ykey, "sample_weight": weight_rule,
                "params": {"C": params["C"], "tol": params.get("tol", 1e-4),
                           "max_iter": params.get("max_iter", 100),
                           "fit_intercept": params.get("fit_intercept", True),
                           "class_weight": params.get("class_weight")},
                "classes": classes, "n_iter": int(model.n_iter_[0]),
                "metrics": metrics_of(y[test], pred[test], proba, model.classes_)}
        cases.append(case)
        print(name, "n_iter", case["n_iter"], "accuracy", case["metrics"]["accuracy"])

    # Metric edge cases on real predictions: ties in scores, a class never predicted,
    # probabilities of exactly 0 and 1.
    first = cases[1]
    y_true = data["en_sentiment"][out_tensors["en_c1.test"]]
    proba = out_tensors["en_c1.proba_test"]
    tied = np.round(proba[:, 1], 1)
    hard = np.round(proba, 0)
    cat = cases[4]
    cat_true = data["shop_category"][out_tensors["shop_cat_c1.test"]]
    cat_pred = np.array(cat["classes"])[out_tensors["shop_cat_c1.pred"][out_tensors["shop_cat_c1.test"]]]
    rare = min(cat["classes"], key=lambda c: (cat_true == c).sum())
    commonest = max(cat["classes"], key=lambda c: (cat_true == c).sum())
    no_rare = np.where(cat_pred == rare, commonest, cat_pred)
    edge = {
        "tied_scores": tied.tolist(),
        "roc_auc_tied": roc_auc_score(y_true, tied),
        "hard_proba": hard.tolist(),
        "log_loss_hard": log_loss(y_true, hard),
        "never_predicted_class": rare,
        "no_rare_pred": no_rare.tolist(),
        "no_rare_metrics": metrics_of(cat_true, no_rare, out_tensors["shop_cat_c1.proba_test"], cat["classes"]),
    }
    assert first["name"] == "en_c1" and cat["name"] == "shop_cat_c1"

    save_file(out_tensors, str(OUT / "cases.safetensors"))
    (OUT / "cases.json").write_text(json.dumps(
        {"sklearn": sklearn.__version__, "labels": labels_json, "cases": cases, "edge": edge},
        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    main()
