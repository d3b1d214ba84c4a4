#!/usr/bin/env python3
"""Golden files for shopml's BERT encoder (tests/nn), made with the reference packages.

1. all-MiniLM-L6-v2 sentence embeddings from sentence-transformers for ~2,400 real review
   texts from the shared data (English and Chinese, short to longer than 256 tokens):
     tests/golden/nn/minilm_inputs.tsv   which bytes of which shared-data file each text is
                                         (file, byte offset, byte length, CSV-quoted flag,
                                         token count), one text per line, in golden order
     tests/golden/nn/minilm_tokens.txt   the token ids the reference tokenizer gives each text
                                         (truncated at max_seq_length), one line per text
     tests/golden/nn/minilm_embeddings.f32  float32 little-endian [n, 384], SentenceTransformer.encode
   A quoted CSV field is stored as the raw bytes between its quotes; readers turn "" into ".
2. A tiny random BERT (2 layers, hidden 32) saved as BF16 with "bert."-prefixed names,
   gelu_new and CLS pooling, with its transformers outputs for a padded batch:
     tests/golden/nn/tiny_bert/{config.json, model.safetensors, modules.json, 1_Pooling/config.json}
     tests/golden/nn/tiny_bert/expected.json  ids, attention masks, last hidden states, pooled

Run: "$(scripts/golden/make-venv.sh)" scripts/golden/encoder.py
"""
import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("SHOPML_DATA_DIR", ROOT.parent / "shared" / "data"))
MODEL = Path(os.environ.get("SHOPML_MODEL_DIR", Path.home() / ".cache/shopml/models/all-MiniLM-L6-v2"))
OUT = ROOT / "tests" / "golden" / "nn"


def tab_lines(rel):
    """(offset, length, quoted=0) of the text before the last tab of each line."""
    raw = (DATA / rel).read_bytes()
    pos = 0
    for line in raw.split(b"\n"):
        if b"\t" in line:
            yield pos, line.rindex(b"\t"), 0
        pos += len(line) + 1


def csv_fields(rel, column):
    """(offset, length, quoted) of `column` in every record after the header (RFC 4180)."""
    raw = (DATA / rel).read_bytes()
    i, n, record, field = 0, len(raw), 0, 0
    while i < n:
        quoted = raw[i:i + 1] == b'"'
        if quoted:
            start = j = i + 1
            while True:
                j = raw.index(b'"', j)
                if raw[j + 1:j + 2] == b'"':
                    j += 2
                    continue
                break
            end, i = j, j + 1
        else:
            start = i
            while i < n and raw[i:i + 1] not in (b",", b"\n"):
                i += 1
            end = i
            if end > start and raw[end - 1:end] == b"\r":
                end -= 1
        if record > 0 and field == column:
            yield start, end - start, int(quoted)
        if i < n and raw[i:i + 1] == b",":
            field += 1
        else:
            record, field = record + 1, 0
        i += 1


def text_of(rel, offset, length, quoted):
    text = (DATA / rel).read_bytes()[offset:offset + length].decode("utf-8")
    return text.replace('""', '"') if quoted else text


