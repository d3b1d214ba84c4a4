"""Python side of bench/peers/finetune.sh (transformers + torch), and its summary.

  finetune_peer.py prepare CSV WORK [--time-batches N] [--eval-rows N] [--baseline-rows N]
      reads the CSV with the csv module as shopml::io::read_csv does (scripts/golden/finetune.py's
      reader: BOM at the start dropped, empty lines skipped), picks its columns (text,label /
      text_a,text_b,label / review,label) and class order, and writes into WORK:
        meta.json        rows, columns, classes
        classes.txt      one class name per line (class i = line i)
        train.idx        80 % of the records, test.idx 20 %: stratified, random_state=0 (sklearn)
        eval.idx         the held-out records scored: a stratified sample of --eval-rows of test.idx
                         (random_state=0; all of it when 0 or more than it has)
        baseline.idx     the training records of the frozen-embedding baseline: likewise --baseline-rows
                         of train.idx (embedding every record costs minutes on 2 cores)
        time.idx         N batches of 16 training records (RandomState(0)), one batch per line
  finetune_peer.py torch-time WORK THREADS REPEATS [MAX_LENGTH [POOLING]]
      PyTorch's training steps on time.idx's batches: BertForSequenceClassification, or with
      POOLING mean scripts/golden/finetune.py's MeanPoolingClassifier (train mode: dropout on,
      transformers' default attention), each batch tokenised (truncation to
      MAX_LENGTH) and padded to its longest row by DataCollatorWithPadding, torch.optim.AdamW
      (lr 2e-5, weight decay 0.01 except biases and LayerNorm, as HF's Trainer),
      clip_grad_norm_ 1.0, get_linear_schedule_with_warmup; one untimed step, then REPEATS passes;
      prints one JSON line with the median step time.
  finetune_peer.py reload WORK SAVED_DIR LOGITS ROWS [MAX_LENGTH]
      transformers' AutoModelForSequenceClassification.from_pretrained(SAVED_DIR) (the model shopml
      saved; no missing, unexpected or mismatched keys allowed), eval-mode logits of the first ROWS
      eval.idx records against shopml's (LOGITS, float32); prints one JSON line. A directory with
      modules.json (shopml's save with mean pooling) is loaded by sentence-transformers instead,
      SentenceTransformer(SAVED_DIR).encode giving the logits.
  finetune_peer.py summary WORK
      the table and the RESULT line from WORK's JSON lines and parity log.
"""
import csv
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("SHOPML_MODEL_DIR", Path.home() / ".cache/shopml/models/all-MiniLM-L6-v2"))
BATCH = 16


def golden_module():
    """scripts/golden/finetune.py, for its CSV reader and column rules (one definition for both)."""
    sys.path.insert(0, str(ROOT / "scripts" / "golden"))
    import finetune  # noqa: E402
    return finetune


def log(*args):
    print("[finetune_peer.py]", *args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- prepare
def subsample(index, labels, n, stratified):
    """n of `index`, stratified by label like the split (all of them when n is 0 or too large)."""
    from sklearn.model_selection import train_test_split
    if n <= 0 or n >= len(index):
        return index
    strata = [labels[i] for i in index] if stratified else None
    try:
        return train_test_split(index, train_size=n, stratify=strata, random_state=0)[0]
    except ValueError:  # a class too small to stratify a sample this size
        return train_test_split(index, train_size=n, random_state=0)[0]


def prepare(csv_path, work, time_batches, eval_rows, baseline_rows):
    import numpy as np
    from sklearn.model_selection import train_test_split
    g = golden_module()
    header, records = g.read_csv_records(csv_path)
    text_columns, label_column = g.csv_columns(header)
    y = header.index(label_column)
    labels = [r[y] for r in records]
    classes = g.class_names(labels)
    if len(classes) < 2:
        raise SystemExit(f"{csv_path}: column {label_column!r} has {len(classes)} distinct value(s); need at least 2")
    if any("\n" in c or "\r" in c for c in classes):
        raise SystemExit(f"{csv_path}: a label holds a line break")
    counts = {c: 0 for c in classes}
    for label in labels:
        counts[label] += 1
    index = np.arange(len(records))
    stratify = labels if min(counts.values()) >= 2 else None
    if stratify is None:
        log(f"a class has a single record: the 80/20 split is not stratified ({counts})")
    train, test = train_test_split(index, test_size=0.2, stratify=stratify, random_state=0)
    scored = subsample(test, labels, eval_rows, stratify is not None)
    baseline = subsample(train, labels, baseline_rows, stratify is not None)
    rs = np.random.RandomState(0)
    need = time_batches * BATCH
    timing = rs.choice(train, need, replace=len(train) < need).reshape(time_batches, BATCH)
    work.mkdir(parents=True, exist_ok=True)
    (work / "classes.txt").write_text("".join(c + "\n" for c in classes), encoding="utf-8")
    np.savetxt(work / "train.idx", train, fmt="%d")
    np.savetxt(work / "test.idx", test, fmt="%d")
    np.savetxt(work / "eval.idx", scored, fmt="%d")
    np.savetxt(work / "baseline.idx", baseline, fmt="%d")
    np.savetxt(work / "time.idx", timing, fmt="%d")
    meta = {"csv": str(csv_path), "rows": len(records), "text_columns": text_columns, "label_column": label_column,
            "classes": classes, "class_counts": counts, "train": len(train), "test": len(test),
            "eval": len(scored), "baseline_train": len(baseline),
            "stratified": stratify is not None, "time_batches": time_batches}
    (work / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"rows": len(records), "classes": len(classes), "text_columns": text_columns,
                      "label_column": label_column, "train": len(train), "test": len(test), "eval": len(scored),
                      "baseline_train": len(baseline)}, ensure_ascii=False))


