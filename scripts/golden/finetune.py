#!/usr/bin/env python3
"""Golden files for shopml's BERT fine-tuning (tests/finetune), made with transformers + torch.

1. Ten optimiser steps of all-MiniLM-L6-v2 fine-tuning on real shared-data texts, in float32 on
   the CPU, dropout off, eager attention, for four cases:
     seq2_en    BertForSequenceClassification, 2 labels: English review sentences (Kotzias et al.)
                with their sentiment, plus long women's-clothing reviews with "Recommended IND"
     seq5_zh    BertForSequenceClassification, 5 labels: Chinese shopping reviews, label = index of
                the category in CATEGORIES_ZH
     reg_pairs  BertForSequenceClassification, 1 label (regression, MSE): pairs (text_a, text_b) of
                English reviews, target 1.0 when both have the same sentiment label, else 0.0
     tok_zh_en  BertForTokenClassification, 3 labels: English and Chinese reviews split into words
                by the tokenizer's pre-tokenizer, label of a word by word_label(), aligned to the
                first sub-token of the word (other sub-tokens and special tokens -100)
     seq2_en_mean  as seq2_en (other texts), but the classifier reads the mean of the tokens
                (sentence-transformers' Pooling(mean), no pooler): MeanPoolingClassifier below,
                shopml's bert_for_sequence_classification with pooling = mean
   Each writes tests/golden/finetune/<case>.safetensors: the padded batches, the freshly
   initialised head, step-0 logits/loss/gradients, parameters before and after the 10 AdamW steps
   (sampled elements plus full-tensor norms), per-step losses, grad norms and learning rates, and
   a float64 run of step 0 as calibration (tests/golden/finetune/README.md lists every tensor).
2. Three tiny random BERTs (shape of tests/golden/nn/tiny_bert, float32) fine-tuned 3 AdamW steps
   and saved with save_pretrained (the third as a sentence-transformers model: Transformer,
   Pooling(mean), Dense(identity) as the classifier, saved by SentenceTransformer.save), with
   their eval-mode logits:
     tests/golden/finetune/tiny_seqcls/{config.json, model.safetensors, expected.json}
     tests/golden/finetune/tiny_tokcls/{config.json, model.safetensors, expected.json}
     tests/golden/finetune/tiny_meancls/{config.json, model.safetensors, modules.json,
       1_Pooling/config.json, 2_Dense/{config.json, model.safetensors}, expected.json}

Texts are chosen with numpy RandomState(<case seed>) from SHOPML_DATA_DIR; which line/record of
which file each example is, is in the metadata ("examples"). Takes about a minute at 2 threads;
reruns give byte-identical files.

Run: "$(scripts/golden/make-venv.sh)" scripts/golden/finetune.py [case ...]

3. With --csv FILE --out DIR [--seed N] [--pooling pooler|mean]: one case of the same kind and format from the records
   of any CSV (bench/peers/finetune.sh runs tests/train's parity test on it): columns
   text,label or text_a,text_b,label (or review,label, as the shared online_shopping_10_cats.csv);
   BertForSequenceClassification with one class per distinct label (sorted, numerically when
   every label is an integer; metadata "labels"); 160 records drawn with RandomState(seed)
   (with replacement only when the file has fewer); written to DIR/<file stem>.safetensors.
   The committed goldens are not touched by this mode.
"""
import argparse
import copy
import csv
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("SHOPML_DATA_DIR", ROOT.parent / "shared" / "data"))
MODEL = Path(os.environ.get("SHOPML_MODEL_DIR", Path.home() / ".cache/shopml/models/all-MiniLM-L6-v2"))
OUT = ROOT / "tests" / "golden" / "finetune"

MAX_LENGTH, BATCH, STEPS, WARMUP = 128, 16, 10, 2
LR, BETAS, EPS, WEIGHT_DECAY, MAX_GRAD_NORM = 1e-4, (0.9, 0.999), 1e-8, 0.01, 1.0
SAMPLE = 1024           # sampled elements per tensor larger than this
SAMPLE_SEEN = 768       # of them, for the embedding tables, from rows that batch 0 uses
SEEDS = {"seq2_en": 1001, "seq5_zh": 1002, "reg_pairs": 1003, "tok_zh_en": 1004, "seq2_en_mean": 1006}
NUM_LABELS = {"seq2_en": 2, "seq5_zh": 5, "reg_pairs": 1, "tok_zh_en": 3, "seq2_en_mean": 2}
CATEGORIES_ZH = ["书籍", "平板", "手机", "水果", "酒店"]
EN_SENTENCES = ["reviews-en/amazon_cells_labelled.txt", "reviews-en/yelp_labelled.txt",
                "reviews-en/imdb_labelled.txt"]