def check_against_csv_module(rel, column, spans):
    with open(DATA / rel, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    parsed = [r[column] for r in rows]
    ours = [text_of(rel, *s) for s in spans]
    assert parsed == ours, f"{rel}: our CSV walk disagrees with the csv module"


def select_inputs(model):
    """~2,400 texts: every n-th line of each English file, a spread of Chinese reviews, and the
    longest Chinese reviews so that many exceed max_seq_length."""
    chosen = []
    for rel, step in [("reviews-en/amazon_cells_labelled.txt", 3), ("reviews-en/yelp_labelled.txt", 3),
                      ("reviews-en/imdb_labelled.txt", 3)]:
        chosen += [(rel, *s) for s in list(tab_lines(rel))[::step]]
    for rel, column, step in [("reviews-en/womens_clothing_reviews_sample.csv", 4, 3),
                              ("reviews-zh/online_shopping_10_cats.csv", 2, 110),
                              ("reviews-zh/waimai_10k.csv", 1, 40)]:
        spans = list(csv_fields(rel, column))
        check_against_csv_module(rel, column, spans)
        spans = [s for s in spans if s[1] > 0]
        picked = spans[::step]
        if rel.endswith("online_shopping_10_cats.csv"):  # plus the 120 longest, spread over the file
            longest = sorted(spans, key=lambda s: -s[1])[:600:5]
            picked += [s for s in longest if s not in picked]
        chosen += [(rel, *s) for s in picked]
    return chosen


def minilm():
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(MODEL), device="cpu")
    assert model.max_seq_length == 256
    chosen = select_inputs(model)
    texts = [text_of(*c) for c in chosen]
    tokenizer = model.tokenizer
    ids = [tokenizer(t, truncation=True, max_length=model.max_seq_length)["input_ids"] for t in texts]
    with torch.inference_mode():
        emb = model.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
    emb = np.ascontiguousarray(emb, dtype="<f4")
    assert emb.shape == (len(texts), 384)
    with open(OUT / "minilm_inputs.tsv", "w", encoding="utf-8") as f:
        f.write("# file\tbyte_offset\tbyte_length\tcsv_quoted\ttokens  (texts of SHOPML_DATA_DIR; see scripts/golden/encoder.py)\n")
        for (rel, off, length, quoted), toks in zip(chosen, ids):
            f.write(f"{rel}\t{off}\t{length}\t{quoted}\t{len(toks)}\n")
    with open(OUT / "minilm_tokens.txt", "w") as f:
        for toks in ids:
            f.write(" ".join(map(str, toks)) + "\n")
    emb.tofile(OUT / "minilm_embeddings.f32")
    lengths = np.array([len(t) for t in ids])
    print(f"minilm: {len(texts)} texts, {sum(r.startswith('reviews-zh') for r, *_ in chosen)} Chinese, "
          f"tokens min {lengths.min()} median {int(np.median(lengths))} max {lengths.max()}, "
          f"{(lengths == 256).sum()} truncated at 256, {lengths.sum()} tokens in all")


def tiny_bert():
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel
    torch.manual_seed(20261123)
    config = BertConfig(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=40, type_vocab_size=2,
                        hidden_act="gelu_new", layer_norm_eps=1e-7)
    model = BertModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():  # random non-trivial LayerNorm parameters, rounded to bf16 precision
        for p in model.parameters():
            p.copy_((torch.randn_like(p) * 0.5).to(torch.bfloat16).to(torch.float32))
    tiny = OUT / "tiny_bert"
    (tiny / "1_Pooling").mkdir(parents=True, exist_ok=True)
    state = {"bert." + k: v.to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()
             if not k.endswith("position_ids") and not k.endswith("token_type_ids")}
    save_file(state, str(tiny / "model.safetensors"), metadata={"format": "pt"})
    cfg = config.to_dict()
    cfg = {k: cfg[k] for k in ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                               "intermediate_size", "max_position_embeddings", "type_vocab_size",
                               "hidden_act", "layer_norm_eps"]}
    cfg.update({"model_type": "bert", "architectures": ["BertForMaskedLM"]})
    (tiny / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    (tiny / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}], indent=2) + "\n")
    (tiny / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": 32, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}, indent=2) + "\n")

    g = torch.Generator().manual_seed(7)
    lengths = [9, 1, 30, 4]
    width = max(lengths)
    ids = torch.randint(1, 97, (len(lengths), width), generator=g)
    types = torch.randint(0, 2, (len(lengths), width), generator=g)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
        ids[i, n:] = 0
        types[i, n:] = 0
    with torch.no_grad():
        hidden = model(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
    expected = {
        "input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.tolist(),
        "last_hidden_state": [[row.tolist() for row in seq[:n]] for seq, n in zip(hidden, lengths)],
        "cls": hidden[:, 0].tolist(),
        "mean": [(seq[:n].mean(0)).tolist() for seq, n in zip(hidden, lengths)],
        "max": [(seq[:n].max(0).values).tolist() for seq, n in zip(hidden, lengths)],
    }
    (tiny / "expected.json").write_text(json.dumps(expected) + "\n")
    print(f"tiny_bert: {sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    tiny_bert()
    minilm()