def load_work(work):
    g = golden_module()
    meta = json.loads((work / "meta.json").read_text(encoding="utf-8"))
    header, records = g.read_csv_records(Path(meta["csv"]))
    cols = [header.index(c) for c in meta["text_columns"]]
    y = header.index(meta["label_column"])
    klass = {c: i for i, c in enumerate(meta["classes"])}
    texts = [tuple(r[c] for c in cols) for r in records]
    return meta, texts, [klass[r[y]] for r in records]


def read_idx(path):
    return [[int(x) for x in line.split()] for line in path.read_text().splitlines() if line.strip()]


def tokenize(tok, texts, max_length):
    """Per-example features, truncated (pairs longest-first), unpadded (the collator pads)."""
    if len(texts[0]) == 2:
        enc = tok([t[0] for t in texts], [t[1] for t in texts], truncation=True, max_length=max_length)
    else:
        enc = tok([t[0] for t in texts], truncation=True, max_length=max_length)
    return [{k: enc[k][i] for k in ("input_ids", "token_type_ids", "attention_mask")} for i in range(len(texts))]


# ---------------------------------------------------------------- PyTorch training steps
def torch_time(work, threads, repeats, max_length, pooling="pooler"):
    import torch
    from transformers import (AutoTokenizer, BertForSequenceClassification, DataCollatorWithPadding,
                              get_linear_schedule_with_warmup)
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(threads)
    meta, texts, ys = load_work(work)
    batches_idx = read_idx(work / "time.idx")
    tok = AutoTokenizer.from_pretrained(str(MODEL))
    collator = DataCollatorWithPadding(tok)  # pads each batch to its longest row
    batches = []
    for idx in batches_idx:
        feats = tokenize(tok, [texts[i] for i in idx], max_length)
        for f, i in zip(feats, idx):
            f["labels"] = ys[i]
        batches.append(collator(feats))
    torch.manual_seed(0)
    if pooling == "mean":
        from transformers import BertModel
        bert = BertModel.from_pretrained(str(MODEL), add_pooling_layer=False)
        model = golden_module().MeanPoolingClassifier(bert, len(meta["classes"]))
    else:
        model = BertForSequenceClassification.from_pretrained(str(MODEL), num_labels=len(meta["classes"]))
    model.train()
    decay = [p for n, p in model.named_parameters() if "bias" not in n and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if "bias" in n or "LayerNorm" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=2e-5)
    total = 1 + repeats * len(batches)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=max(1, total // 10),
                                                num_training_steps=total)

    def step(batch):
        start = time.perf_counter()
        out = model(**batch)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        return time.perf_counter() - start

    step(batches[0])  # warm-up, untimed
    times = []
    for _ in range(repeats):
        for b in batches:
            times.append(step(b))
            log(f"torch {threads} thread(s) step {len(times)}/{repeats * len(batches)}: "
                f"{tuple(b['input_ids'].shape)} padded, {int(b['attention_mask'].sum())} tokens, {times[-1]:.3f} s")
    attn = getattr(model.config, "_attn_implementation", None)
    print(json.dumps({"engine": "torch", "threads": threads, "step_median_s": statistics.median(times),
                      "steps": len(times), "tokens": [int(b["attention_mask"].sum()) for b in batches],
                      "padded_shapes": [list(b["input_ids"].shape) for b in batches], "step_s": times,
                      "attn_implementation": attn, "torch": torch.__version__}))


