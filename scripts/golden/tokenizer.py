#!/usr/bin/env python3
"""Golden files for shopml::tokenize parity tests, made with HF tokenizers.

Inputs: the lines listed by tests/golden/tokenize/inputs.manifest (real English and
Chinese reviews from the shared data, plus hard Unicode cases). Configurations:
  bert-base-uncased  all-MiniLM-L6-v2's tokenizer.json (truncation/padding off)
  bert-base-chinese  BertTokenizerFast on the shared vocab.txt (do_lower_case=True,
                     tokenize_chinese_chars=True, strip_accents=None)
  gpt2               GPT2TokenizerFast on GPT-2's vocab.json + merges.txt
                     (tests/golden/tokenize/gpt2, see PROVENANCE.md there)
Outputs (tests/golden/tokenize/):
  <config>.golden    one line per input: index, ids, char offsets, word ids in a
                     compact base-64 text code (see decode notes in tests/tokenize)
  <config>.extra.jsonl  pairs, truncation (all strategies, stride, left), padding,
                     byte-level offset trimming and decode on a subset, every field.
  components.jsonl   normalizers and pre-tokenizers one by one (their JSON, and the
                     normalized strings / pre-token char offsets) on hard cases and
                     a sample of the reviews.
Run: "$(scripts/golden/make-venv.sh)" scripts/golden/tokenizer.py
"""
import json
import os
import pathlib
import sys

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertTokenizerFast, GPT2TokenizerFast

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/golden/tokenize"
DATA = pathlib.Path(os.environ.get("SHOPML_DATA_DIR", ROOT.parent / "shared/data"))
MODEL_DIR = pathlib.Path(os.environ.get("SHOPML_MODEL_DIR", pathlib.Path.home() / ".cache/shopml/models/all-MiniLM-L6-v2"))
B64 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/"


def read_lines(path):
    data = path.read_bytes().decode("utf-8")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def inputs():
    texts = []
    for raw in (GOLDEN / "inputs.manifest").read_text().splitlines():
        if not raw or raw.startswith("#"):
            continue
        where, step, *max_bytes = raw.split()
        kind, rel = where.split(":", 1)
        lines = read_lines((DATA if kind == "data" else GOLDEN) / rel)
        if max_bytes:
            lines = [l for l in lines if len(l.encode("utf-8")) <= int(max_bytes[0])]
        texts += lines[:: int(step)]
    return texts


def fixed3(v):
    assert 0 <= v < 64**3, v
    return B64[v // 4096] + B64[v // 64 % 64] + B64[v % 64]


def small(v):
    assert v >= 0
    return B64[v] if v < 64 else "~" + fixed3(v)


def zigzag(d):
    return 2 * d if d >= 0 else -2 * d - 1


def compact(e):
    """Per token: id (3 chars), then small(zigzag(start - previous end) * 3 + w), then
    small(end - start), where w = 0 same word as the previous token, 1 the next word,
    2 anything else, followed by '-' (no word) or small(zigzag(word - previous word))."""
    out, prev_end, prev_word = [], 0, -1
    for i, (s, t), w in zip(e.ids, e.offsets, e.word_ids):
        if w is not None and w == prev_word:
            code, extra = 0, ""
        elif w is not None and w == prev_word + 1:
            code, extra = 1, ""
        else:
            code, extra = 2, "-" if w is None else small(zigzag(w - prev_word))
        out.append(fixed3(i) + small(zigzag(s - prev_end) * 3 + code) + small(t - s) + extra)
        prev_end = t
        if w is not None:
            prev_word = w
    return "".join(out)


def full(e, with_tokens=False):
    return {
        "ids": e.ids, "type_ids": e.type_ids, **({"tokens": e.tokens} if with_tokens else {}), "offsets": [list(o) for o in e.offsets],
        "word_ids": [-1 if w is None else w for w in e.word_ids],
        "special": "".join(map(str, e.special_tokens_mask)), "attention": "".join(map(str, e.attention_mask)),
        "overflowing": [full(o) for o in e.overflowing],
    }


def bert_uncased():
    t = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    t.no_truncation()
    t.no_padding()
    return t


def bert_chinese():
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(DATA / "vocab/bert-base-chinese-vocab.txt", pathlib.Path(d) / "vocab.txt")
        fast = BertTokenizerFast.from_pretrained(d, do_lower_case=True, tokenize_chinese_chars=True, strip_accents=None)
    return fast.backend_tokenizer


def gpt2():
    return GPT2TokenizerFast.from_pretrained(str(GOLDEN / "gpt2")).backend_tokenizer


def gpt2_trimmed():
    """ByteLevel with add_prefix_space and the ByteLevel post-processor trimming offsets."""
    t = Tokenizer(models.BPE.from_file(str(GOLDEN / "gpt2/vocab.json"), str(GOLDEN / "gpt2/merges.txt")))
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, trim_offsets=True)
    t.post_processor = processors.ByteLevel(trim_offsets=True, add_prefix_space=True)
    t.decoder = decoders.ByteLevel()
    t.add_special_tokens(["<|endoftext|>"])
    return t


