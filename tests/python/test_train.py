"""SequenceClassifier: fine-tuning from Python. Its logits against transformers' (the
fine-tuning goldens of tests/train, made by scripts/golden/finetune.py), and fit, predict,
save/load, callbacks and bad input on real English reviews."""

import json
import shutil
import struct

import numpy as np
import pytest

import shopml
from conftest import DATA, GOLDEN, read_safetensors


def sentences(file, first, count):
    """(texts, labels) of lines [first, first + count) of a shared sentiment file."""
    lines = (DATA / "reviews-en" / file).read_text(encoding="utf-8").split("\n")[first : first + count]
    pairs = [line.rsplit("\t", 1) for line in lines]
    return [t for t, _ in pairs], ["positive" if y.strip() == "1" else "negative" for _, y in pairs]


def write_safetensors(path, tensors):
    header, offset, body = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        body.append(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(body))


@pytest.fixture(scope="module")
def reviews():
    return {"train": sentences("amazon_cells_labelled.txt", 0, 160), "test": sentences("yelp_labelled.txt", 0, 200)}


def test_logits_match_transformers_with_the_same_head(model_dir, tmp_path):
    # The golden case seq2_en: all-MiniLM-L6-v2 with the head PyTorch initialised, and
    # transformers' logits for its first batch (dropout off). The same checkpoint, saved as
    # a BertForSequenceClassification directory, must give the same logits from texts.
    golden, meta = read_safetensors(GOLDEN / "finetune" / "seq2_en.safetensors")
    tensors, _ = read_safetensors(model_dir / "model.safetensors")
    tensors = {name: t for name, t in tensors.items()}
    tensors["classifier.weight"] = golden["init.classifier.weight"]
    tensors["classifier.bias"] = golden["init.classifier.bias"]
    write_safetensors(tmp_path / "model.safetensors", tensors)
    config = json.loads((model_dir / "config.json").read_text())
    config.update(architectures=["BertForSequenceClassification"], id2label={"0": "negative", "1": "positive"})
    (tmp_path / "config.json").write_text(json.dumps(config))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (model_dir / name).exists():
            shutil.copy(model_dir / name, tmp_path / name)

    clf = shopml.SequenceClassifier.from_pretrained(tmp_path)
    assert clf.labels == ["negative", "positive"]
    refs = json.loads(meta["examples"])[0]
    ids, mask = golden["input_ids.0"], golden["attention_mask.0"]
    rows, texts = [], []
    for row, (ref,) in enumerate(refs):
        if ":line" not in ref:
            continue  # the case's CSV records: the C++ test covers them
        file, line = ref.split(":line")
        text = (DATA / file).read_text(encoding="utf-8").split("\n")[int(line)].rsplit("\t", 1)[0]  # as finetune.py numbers lines
        assert clf.tokenizer.encode(text).ids.tolist() == ids[row][mask[row] == 1].tolist()[:128], ref
        rows.append(row)
        texts.append(text)
    assert len(rows) >= 10
    logits = clf.logits(texts, threads=2)
    assert logits.shape == (len(rows), 2) and logits.dtype == np.float32
    np.testing.assert_allclose(logits, golden["step0.logits"][rows], atol=2e-5)
    p = clf.predict_proba(texts)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    assert clf.predict(texts) == [clf.labels[i] for i in logits.argmax(axis=1)]


def test_fit_learns_review_sentiment_and_reports_each_step(model_dir, reviews):
    texts, labels = reviews["train"]
    test_texts, test_labels = reviews["test"]
    clf = shopml.SequenceClassifier.from_pretrained(model_dir, labels=["negative", "positive"], pooling="mean", seed=7)
    before = clf.evaluate(test_texts, test_labels, threads=2)
    steps, epochs = [], []
    history = clf.fit(
        texts, labels, eval_texts=test_texts, eval_labels=test_labels, epochs=2, batch_size=16, learning_rate=1e-4,
        warmup_ratio=0.1, threads=2, progress=False, on_step=steps.append, on_epoch=epochs.append,
    )
    assert [s["step"] for s in history["steps"]] == list(range(1, 21)) and history["steps"] == steps
    assert history["epochs"] == epochs and [e["epoch"] for e in epochs] == [0, 1]
    assert all(s["total_steps"] == 20 and np.isfinite(s["loss"]) and s["grad_norm"] > 0 for s in steps)
    # transformers' linear schedule, 2 warm-up steps of 20: 0, 5e-5, 1e-4, then down to 1e-4 / 18.
    assert [s["learning_rate"] for s in steps[:3]] == pytest.approx([0.0, 5e-5, 1e-4])
    assert steps[-1]["learning_rate"] == pytest.approx(1e-4 / 18)
    after = clf.evaluate(test_texts, test_labels, threads=2)
    assert after["rows"] == 200 and epochs[-1]["eval_accuracy"] == pytest.approx(after["accuracy"])
    assert after["accuracy"] >= 0.8 and after["accuracy"] > before["accuracy"] + 0.15, (before, after)
    assert after["loss"] < before["loss"]
    predicted = clf.predict(test_texts, threads=2)
    assert np.mean(np.array(predicted) == np.array(test_labels)) == pytest.approx(after["accuracy"])