# ---------------------------------------------------------------- transformers reloads shopml's save
def reload(work, saved, logits_path, rows, max_length):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    meta, texts, _ = load_work(work)
    test = [i for line in read_idx(work / "eval.idx") for i in line][:rows]
    if (saved / "modules.json").exists():
        return reload_sentence_transformer(meta, [texts[i] for i in test], saved, logits_path, max_length)
    model, info = AutoModelForSequenceClassification.from_pretrained(str(saved), output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        raise SystemExit(f"transformers loaded {saved} with {problems}")
    check_labels(saved, [model.config.id2label[i] for i in range(model.config.num_labels)], meta)
    model.eval()
    tok = AutoTokenizer.from_pretrained(str(saved))
    feats = tokenize(tok, [texts[i] for i in test], max_length)
    with torch.no_grad():
        logits = model(**DataCollatorWithPadding(tok)(feats)).logits.numpy()
    compare_logits("transformers", type(model).__name__,
                   f"transformers {type(model).__name__}.from_pretrained({saved}): no missing/unexpected/mismatched keys",
                   logits, logits_path)


def check_labels(saved, id2label, meta):
    if id2label != meta["classes"]:
        raise SystemExit(f"{saved}: id2label {id2label} is not the classes {meta['classes']}")


def compare_logits(engine, architecture, loaded, logits, logits_path):
    """The reloaded model's logits against shopml's (LOGITS): a log line and the JSON line."""
    import numpy as np
    ours = np.fromfile(logits_path, dtype="<f4").reshape(logits.shape)
    diff = float(np.abs(ours - logits).max())
    agree = float((ours.argmax(1) == logits.argmax(1)).mean())
    log(f"{loaded}: logits of {len(logits)} held-out records max |shopml - {engine}| = {diff:.3g}, "
        f"argmax agreement {agree:.3f}")
    print(json.dumps({"engine": engine, "mode": "reload", "rows": len(logits), "max_abs_diff": diff,
                      "argmax_agreement": agree, "architecture": architecture}))


def reload_sentence_transformer(meta, texts, saved, logits_path, max_length):
    """shopml's save of a mean-pooling classifier, loaded by sentence-transformers: encode = logits."""
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(saved), device="cpu")
    kinds = [type(m).__name__ for m in model]
    if kinds != ["Transformer", "Pooling", "Dense"]:
        raise SystemExit(f"sentence-transformers loaded {saved} as {kinds}, not Transformer, Pooling, Dense")
    config = json.loads((saved / "config.json").read_text(encoding="utf-8"))
    check_labels(saved, [config["id2label"][str(i)] for i in range(len(config["id2label"]))], meta)
    model.max_seq_length = max_length
    if len(texts[0]) == 1:
        logits = model.encode([t[0] for t in texts], batch_size=32, convert_to_numpy=True)
    else:  # encode takes single texts: the pair goes through the modules as one sequence, as shopml's
        import torch
        from transformers import AutoTokenizer, DataCollatorWithPadding
        tok = AutoTokenizer.from_pretrained(str(saved))
        features = dict(DataCollatorWithPadding(tok)(tokenize(tok, texts, max_length)))
        model.eval()
        with torch.no_grad():
            logits = model(features)["sentence_embedding"].numpy()
    compare_logits("sentence-transformers", "SentenceTransformer(" + ", ".join(kinds) + ")",
                   f"sentence-transformers SentenceTransformer({saved}) = {kinds}", logits, logits_path)


# ---------------------------------------------------------------- summary
STEP0 = re.compile(r"\[(\S+)\] step 0: logits max\|d\| (\S+), loss \|d\| (\S+), worst grad rel L2 (\S+) \((.*)\), "
                   r"zero-grad tensors (\d+)")
STEPS = re.compile(r"\[(\S+)\] (\d+) steps: worst loss \|d\| (\S+), worst \|\|theta - theta_torch\|\| / "
                   r"\|\|theta_torch - theta0\|\| (\S+) \((.*)\)")


def jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def summary(work):
    meta = json.loads((work / "meta.json").read_text(encoding="utf-8"))
    parity_log = (work / "parity.log").read_text(errors="replace")
    m0, m10 = STEP0.search(parity_log), STEPS.search(parity_log)
    if not m0 or not m10:
        raise SystemExit(f"no parity lines in {work / 'parity.log'} (the test binary's output)")
    timings = jsonl(work / "timing.jsonl")
    by = {(r["engine"], r["threads"]): r for r in timings}
    train = jsonl(work / "train.jsonl")[-1]
    base = jsonl(work / "baseline.jsonl")[-1]
    rel = jsonl(work / "reload.jsonl")[-1]
    threads = sorted({t for _, t in by})

    print(f"\nCSV {meta['csv']}: {meta['rows']} records, classes {meta['classes']} "
          f"(text columns {meta['text_columns']}, label column {meta['label_column']!r})")
    print(f"parity (golden of 160 records, dropout off, 10 AdamW steps; tests/train via SHOPML_FINETUNE_GOLDEN):")
    print(f"  step 0: logits max|d| {m0.group(2)}, loss |d| {m0.group(3)}, worst grad rel L2 {m0.group(4)} "
          f"({m0.group(5)}), zero-grad tensors {m0.group(6)}")
    print(f"  {m10.group(2)} steps: worst loss |d| {m10.group(3)}, worst param rel {m10.group(4)} ({m10.group(5)})")
    print("\ntraining step (batch 16, max_length 128, dropout on, forward+backward+clip+AdamW; median of "
          f"{by[('shopml', threads[0])]['steps']} steps on the same batches)")
    print("threads  shopml s/step  torch s/step  speedup  shopml padded 16x128  GFLOP/s  gemm GFLOP/s  % of gemm")
    speed = {}
    for t in threads:
        s, p = by[("shopml", t)], by[("torch", t)]
        speed[t] = p["step_median_s"] / s["step_median_s"]
        print(f"{t:7d}  {s['step_median_s']:13.3f}  {p['step_median_s']:12.3f}  {speed[t]:7.2f}  "
              f"{s['padded_step_s']:20.3f}  {s['padded_gflops']:7.1f}  {s['gemm_gflops']:12.1f}  "
              f"{100 * s['padded_gflops'] / s['gemm_gflops']:8.0f}")
    t0 = by[("shopml", threads[0])]
    print(f"  (padded step: {t0['padded_gflop']:.1f} GFLOP of matrix products = 3 x forward; the GEMM rate is "
          f"kernels<cpu>::gemm on {t0['gemm_size']}^3 at the same thread count; tokens per batch "
          f"{t0['tokens']}, torch padded shapes {by[('torch', threads[0])]['padded_shapes']}, "
          f"torch attention {by[('torch', threads[0])].get('attn_implementation')})")
    if t0["tokens"] != by[("torch", threads[0])]["tokens"]:
        print(f"  WARNING: shopml and transformers tokenised the timing batches to different token counts")
    print(f"\nfine-tuning: {train['steps']} steps of 16 on {train['train_rows']} training records "
          f"({train['train_s']:.0f} s, {train['s_per_step']:.2f} s/step, {train['threads']} threads, lr {train['lr']}), "
          f"loss {train['first_loss']:.3f} -> {train['last_loss']:.3f}; [UNK] {100 * train['unk_rate']:.1f} % of tokens")
    print(f"  held-out accuracy {train['accuracy']:.4f} (macro-F1 {train['macro_f1']:.4f}) on {train['test_rows']} of the "
          f"{meta['test']} held-out records; frozen embeddings + logistic regression {base['accuracy']:.4f} on the same "
          f"records (fitted on {base['train_rows']} training records, {base['embed_s']:.0f} s to embed)")
    print(f"  {rel['engine']} reload ({rel['architecture']}) of shopml's save_pretrained: max |logits diff| "
          f"{rel['max_abs_diff']:.2e} on {rel['rows']} records; peak RSS of the training process {train['peak_rss_mb_train']:.0f} MB")
    fmt = lambda x: f"{float(x):.2e}"
    st = lambda t: f"{speed[t]:.2f}" if t in speed else "nan"
    print(f"RESULT rows={meta['rows']} classes={len(meta['classes'])} step0_loss_abs_diff={fmt(m0.group(3))} "
          f"grad_max_rel_l2={fmt(m0.group(4))} loss_max_abs_diff_10={fmt(m10.group(3))} "
          f"param_max_rel={fmt(m10.group(4))} zero_grad_tensors={m0.group(6)} "
          f"hf_reload_max_abs_diff={rel['max_abs_diff']:.2e} speedup_step_1t={st(1)} speedup_step_2t={st(2)} "
          f"accuracy={train['accuracy']:.4f} frozen_lr_accuracy={base['accuracy']:.4f} "
          f"peak_rss_mb={train['peak_rss_mb_train']:.0f}")


def main():
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "prepare":
        opts = {"--time-batches": 10, "--eval-rows": 5000, "--baseline-rows": 10000}
        for name in opts:
            if name in rest:
                i = rest.index(name)
                opts[name] = int(rest[i + 1])
                rest = rest[:i] + rest[i + 2:]
        prepare(Path(rest[0]), Path(rest[1]), *opts.values())
    elif cmd == "torch-time":
        torch_time(Path(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]) if len(rest) > 3 else 128,
                   rest[4] if len(rest) > 4 else "pooler")
    elif cmd == "reload":
        reload(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]), int(rest[4]) if len(rest) > 4 else 128)
    elif cmd == "summary":
        summary(Path(rest[0]))
    else:
        raise SystemExit(f"unknown command {cmd!r}: prepare, torch-time, reload, summary")


if __name__ == "__main__":
    main()