CLOTHING = "reviews-en/womens_clothing_reviews_sample.csv"
SHOPPING = "reviews-zh/online_shopping_10_cats.csv"


# ---------------------------------------------------------------- data
def sentences():
    """Every 'sentence<TAB>label' line of the three Kotzias et al. files: (text, label, source)."""
    out = []
    for rel in EN_SENTENCES:
        for i, line in enumerate((DATA / rel).read_text(encoding="utf-8").split("\n")):
            if "\t" in line:
                text, label = line.rsplit("\t", 1)
                out.append((text, int(label), f"{rel}:line{i}"))
    return out


def csv_records(rel):
    with open(DATA / rel, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))[1:]


def clothing():
    """Non-empty 'Review Text' of the clothing reviews with 'Recommended IND' (0/1)."""
    return [(r[4], int(r[6]), f"{CLOTHING}:record{i}:Review Text")
            for i, r in enumerate(csv_records(CLOTHING)) if r[4].strip()]


def shopping():
    """Non-empty reviews of online_shopping_10_cats: (text, category, source)."""
    return [(r[2], r[0], f"{SHOPPING}:record{i}:review")
            for i, r in enumerate(csv_records(SHOPPING)) if r[2].strip()]


def word_label(word):
    """0: ASCII letters only; 1: contains an ASCII digit; 2: anything else (punctuation, CJK, ...)."""
    if re.fullmatch(r"[A-Za-z]+", word):
        return 0
    return 1 if re.search(r"[0-9]", word) else 2


def pick(rs, items, n):
    return [items[i] for i in rs.choice(len(items), n, replace=False)]