def test_same_seed_same_model_and_save_pretrained_round_trip(model_dir, reviews, tmp_path):
    texts, labels = reviews["train"]
    probe = reviews["test"][0][:20]
    runs = []
    for _ in range(2):
        clf = shopml.SequenceClassifier.from_pretrained(model_dir, labels=["negative", "positive"], seed=3)
        clf.fit(texts[:48], labels[:48], epochs=1, batch_size=8, learning_rate=5e-5, threads=2, progress=False)
        runs.append(clf)
    p = runs[0].predict_proba(probe, threads=2)
    np.testing.assert_array_equal(p, runs[1].predict_proba(probe, threads=2))
    runs[0].save_pretrained(tmp_path / "saved")
    loaded = shopml.SequenceClassifier.from_pretrained(tmp_path / "saved")
    assert loaded.labels == ["negative", "positive"]
    np.testing.assert_allclose(loaded.predict_proba(probe, threads=2), p, atol=1e-6)


def test_text_pair_regression(model_dir):
    first, _ = sentences("imdb_labelled.txt", 0, 24)
    second, _ = sentences("imdb_labelled.txt", 24, 24)
    values = np.linspace(0.0, 1.0, 24)
    reg = shopml.SequenceClassifier.from_pretrained(model_dir, num_labels=1)
    history = reg.fit(first, values, text_pairs=second, epochs=1, batch_size=8, learning_rate=5e-5, threads=2, progress=False)
    assert len(history["steps"]) == 3
    predicted = reg.predict(first[:4], text_pairs=second[:4])
    assert len(predicted) == 4 and all(isinstance(v, float) for v in predicted)
    with pytest.raises(shopml.ShopmlValueError, match="regression"):
        reg.predict_proba(first[:4], text_pairs=second[:4])
    with pytest.raises(shopml.ShopmlValueError, match="not label names"):
        reg.fit(first, ["a"] * 24, text_pairs=second, max_steps=1)


def test_an_exception_in_a_callback_ends_fit_with_it(model_dir, reviews):
    texts, labels = reviews["train"]
    clf = shopml.SequenceClassifier.from_pretrained(model_dir, labels=["negative", "positive"])
    seen = []

    def stop_at_two(step):
        seen.append(step["step"])
        if step["step"] == 2:
            raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        clf.fit(texts[:64], labels[:64], epochs=1, batch_size=8, threads=2, progress=False, on_step=stop_at_two)
    assert seen == [1, 2]


def test_bad_input_is_refused_with_the_reason(model_dir, reviews):
    texts, labels = reviews["train"]
    clf = shopml.SequenceClassifier.from_pretrained(model_dir, labels=["negative", "positive"])
    probe = clf.predict_proba(texts[:3])
    with pytest.raises(shopml.ShopmlValueError, match="neutral"):
        clf.fit(texts[:3], ["negative", "neutral", "positive"], max_steps=1)
    with pytest.raises(shopml.ShopmlValueError, match="3 texts but 2"):
        clf.fit(texts[:3], labels[:2], max_steps=1)
    with pytest.raises(shopml.ShopmlValueError, match="not floats"):
        clf.fit(texts[:3], [0.5, 1.0, 0.0], max_steps=1)
    with pytest.raises(shopml.ShopmlValueError, match="eval_texts and eval_labels"):
        clf.fit(texts[:3], labels[:3], eval_texts=texts[:3], max_steps=1)
    with pytest.raises(shopml.ShopmlValueError, match="text_pairs"):
        clf.predict_proba(texts[:3], text_pairs=texts[:2])
    with pytest.raises(shopml.ShopmlValueError, match="lr must be positive"):
        clf.fit(texts[:3], labels[:3], learning_rate=0.0)
    with pytest.raises(shopml.ShopmlValueError, match="pooling"):
        shopml.SequenceClassifier.from_pretrained(model_dir, pooling="max")
    with pytest.raises(shopml.IoError):
        shopml.SequenceClassifier.from_pretrained(model_dir / "missing")
    np.testing.assert_array_equal(clf.predict_proba(texts[:3]), probe)  # nothing changed
