"""LogisticRegression against scikit-learn 1.9.1's goldens (tests/golden/linear_model, the
files tests/linear_model/test_logistic_regression.cpp checks the C++ against)."""

import json

import numpy as np
import pytest

import shopml
from conftest import GOLDEN, read_safetensors

CASES = json.loads((GOLDEN / "linear_model" / "cases.json").read_text())
FEATURES, _ = read_safetensors(GOLDEN / "linear_model" / "features.safetensors")
TENSORS, _ = read_safetensors(GOLDEN / "linear_model" / "cases.safetensors")


def case(name):
    c = next(c for c in CASES["cases"] if c["name"] == name)
    X = FEATURES[c["features"]]
    y = np.asarray(CASES["labels"][c["labels"]])
    train, test = TENSORS[name + ".train"], TENSORS[name + ".test"]
    weight = 1.0 + (train % 3) if c["sample_weight"] == "1+row%3" else None
    return c, X, y, train, test, weight


@pytest.mark.parametrize("name", ["en_c1_default_tol", "en_c1_sample_weight", "shop_cat_c10_balanced", "shop_cat_c03_no_intercept"])
def test_fit_matches_sklearn(name):
    c, X, y, train, test, weight = case(name)
    p = c["params"]
    model = shopml.LogisticRegression(
        C=p["C"], tol=p["tol"], max_iter=p["max_iter"], fit_intercept=p["fit_intercept"], class_weight=p["class_weight"]
    )
    model.fit(X[train], y[train], sample_weight=weight)  # float32 rows: converted to float64 once
    assert model.classes_.tolist() == c["classes"]
    ref = TENSORS[name + ".coef"]
    assert np.linalg.norm(model.coef_ - ref) / np.linalg.norm(ref) <= 1e-3
    b_ref = TENSORS[name + ".intercept"].ravel()
    assert np.linalg.norm(model.intercept_ - b_ref) <= 1e-3 * max(1.0, np.linalg.norm(b_ref))
    classes = np.asarray(c["classes"])
    assert np.mean(model.predict(X) == classes[TENSORS[name + ".pred"]]) >= 0.999
    proba = model.predict_proba(X[test])
    assert proba.shape == (len(test), len(classes))
    assert np.abs(proba - TENSORS[name + ".proba_test"]).max() <= 1e-3
    if name == "en_c1_default_tol":
        assert model.n_iter_ == c["n_iter"]  # the same L-BFGS path as scikit-learn


def test_save_and_load_give_the_same_predictions(tmp_path):
    for name in ("en_c1_default_tol", "shop_cat_c1"):
        c, X, y, train, _, _ = case(name)
        model = shopml.LogisticRegression(C=1.0).fit(X[train], y[train])
        path = tmp_path / f"{name}.safetensors"
        model.save(path)
        again = shopml.LogisticRegression.load(path)
        assert again.classes_.tolist() == model.classes_.tolist()
        assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
        assert np.array_equal(again.predict(X), model.predict(X))


def test_bad_input_raises_clear_errors():
    c, X, y, train, _, _ = case("en_c1_default_tol")
    model = shopml.LogisticRegression()
    with pytest.raises(shopml.ShapeError, match=r"\[shopml.shape\] fit: X has 10 rows but y has 9 labels"):
        model.fit(X[:10], y[:9])
    with pytest.raises(shopml.ShopmlValueError, match="only one class"):
        model.fit(X[:5], np.zeros(5, dtype=int))
    with pytest.raises(shopml.ShopmlValueError, match="call fit"):
        shopml.LogisticRegression().predict(X)
    bad = X[:10].astype(np.float64)
    bad[3, 7] = np.nan
    with pytest.raises(ValueError, match=r"X\[3, 7\] is nan"):
        model.fit(bad, y[:10])
    model.fit(X[train], y[train])
    with pytest.raises(shopml.ShapeError):
        model.predict_proba(X[:, :10])
    with pytest.raises(shopml.ShapeError, match="2-D"):
        model.predict(X[0])
    with pytest.raises(shopml.ShopmlValueError, match="class_weight"):
        shopml.LogisticRegression(class_weight="even").fit(X[train], y[train])