def examples(case, tok):
    """160 examples [(inputs, label, sources)], in training order (batch s = [16 s, 16 s + 16))."""
    rs = np.random.RandomState(SEEDS[case])
    n = BATCH * STEPS
    ntok = lambda text: len(tok(text)["input_ids"])
    if case in ("seq2_en", "seq2_en_mean"):
        cl = clothing()
        long = [c for c in cl if ntok(c[0]) >= MAX_LENGTH]
        chosen = pick(rs, sentences(), n - 16) + pick(rs, long, 8) + pick(rs, cl, 8)
        ex = [((t,), y, [s]) for t, y, s in chosen]
    elif case == "seq5_zh":
        sh = shopping()
        ex = []
        for k, cat in enumerate(CATEGORIES_ZH):
            ex += [((t,), k, [s]) for t, _, s in pick(rs, [x for x in sh if x[1] == cat], n // 5)]
    elif case == "reg_pairs":
        se, cl = sentences(), clothing()
        long = [c for c in cl if ntok(c[0]) >= 100]
        firsts = pick(rs, se, 120) + pick(rs, long, 8) + pick(rs, cl, 32)
        seconds = pick(rs, se, 140) + pick(rs, cl, 20)
        ex = [((a[0], b[0]), float(a[1] == b[1]), [a[2], b[2]]) for a, b in zip(firsts, seconds)]
    elif case == "tok_zh_en":
        pre = tok.backend_tokenizer.pre_tokenizer
        chosen = pick(rs, clothing(), n // 2) + pick(rs, shopping(), n // 2)
        ex = []
        for t, _, s in chosen:
            words = [w for w, _ in pre.pre_tokenize_str(t)]
            ex.append(((words,), [word_label(w) for w in words], [s]))
    else:
        raise ValueError(case)
    return [ex[i] for i in rs.permutation(len(ex))]


def batches(case, tok, check_tok, ex=None):
    """The 10 padded batches (dict of tensors) and the per-example sources (of `ex` when given,
    else of the named case's examples)."""
    ex = examples(case, tok) if ex is None else ex
    out = []
    for s in range(STEPS):
        part = ex[s * BATCH:(s + 1) * BATCH]
        kw = dict(truncation=True, max_length=MAX_LENGTH, padding="longest", return_tensors="pt")
        if case == "tok_zh_en":
            enc = tok([p[0][0] for p in part], is_split_into_words=True, **kw)
            labels = torch.full_like(enc["input_ids"], -100)
            for i, p in enumerate(part):
                prev = None
                for j, w in enumerate(enc.word_ids(i)):
                    if w is not None and w != prev:
                        labels[i, j] = p[1][w]
                    prev = w
            ref = check_tok([p[0][0] for p in part], is_split_into_words=True, **kw)
        elif len(part[0][0]) == 2:  # pairs: reg_pairs (float targets) or a CSV of pairs (classes)
            enc = tok([p[0][0] for p in part], [p[0][1] for p in part], **kw)
            labels = torch.tensor([p[1] for p in part], dtype=torch.float32 if case == "reg_pairs" else torch.int64)
            ref = check_tok([p[0][0] for p in part], [p[0][1] for p in part], **kw)
        else:
            enc = tok([p[0][0] for p in part], **kw)
            labels = torch.tensor([p[1] for p in part], dtype=torch.int64)
            ref = check_tok([p[0][0] for p in part], **kw)
        assert torch.equal(enc["input_ids"], ref["input_ids"]), "tokenizer differs from tokenizer.json"
        out.append({"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"],
                    "attention_mask": enc["attention_mask"], "labels": labels})
    return out, [p[2] for p in ex]


def tokenizers():
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    tok = AutoTokenizer.from_pretrained(str(MODEL))
    assert tok.is_fast
    check = PreTrainedTokenizerFast(tokenizer_file=str(MODEL / "tokenizer.json"), unk_token="[UNK]",
                                    sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                                    mask_token="[MASK]")
    return tok, check


# ---------------------------------------------------------------- training
class MeanPoolingClassifier(torch.nn.Module):
    """BertModel -> mean of the tokens whose attention_mask is 1 (sentence-transformers'
    Pooling(mean): sum / clamp(count, 1e-9)) -> dropout -> linear, cross-entropy as HF's heads;
    the linear layer initialised as HF's _init_weights (normal(0, initializer_range), zero bias)."""

    def __init__(self, bert, num_labels):
        super().__init__()
        self.bert = bert
        self.config = bert.config
        self.dropout = torch.nn.Dropout(bert.config.classifier_dropout or 0.0)
        self.classifier = torch.nn.Linear(bert.config.hidden_size, num_labels)
        torch.nn.init.normal_(self.classifier.weight, 0.0, bert.config.initializer_range)
        torch.nn.init.zeros_(self.classifier.bias)

    def forward(self, input_ids, token_type_ids, attention_mask, labels=None):
        from types import SimpleNamespace
        h = self.bert(input_ids=input_ids, token_type_ids=token_type_ids,
                      attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else torch.nn.functional.cross_entropy(logits, labels)
        return SimpleNamespace(loss=loss, logits=logits)


def load_model(case, num_labels, tiny_config=None, seed=None):
    from transformers import BertForSequenceClassification, BertForTokenClassification, BertModel
    torch.manual_seed(SEEDS.get(case, 0) if seed is None else seed)
    kw = dict(attn_implementation="eager", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
              classifier_dropout=0.0, dtype=torch.float32)
    if case.endswith("_mean"):
        model = MeanPoolingClassifier(BertModel.from_pretrained(str(MODEL), add_pooling_layer=False, **kw),
                                      num_labels)
    else:
        cls = BertForTokenClassification if case.startswith("tok") else BertForSequenceClassification
        if num_labels == 1:
            kw["problem_type"] = "regression"
        model = cls.from_pretrained(str(MODEL), num_labels=num_labels, **kw)
    model.train()
    return model


def param_groups(model):
    """As HF Trainer: no weight decay for biases and LayerNorm weights."""
    decay = [p for n, p in model.named_parameters() if "bias" not in n and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if "bias" in n or "LayerNorm" in n]
    return [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}]


def forward(model, batch, dtype=torch.float32):
    labels = batch["labels"]
    if labels.is_floating_point():
        labels = labels.to(dtype)
    return model(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"],
                 attention_mask=batch["attention_mask"], labels=labels)


def draw(rs, pool, k, taken=()):
    """k distinct values of `pool` (an array or a size), none in `taken`, in the order drawn."""
    size = pool if isinstance(pool, int) else len(pool)
    seen, out = set(taken), []
    while len(out) < k:
        for i in rs.randint(0, size, size=2 * k):
            v = int(i if isinstance(pool, int) else pool[i])
            if v not in seen:
                seen.add(v)
                out.append(v)
                if len(out) == k:
                    break
    return out


def sample_indices(rs, name, p, batch0):
    """Flat indices of the elements of `p` whose values are written (sorted)."""
    if p.numel() <= SAMPLE:
        return np.arange(p.numel(), dtype=np.int64)
    rows = None
    if name.endswith("word_embeddings.weight"):  # ids of batch 0, without [PAD] (its grad is 0)
        rows = np.unique(batch0["input_ids"][batch0["attention_mask"] == 1].numpy())
    elif name.endswith("position_embeddings.weight"):  # positions batch 0 reaches
        rows = np.arange(batch0["input_ids"].shape[1])
    if rows is None:
        idx = draw(rs, p.numel(), SAMPLE)
    else:
        width = p.shape[1]
        seen = (rows[:, None] * width + np.arange(width)[None, :]).ravel()
        idx = draw(rs, seen, SAMPLE_SEEN)
        idx += draw(rs, p.numel(), SAMPLE - SAMPLE_SEEN, idx)
    return np.sort(np.array(idx, dtype=np.int64))


def run_case(case, tok, check_tok, from_csv=None):
    """One named case into OUT, or with from_csv (a dict made by csv_case) its case into its "out"."""
    import transformers
    from safetensors.numpy import save_file
    from transformers import get_linear_schedule_with_warmup
    if from_csv is None:
        seed = SEEDS[case]
        num_labels = NUM_LABELS[case]
        data, sources = batches(case, tok, check_tok)
    else:
        seed, num_labels = from_csv["seed"], len(from_csv["labels"])
        data, sources = batches(case, tok, check_tok, from_csv["examples"])
    model = load_model(case, num_labels, seed=seed)
    assert getattr(model.config, "problem_type", None) in (None, "regression")
    model64 = copy.deepcopy(model).double()
    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    t = {}
    for s, b in enumerate(data):
        for k in ("input_ids", "token_type_ids", "attention_mask", "labels"):
            t[f"{k}.{s}"] = b[k].numpy().copy()
    t["init.classifier.weight"] = params["classifier.weight"].detach().numpy().copy()
    t["init.classifier.bias"] = params["classifier.bias"].detach().numpy().copy()
    rs = np.random.RandomState(seed)
    idx = {n: sample_indices(rs, n, params[n], data[0]) for n in names}
    theta0 = {n: params[n].detach().clone() for n in names}
    for n in names:
        t[f"sample.{n}"] = idx[n]
        t[f"param0.{n}"] = theta0[n].reshape(-1).numpy()[idx[n]].copy()

    optimizer = torch.optim.AdamW(param_groups(model), lr=LR, betas=BETAS, eps=EPS)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=WARMUP, num_training_steps=STEPS)
    losses, grad_norms, lrs = [], [], []
    grads0 = None
    for s, b in enumerate(data):
        out = forward(model, b)
        out.loss.backward()
        if s == 0:
            t["step0.logits"] = out.logits.detach().numpy().copy()
            t["step0.loss"] = np.array([out.loss.item()], dtype=np.float64)
            grads0 = {n: params[n].grad.detach().clone() for n in names}
        losses.append(out.loss.item())
        grad_norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)))
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        print(f"  {case} step {s}: L={b['input_ids'].shape[1]:3d} loss {losses[-1]:.6f} "
              f"grad norm {grad_norms[-1]:.4f} lr {lrs[-1]:.2e}", flush=True)
    zero = [n for n in names if grads0[n].abs().max() == 0]
    assert not zero, f"parameters without gradient: {zero}"
    for n in names:
        t[f"grad.{n}"] = grads0[n].reshape(-1).numpy()[idx[n]].copy()
        t[f"grad_norm.{n}"] = np.array([grads0[n].double().norm().item()])
        p10 = params[n].detach()
        t[f"param10.{n}"] = p10.reshape(-1).numpy()[idx[n]].copy()
        t[f"delta_norm.{n}"] = np.array([(p10.double() - theta0[n].double()).norm().item()])
    t["losses"] = np.array(losses, dtype=np.float64)
    t["grad_norms"] = np.array(grad_norms, dtype=np.float64)
    t["lrs"] = np.array(lrs, dtype=np.float64)

    # calibration: step 0 in float64 from the same initial weights
    out64 = forward(model64, data[0], torch.float64)
    out64.loss.backward()
    p64 = dict(model64.named_parameters())
    # the key bias adds q.b_k to every score of a query: softmax ignores it, its gradient is 0 up to
    # rounding (fp64 ~1e-20), so it is left out of the relative error and reported absolutely
    key_bias = [n for n in names if n.endswith("attention.self.key.bias")]
    rel = {n: ((grads0[n].double() - p64[n].grad).norm() / p64[n].grad.norm()).item()
           for n in names if n not in key_bias}
    worst = max(rel, key=rel.get)
    key_bias_32 = max(grads0[n].double().norm().item() for n in key_bias)
    key_bias_64 = max(p64[n].grad.norm().item() for n in key_bias)
    logits_diff = (out64.logits - torch.from_numpy(t["step0.logits"]).double()).abs().max().item()
    loss_diff = abs(out64.loss.item() - losses[0])

    lengths = [b["input_ids"].shape[1] for b in data]
    assert from_csv is not None or max(lengths) == MAX_LENGTH, lengths
    meta = {
        "case": case, "num_labels": str(num_labels),
        "problem_type": {1: "regression"}.get(num_labels, "single_label_classification"),
        "head": ("BertForTokenClassification" if case.startswith("tok") else
                 "BertModel + mean pooling + dropout + Linear (MeanPoolingClassifier)" if case.endswith("_mean")
                 else "BertForSequenceClassification"),
        "pooling": "mean" if case.endswith("_mean") else "pooler",
        "model": "sentence-transformers/all-MiniLM-L6-v2 (float32, eager attention, all dropout 0, train mode)",
        "lr": repr(LR), "betas": json.dumps(BETAS), "eps": repr(EPS), "warmup": str(WARMUP),
        "steps": str(STEPS), "batch_size": str(BATCH), "max_length": str(MAX_LENGTH),
        "weight_decay": repr(WEIGHT_DECAY), "max_grad_norm": repr(MAX_GRAD_NORM),
        "optimizer": "torch.optim.AdamW; groups: weight_decay for names without 'bias'/'LayerNorm', else 0",
        "scheduler": "transformers.get_linear_schedule_with_warmup",
        "seed": str(seed), "transformers": transformers.__version__, "torch": torch.__version__,
        "parameters": json.dumps(names),
        "examples": json.dumps([sources[s * BATCH:(s + 1) * BATCH] for s in range(STEPS)], ensure_ascii=False),
        "data_sources": data_sources(case) if from_csv is None else from_csv["source"],
        "torch_fp32_vs_fp64_max_grad_rel_l2": repr(rel[worst]),
        "torch_fp32_vs_fp64_max_grad_rel_l2_tensor": worst,
        "torch_fp32_vs_fp64_logits_max_abs": repr(logits_diff),
        "torch_fp32_vs_fp64_loss_abs": repr(loss_diff),
        "torch_key_bias_grad_max_l2_fp32": repr(key_bias_32),
        "torch_key_bias_grad_max_l2_fp64": repr(key_bias_64),
    }
    if case == "seq5_zh":
        meta["categories"] = json.dumps(CATEGORIES_ZH, ensure_ascii=False)
    if case == "tok_zh_en":
        meta["word_labels"] = "0: [A-Za-z]+; 1: contains [0-9]; 2: other (punctuation, CJK, mixed)"
    if case == "reg_pairs":
        meta["target"] = "1.0 if text_a and text_b have the same sentiment label, else 0.0"
    if from_csv is not None:
        meta["labels"] = json.dumps(from_csv["labels"], ensure_ascii=False)
        meta["text_columns"] = json.dumps(from_csv["text_columns"], ensure_ascii=False)
    path = (OUT if from_csv is None else Path(from_csv["out"])) / f"{case}.safetensors"
    save_file({k: np.ascontiguousarray(v) for k, v in t.items()}, str(path), metadata=meta)
    canonical_header(path)
    print(f"{case}: lengths {lengths}, losses {[round(x, 5) for x in losses]}, "
          f"fp32 vs fp64: grad rel {rel[worst]:.3g} ({worst}), logits {logits_diff:.3g}, "
          f"loss {loss_diff:.3g}, key bias grad fp32 {key_bias_32:.3g} fp64 {key_bias_64:.3g}; "
          f"{path.stat().st_size} bytes", flush=True)


