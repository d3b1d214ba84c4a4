#!/usr/bin/env python3
"""Golden files for shopml::tokenize::tokenizer::add_tokens / save, made with HF tokenizers.

all-MiniLM-L6-v2's tokenizer knows 234 of the 8496 single-character CJK tokens of
bert-base-chinese's vocab.txt, so most Chinese text becomes [UNK]. HF's remedy is
Tokenizer.add_tokens([...]) (plus resize_token_embeddings on the model). This script adds,
in vocab.txt order, every single-character token of the shared bert-base-chinese vocab.txt
that BertNormalizer pads as a Chinese character and MiniLM's tokenizer lacks, and encodes
real reviews (tests/golden/tokenize/added_tokens/inputs.manifest: Chinese from
online_shopping_10_cats.csv, English from reviews-en) before and after.

Outputs (tests/golden/tokenize/added_tokens/):
  minilm.golden      MiniLM's tokenizer.json as is (truncation/padding off)
  minilm-cjk.golden  after add_tokens(cjk); the header records the number added, HF's
                     get_vocab_size(with_added_tokens=True) and the [UNK] rates
                     ("zh": texts with a character BertNormalizer pads as Chinese, "en": the
                     others); both in the compact code of scripts/golden/tokenizer.py
  quirks.jsonl       small add_tokens cases that show HF's exact semantics: tokens the
                     model already has, repeats, re-adding "[CLS]", a token inside a word,
                     case, empty strings; with the count, vocab size, id_to_token, encodings
                     (tokens too) and decode.

Check a tokenizer.json saved by shopml (tests/tokenize test "added tokens: save ..."
writes one where SHOPML_KEEP_SAVED_TOKENIZER names) with HF tokenizers and transformers:
  .venv-golden/bin/python scripts/golden/added_tokens.py --check-saved PATH
It loads PATH with Tokenizer.from_file and with AutoTokenizer.from_pretrained (PATH beside
MiniLM's tokenizer_config.json and special_tokens_map.json) and compares both with
minilm-cjk.golden.
Run: "$(scripts/golden/make-venv.sh)" scripts/golden/added_tokens.py
"""
import json
import os
import pathlib
import shutil
import sys
import tempfile

import tokenizers
from tokenizers import Tokenizer

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from tokenizer import compact, read_lines  # noqa: E402  (same compact code as the parity goldens)

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/golden/tokenize/added_tokens"
DATA = pathlib.Path(os.environ.get("SHOPML_DATA_DIR", ROOT.parent / "shared/data"))
MODEL_DIR = pathlib.Path(os.environ.get("SHOPML_MODEL_DIR", pathlib.Path.home() / ".cache/shopml/models/all-MiniLM-L6-v2"))
UNK = 100


def inputs():
    """(text, language) pairs; the format of tests/golden/tokenize/inputs.manifest."""
    texts = []
    for raw in (GOLDEN / "inputs.manifest").read_text().splitlines():
        if not raw or raw.startswith("#"):
            continue
        where, step, *max_bytes = raw.split()
        kind, rel = where.split(":", 1)
        lines = read_lines((DATA if kind == "data" else GOLDEN) / rel)
        if max_bytes:
            lines = [l for l in lines if len(l.encode("utf-8")) <= int(max_bytes[0])]
        texts += [(l, "zh" if "reviews-zh" in rel else "en") for l in lines[:: int(step)]]
    return texts


def minilm():
    t = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    t.no_truncation()
    t.no_padding()
    return t


def cjk_tokens(t):
    """Single-character tokens of bert-base-chinese's vocab.txt that BertNormalizer treats as
    Chinese (it pads them with spaces) and `t` does not know, in vocab.txt order."""
    normalizer = t.normalizer
    vocab = read_lines(DATA / "vocab/bert-base-chinese-vocab.txt")
    return [w for w in vocab if len(w) == 1 and normalizer.normalize_str(w) == f" {w.lower()} " and t.token_to_id(w) is None]


def is_chinese(normalizer, text):
    """Whether BertNormalizer pads some character of `text` as Chinese (as the C++ test decides)."""
    return any(normalizer.normalize_str(c) == f" {c} " for c in text)


def unk_rate(encodings, texts, chinese, normalizer):
    """[UNK] share of the tokens of the texts with (or without) Chinese characters, [CLS]/[SEP] not counted."""
    unk = total = 0
    for e, (text, _) in zip(encodings, texts):
        if is_chinese(normalizer, text) != chinese:
            continue
        words = [i for i, w in zip(e.ids, e.word_ids) if w is not None]
        unk += sum(i == UNK for i in words)
        total += len(words)
    return unk, total


def write_golden(path, header, encodings):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# HF tokenizers {tokenizers.__version__}, {header}\n")
        for i, e in enumerate(encodings):
            f.write(f"{i}\t{compact(e)}\n")