def extra_records(make, texts, name, with_truncation_and_padding=True):
    """Pairs, truncation, padding and decode on an evenly spread subset."""
    short = [i for i in range(len(texts) - 1) if len(texts[i].encode()) <= 120 and len(texts[i + 1].encode()) <= 120]
    picks = short[:: max(1, len(short) // 60)][:60]
    out = []

    def record(variant, a, b, e, with_tokens=False, **more):
        out.append({"variant": variant, "a": a, "b": b, **more, **full(e, with_tokens)})

    t = make()
    for i in picks:
        record("pair", i, i + 1, t.encode(texts[i], texts[i + 1]), with_tokens=True)
        record("single_no_special", i, -1, t.encode(texts[i], add_special_tokens=False))
    settings = [
        ("longest_first_32_stride4", dict(max_length=32, stride=4, strategy="longest_first")),
        ("only_first_40", dict(max_length=40, strategy="only_first")),
        ("only_second_40", dict(max_length=40, strategy="only_second")),
        ("left_24_stride2", dict(max_length=24, stride=2, strategy="longest_first", direction="left")),
    ]
    if not with_truncation_and_padding:
        settings = []
    for variant, kw in settings:
        t = make()
        t.enable_truncation(**kw)
        for n, i in enumerate(picks):
            try:
                # Strided pairs multiply their overflowing parts: a few are enough.
                if not (kw.get("stride") and n >= 12):
                    record(variant, i, i + 1, t.encode(texts[i], texts[i + 1]))
            except Exception as err:  # e.g. only_first when the first text is too short
                out.append({"variant": variant, "a": i, "b": i + 1, "error": str(err)})
            try:
                record(variant + "_single", i, -1, t.encode(texts[i]))
            except Exception as err:
                out.append({"variant": variant + "_single", "a": i, "b": -1, "error": str(err)})
    paddings = [("pad_longest_multiple8", dict(pad_to_multiple_of=8)), ("pad_left_fixed64", dict(length=64, direction="left"))]
    for variant, kw in paddings if with_truncation_and_padding else []:
        t = make()
        t.enable_truncation(max_length=60)
        pad_id = t.token_to_id("[PAD]")
        kw = dict(kw, pad_id=pad_id if pad_id is not None else 0, pad_token="[PAD]" if pad_id is not None else "<|endoftext|>")
        t.enable_padding(**kw)
        for start in range(0, len(picks), 8):
            batch = picks[start:start + 8]
            for i, e in zip(batch, t.encode_batch([texts[i] for i in batch])):
                record(variant, i, -1, e, batch=batch[0])
    t = make()
    for i in picks:
        ids = t.encode(texts[i]).ids
        out.append({"variant": "decode", "a": i, "b": -1, "ids": ids, "text": t.decode(ids),
                    "text_with_special": t.decode(ids, skip_special_tokens=False)})
    with open(GOLDEN / f"{name}.extra.jsonl", "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


def components(texts):
    N, P = normalizers, pre_tokenizers
    hard = len(texts) - len(read_lines(GOLDEN / "hard_cases.txt"))
    en = list(range(0, 4000, 40))
    zh = [i for i in range(4000, hard, 80) if len(texts[i].encode()) <= 120][:100]
    picks = en + zh + list(range(hard, len(texts)))
    gpt2_regex = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    norms = [
        N.NFD(), N.NFC(), N.Lowercase(), N.StripAccents(), N.Sequence([N.NFD(), N.StripAccents(), N.Lowercase()]),
        N.Sequence([N.NFC(), N.Lowercase()]), N.Strip(), N.Strip(left=False), N.Replace("e", "EE"),
        N.BertNormalizer(clean_text=False), N.BertNormalizer(handle_chinese_chars=False, lowercase=False),
        N.BertNormalizer(strip_accents=True, lowercase=False), N.BertNormalizer(strip_accents=False),
    ]
    pres = [
        P.BertPreTokenizer(), P.Whitespace(), P.WhitespaceSplit(), P.Digits(False), P.Digits(True),
        *[P.Punctuation(b) for b in ("removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous")],
        *[P.Split(" ", b, invert=inv) for b in ("removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous") for inv in (False, True)],
        P.Split(Regex(gpt2_regex), "isolated"), P.Split(Regex(gpt2_regex), "removed", invert=True),
        P.Sequence([P.WhitespaceSplit(), P.Punctuation()]), P.Sequence([P.Whitespace(), P.Digits(True)]),
    ]
    with open(GOLDEN / "components.jsonl", "w", encoding="utf-8") as f:
        for n in norms:
            f.write(json.dumps({"normalizer": json.loads(n.__getstate__()), "inputs": picks,
                                "outputs": [n.normalize_str(texts[i]) for i in picks]}, ensure_ascii=False) + "\n")
        for p in pres:
            f.write(json.dumps({"pre_tokenizer": json.loads(p.__getstate__()), "inputs": picks,
                                "outputs": [[o for _, off in p.pre_tokenize_str(texts[i]) for o in off] for i in picks]}, ensure_ascii=False) + "\n")


def main():
    texts = inputs()
    print(f"{len(texts)} inputs, tokenizers {tokenizers.__version__}", file=sys.stderr)
    configs = {"bert-base-uncased": bert_uncased, "bert-base-chinese": bert_chinese, "gpt2": gpt2}
    for name, make in configs.items():
        t = make()
        encodings = t.encode_batch(texts)
        with open(GOLDEN / f"{name}.golden", "w", encoding="utf-8") as f:
            f.write(f"# HF tokenizers {tokenizers.__version__}, config {name}, {len(texts)} inputs\n")
            for i, e in enumerate(encodings):
                f.write(f"{i}\t{compact(e)}\n")
        extra_records(make, texts, name)
    extra_records(gpt2_trimmed, texts, "gpt2-trimmed", with_truncation_and_padding=False)
    components(texts)
    for p in sorted(GOLDEN.glob("*.golden")) + sorted(GOLDEN.glob("*.jsonl")):
        print(f"{p.name}: {p.stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