def canonical_header(path):
    """Rewrite the safetensors header with sorted keys (safetensors orders the metadata at random),
    so that a rerun gives byte-identical files; the data and its offsets are unchanged."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.dumps(json.loads(raw[8:8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    path.write_bytes(len(header).to_bytes(8, "little") + header + raw[8 + n:])
    path.chmod(0o644)


def data_sources(case):
    kotzias = ("UCI 'Sentiment Labelled Sentences' (Kotzias, Denil, de Freitas, Smyth, KDD 2015): "
               + ", ".join(EN_SENTENCES))
    clothes = f"Women's E-Commerce Clothing Reviews (Kaggle, CC0): {CLOTHING}"
    zh = f"SophonPlus/ChineseNlpCorpus online_shopping_10_cats: {SHOPPING}"
    return {"seq2_en": f"{kotzias}; {clothes}", "seq5_zh": zh, "reg_pairs": f"{kotzias}; {clothes}",
            "tok_zh_en": f"{clothes}; {zh}", "seq2_en_mean": f"{kotzias}; {clothes}"}[case] \
        + " (under SHOPML_DATA_DIR; see its PROVENANCE.md)"


# ---------------------------------------------------------------- a case from any CSV (--csv)
def read_csv_records(path):
    """(header, records) as shopml::io::read_csv reads the file: a UTF-8 byte-order mark at its
    start dropped, empty lines skipped; every record must have the header's number of fields."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    if not rows:
        raise SystemExit(f"{path}: empty (no header record)")
    header, records = rows[0], rows[1:]
    for i, r in enumerate(records):
        if len(r) != len(header):
            raise SystemExit(f"{path}: record {i} has {len(r)} fields, the header {len(header)}")
    if not records:
        raise SystemExit(f"{path}: no records after the header")
    return header, records