def quirks():
    """Small cases of add_tokens semantics, each from a fresh MiniLM tokenizer."""
    cases = [
        (["hello", "ell", "newtok", "newtok", ""], ["say hello there, shello hellos", "Shell NEWTOK newtoks"]),
        (["[CLS]"], ["a [CLS] b [cls]"]),
        (["Foo", "铱"], ["Foobar FOO foo", "铱a铱 金属铱", "铱"]),
        (["ab cd", "x"], ["ab cd ab  cd AB CD xyz"]),
        (["##ing", "caf\u00e9"], ["running ##ing CAF\u00c9 cafe"]),
    ]
    out = []
    for added, texts in cases:
        t = minilm()
        count = t.add_tokens(added)
        ids = sorted(set(i for s in added if (i := t.token_to_id(s)) is not None))
        r = {"add": added, "count": count, "vocab_size": t.get_vocab_size(True),
             "token_to_id": {s: t.token_to_id(s) for s in added if s},
             "id_to_token": {str(i): t.id_to_token(i) for i in ids}, "encodings": []}
        for text in texts:
            e = t.encode(text)
            r["encodings"].append({"text": text, "ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets],
                                   "word_ids": [-1 if w is None else w for w in e.word_ids],
                                   "decode": t.decode(e.ids), "decode_with_special": t.decode(e.ids, skip_special_tokens=False)})
        out.append(r)
    with open(GOLDEN / "quirks.jsonl", "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


def read_golden(path):
    return [line.split("\t", 1)[1] for line in read_lines(path) if line and not line.startswith("#")]


def check_saved(path):
    from transformers import AutoTokenizer
    texts = inputs()
    want = read_golden(GOLDEN / "minilm-cjk.golden")
    base = minilm()
    expected_size = base.get_vocab_size(True) + len(cjk_tokens(base))
    t = Tokenizer.from_file(str(path))
    t.no_truncation()
    t.no_padding()
    got = [compact(e) for e in t.encode_batch([s for s, _ in texts])]
    bad = sum(g != w for g, w in zip(got, want))
    print(f"tokenizers {tokenizers.__version__} Tokenizer.from_file: vocab size {t.get_vocab_size(True)} (want {expected_size}), "
          f"{bad} of {len(want)} encodings differ from minilm-cjk.golden")
    ok = bad == 0 and t.get_vocab_size(True) == expected_size
    with tempfile.TemporaryDirectory() as d:
        for name in ("tokenizer_config.json", "special_tokens_map.json"):
            shutil.copy(MODEL_DIR / name, pathlib.Path(d) / name)
        shutil.copy(path, pathlib.Path(d) / "tokenizer.json")
        auto = AutoTokenizer.from_pretrained(d)
        got = [compact(e) for e in auto([s for s, _ in texts], truncation=False)._encodings]
        bad = sum(g != w for g, w in zip(got, want))
        print(f"transformers AutoTokenizer ({type(auto).__name__}): len {len(auto)} (want {expected_size}), "
              f"{bad} of {len(want)} encodings differ")
        ok = ok and bad == 0 and len(auto) == expected_size
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check-saved":
        return check_saved(sys.argv[2])
    texts = inputs()
    plain = [s for s, _ in texts]
    t = minilm()
    before = t.encode_batch(plain)
    cjk = cjk_tokens(t)
    count = t.add_tokens(cjk)
    after = t.encode_batch(plain)
    zh, en = sum(l == "zh" for _, l in texts), sum(l == "en" for _, l in texts)
    rates = {f"{when}_{lang}": unk_rate(enc, texts, lang == "zh", t.normalizer)
             for when, enc in (("before", before), ("after", after)) for lang in ("zh", "en")}
    rate_text = " ".join(f"unk_{k} {u}/{n}" for k, (u, n) in rates.items())
    write_golden(GOLDEN / "minilm.golden", f"MiniLM tokenizer.json, {len(texts)} inputs ({zh} zh, {en} en)", before)
    write_golden(GOLDEN / "minilm-cjk.golden",
                 f"MiniLM + add_tokens of {len(cjk)} CJK chars: added {count} vocab_size {t.get_vocab_size(True)} {rate_text}", after)
    quirks()
    # The file HF itself saves loads back with the same encodings (HF's own round trip).
    with tempfile.TemporaryDirectory() as d:
        t.save(str(pathlib.Path(d) / "tokenizer.json"))
        again = Tokenizer.from_file(str(pathlib.Path(d) / "tokenizer.json"))
        assert [e.ids for e in again.encode_batch(plain)] == [e.ids for e in after]
    print(f"{len(texts)} inputs ({zh} zh, {en} en), added {count} of {len(cjk)}, vocab {t.get_vocab_size(True)}; {rate_text}", file=sys.stderr)
    for p in sorted(GOLDEN.glob("*.golden")) + sorted(GOLDEN.glob("*.jsonl")):
        print(f"{p.name}: {p.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
