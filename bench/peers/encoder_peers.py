#!/usr/bin/env python3
"""The peers of bench/peers/encoder.sh: texts -> all-MiniLM-L6-v2 sentence embeddings with
ONNX Runtime (the exported graph, HF tokenizers in front; and the same graph after
onnxruntime.quantization.quantize_dynamic, INT8 weights: engine "onnxruntime_int8", batch 32
only) and with PyTorch (sentence-transformers' own encode). Both sort texts by length and pad each batch to its
longest text, as sentence-transformers does. One JSON line per (engine, threads, batch);
the 2-thread batch-32 embeddings of each engine go to OUT_DIR/<engine>.f32.

usage: encoder_peers.py MODEL_DIR MODEL.onnx TEXTS_FILE OUT_DIR [--threads 1 2] [--batch 1 32] [--runs 3]
"""
import argparse
import json
import os
import time

import numpy as np
import onnxruntime as ort
import torch
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer


def timed(fn, runs):
    """Wall-clock and process CPU seconds of each run (see encoder.sh's CLOCK)."""
    seconds, cpu_seconds, out = [], [], None
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        out = fn()
        cpu_seconds.append(time.process_time() - cpu_start)
        seconds.append(time.perf_counter() - start)
    return seconds, cpu_seconds, out


def ort_encoder(model_dir, onnx_path, threads, max_len):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_len)

    def encode(texts, batch):
        encodings = tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out = np.empty((len(texts), 384), dtype=np.float32)
        for first in range(0, len(order), batch):
            chunk = order[first:first + batch]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            out[chunk] = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                            "token_type_ids": np.zeros_like(ids)})[0]
        return out
    return encode


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model_dir")
    p.add_argument("onnx")
    p.add_argument("texts")
    p.add_argument("out_dir")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    with open(a.texts, encoding="utf-8") as f:
        texts = f.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()

    from onnxruntime.quantization import QuantType, quantize_dynamic
    int8_path = a.onnx.replace(".onnx", ".int8.onnx")
    if not os.path.exists(int8_path):  # made once for every round of encoder.sh
        quantize_dynamic(a.onnx, int8_path, weight_type=QuantType.QInt8)  # ORT's default recipe for CPU
    st = SentenceTransformer(a.model_dir, device="cpu")
    for threads in a.threads:
        torch.set_num_threads(threads)
        ort_encode = ort_encoder(a.model_dir, a.onnx, threads, st.max_seq_length)
        ort_int8_encode = ort_encoder(a.model_dir, int8_path, threads, st.max_seq_length)
        engines = {
            "onnxruntime": lambda b: ort_encode(texts, b),
            "onnxruntime_int8": lambda b: ort_int8_encode(texts, b),
            "torch": lambda b: st.encode(texts, batch_size=b, convert_to_numpy=True, show_progress_bar=False),
        }
        for name, run in engines.items():
            for batch in a.batch:
                if name == "onnxruntime_int8" and batch != max(a.batch):
                    continue
                with torch.inference_mode():
                    seconds, cpu_seconds, emb = timed(lambda: run(batch), a.runs)
                median = sorted(seconds)[len(seconds) // 2]
                print(json.dumps({"engine": name, "threads": threads, "batch": batch, "texts": len(texts),
                                  "runs": [round(s, 4) for s in seconds], "median_s": round(median, 4),
                                  "cpu_runs": [round(s, 4) for s in cpu_seconds],
                                  "texts_per_s": round(len(texts) / median, 2)}), flush=True)
                if threads == a.threads[-1] and batch == max(a.batch):
                    np.ascontiguousarray(emb, dtype="<f4").tofile(f"{a.out_dir}/{name}.f32")


if __name__ == "__main__":
    main()