def csv_columns(header):
    """The text columns (text_a, text_b / text / review) and the label column of a CSV header."""
    if "label" in header:
        for cols in (["text_a", "text_b"], ["text"], ["review"]):
            if all(c in header for c in cols):
                return cols, "label"
    raise SystemExit(f"a CSV needs the columns text,label or text_a,text_b,label (or review,label); "
                     f"this one has {header}")


def class_names(labels):
    """The distinct labels, sorted (numerically when all are integers): class i is the i-th."""
    names = sorted(set(labels))
    if all(re.fullmatch(r"-?[0-9]+", n) for n in names):
        names.sort(key=int)
    return names


def csv_case(path, out, seed):
    """The 160 examples of a case made from the records of the CSV at `path` (see the docstring)."""
    header, records = read_csv_records(path)
    text_columns, label_column = csv_columns(header)
    where, y = [header.index(c) for c in text_columns], header.index(label_column)
    labels = class_names([r[y] for r in records])
    if len(labels) < 2:
        raise SystemExit(f"{path}: column {label_column!r} has {len(labels)} distinct value(s); "
                         f"classification needs at least 2")
    klass = {name: i for i, name in enumerate(labels)}
    rs = np.random.RandomState(seed)
    n = BATCH * STEPS
    chosen = rs.choice(len(records), n, replace=len(records) < n)
    ex = [(tuple(records[i][c] for c in where), klass[records[i][y]], [f"{path.name}:record{i}"]) for i in chosen]
    return {"seed": seed, "labels": labels, "text_columns": text_columns, "examples": ex, "out": out,
            "source": f"{path.name} (records 0-based after the header; text columns {text_columns}, "
                      f"label column {label_column!r})"}


# ---------------------------------------------------------------- tiny saved checkpoints
def tiny(kind, tok):
    """A tiny BERT (tiny_bert's shape, float32) with a 3-label head, 3 AdamW steps, save_pretrained
    (meancls: a SentenceTransformer of Transformer, Pooling(mean), Dense(identity), saved by it)."""
    from transformers import BertConfig, BertForSequenceClassification, BertForTokenClassification
    names = ["WORD", "NUM", "OTHER"] if kind == "tokcls" else ["negative", "neutral", "positive"]
    seed = {"seqcls": 2001, "tokcls": 2002, "meancls": 2003}[kind]
    config = BertConfig(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=40, type_vocab_size=2,
                        hidden_act="gelu" if kind == "seqcls" else "gelu_new", layer_norm_eps=1e-12,
                        initializer_range=0.2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                        classifier_dropout=0.0, num_labels=3,
                        id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    torch.manual_seed(seed)
    if kind == "meancls":
        model = sentence_transformers_classifier(config, tok)
    else:
        cls = BertForSequenceClassification if kind == "seqcls" else BertForTokenClassification
        model = cls(config)
    with torch.no_grad():  # non-trivial LayerNorm parameters
        for n, p in model.named_parameters():
            if "LayerNorm.weight" in n:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif "LayerNorm.bias" in n:
                p.copy_(0.2 * torch.randn_like(p))
    # real texts: the first English sentences of each file, the first Chinese shopping review,
    # and a pair of IMDb sentences; MiniLM ids mod 97 (the tiny vocabulary)
    se = {}
    for t, y, s in sentences():
        se[s] = (t, y)
    sh = shopping()
    a = [se["reviews-en/amazon_cells_labelled.txt:line0"][0], se["reviews-en/yelp_labelled.txt:line0"][0],
         sh[0][0], se["reviews-en/imdb_labelled.txt:line1"][0]]
    b = [None, None, None, se["reviews-en/imdb_labelled.txt:line2"][0]]
    srcs = ["reviews-en/amazon_cells_labelled.txt:line0", "reviews-en/yelp_labelled.txt:line0", sh[0][2],
            "reviews-en/imdb_labelled.txt:line1 + reviews-en/imdb_labelled.txt:line2"]
    pre = tok.backend_tokenizer.pre_tokenizer
    kw = dict(truncation=True, max_length=32)
    if kind == "tokcls":  # words by the pre-tokenizer, labels on the first sub-token of each word
        split = lambda t: [w for w, _ in pre.pre_tokenize_str(t)] if t is not None else None
        encs = [tok(split(ta), split(tb), is_split_into_words=True, **kw) if tb
                else tok(split(ta), is_split_into_words=True, **kw) for ta, tb in zip(a, b)]
    else:
        encs = [tok(ta, tb, **kw) if tb else tok(ta, **kw) for ta, tb in zip(a, b)]
    width = max(len(e["input_ids"]) for e in encs)
    n = len(encs)
    ids = torch.zeros(n, width, dtype=torch.long)
    types = torch.zeros(n, width, dtype=torch.long)
    mask = torch.zeros(n, width, dtype=torch.long)
    for i, e in enumerate(encs):
        k = len(e["input_ids"])
        ids[i, :k] = torch.tensor(e["input_ids"]) % config.vocab_size
        types[i, :k] = torch.tensor(e["token_type_ids"])
        mask[i, :k] = 1
    if kind != "tokcls":  # negative 0 / positive 2 from the data; the pair: neutral if they disagree
        ys = [se["reviews-en/amazon_cells_labelled.txt:line0"][1], se["reviews-en/yelp_labelled.txt:line0"][1],
              int(csv_records(SHOPPING)[0][1])]
        y1, y2 = se["reviews-en/imdb_labelled.txt:line1"][1], se["reviews-en/imdb_labelled.txt:line2"][1]
        labels = torch.tensor([2 * y for y in ys] + [2 * y1 if y1 == y2 else 1])
    else:
        labels = torch.full((n, width), -100)
        for i, (e, ta, tb) in enumerate(zip(encs, a, b)):
            words = [split(ta), split(tb)]
            prev = None
            for j, (w, q) in enumerate(zip(e.word_ids(), e.sequence_ids())):
                if w is not None and (q, w) != prev:
                    labels[i, j] = word_label(words[q][w])
                prev = (q, w) if w is not None else None
    features = dict(input_ids=ids, token_type_ids=types, attention_mask=mask)
    if kind == "meancls":  # SentenceTransformer.forward gives the Dense output: the logits
        run = lambda: model(dict(features))["sentence_embedding"]
    else:
        run = lambda: model(**features).logits
    model.train()
    optimizer = torch.optim.AdamW(param_groups(model), lr=1e-3, betas=BETAS, eps=EPS)
    losses = []
    for _ in range(3):
        # meancls: cross-entropy as HF's heads compute it
        loss = (torch.nn.functional.cross_entropy(run(), labels) if kind == "meancls"
                else model(**features, labels=labels).loss)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        logits = run()
    d = OUT / f"tiny_{kind}"
    d.mkdir(parents=True, exist_ok=True)
    if kind == "meancls":
        model.save(str(d), create_model_card=False)
        for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                  "config_sentence_transformers.json", "sentence_bert_config.json", "README.md"]:
            (d / f).unlink(missing_ok=True)  # the ids are MiniLM's mod 97: no tokenizer fits
        for f in d.rglob("model.safetensors"):
            canonical_header(f)
    else:
        model.save_pretrained(str(d))
    lengths = mask.sum(1).tolist()
    expected = {
        "note": "input_ids are all-MiniLM-L6-v2 token ids mod 97 (the tiny vocabulary); padded with 0",
        "sources": srcs,
        "input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.tolist(),
        "train_labels": labels.tolist(), "train_losses": losses,
        "logits": (logits.tolist() if kind != "tokcls"
                   else [[row.tolist() for row in seq[:k]] for seq, k in zip(logits, lengths)]),
    }
    (d / "expected.json").write_text(json.dumps(expected) + "\n")
    print(f"tiny_{kind}: losses {losses}, files "
          f"{ {str(p.relative_to(d)): p.stat().st_size for p in sorted(d.rglob('*')) if p.is_file()} }")


def sentence_transformers_classifier(config, tok):
    """SentenceTransformer([Transformer (a BertModel of `config`), Pooling(mean), Dense(identity)]):
    what shopml's bert_for_sequence_classification with pooling = mean saves."""
    import tempfile
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Pooling, Transformer
    from transformers import BertModel
    bert = BertModel(config, add_pooling_layer=False)
    with tempfile.TemporaryDirectory() as tmp:
        bert.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        transformer = Transformer(tmp, max_seq_length=32)
    dense = Dense(config.hidden_size, config.num_labels, activation_function=torch.nn.Identity())
    torch.nn.init.normal_(dense.linear.weight, 0.0, config.initializer_range)
    torch.nn.init.zeros_(dense.linear.bias)
    return SentenceTransformer(modules=[transformer, Pooling(config.hidden_size, "mean"), dense], device="cpu")


if __name__ == "__main__":
    torch.set_num_threads(2)
    try:
        torch.use_deterministic_algorithms(True)
    except Exception as e:  # noqa: BLE001
        print(f"deterministic algorithms unavailable: {e}")
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    tok, check_tok = tokenizers()
    if "--csv" in sys.argv[1:]:
        parser = argparse.ArgumentParser(description="one fine-tuning golden case from a CSV's records")
        parser.add_argument("--csv", type=Path, required=True, help="columns text,label or text_a,text_b,label")
        parser.add_argument("--out", type=Path, required=True, help="directory for csv_<stem>.safetensors")
        parser.add_argument("--seed", type=int, default=1005, help="records drawn and head initialised with it")
        parser.add_argument("--pooling", choices=["pooler", "mean"], default="pooler",
                            help="the classifier's input: BertForSequenceClassification's pooler, or "
                                 "MeanPoolingClassifier's mean of the tokens")
        args = parser.parse_args()
        args.out.mkdir(parents=True, exist_ok=True)
        # "csv_" keeps the name clear of the named cases' prefixes ("tok" selects token classification);
        # the suffix "_mean" selects MeanPoolingClassifier
        suffix = "_mean" if args.pooling == "mean" else ""
        run_case(f"csv_{args.csv.stem}{suffix}", tok, check_tok, csv_case(args.csv, args.out, args.seed))
        sys.exit(0)
    OUT.mkdir(parents=True, exist_ok=True)
    cases = sys.argv[1:] or [*SEEDS, "tiny"]
    for case in cases:
        if case == "tiny":
            tiny("seqcls", tok)
            tiny("tokcls", tok)
            tiny("meancls", tok)
        else:
            run_case(case, tok, check_tok)
