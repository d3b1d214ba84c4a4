#!/usr/bin/env python3
"""Exports a sentence-transformers BERT model (all-MiniLM-L6-v2 by default) to ONNX for the
ONNX Runtime peer of bench/peers/encoder.sh: token ids -> mean-pooled, L2-normalised
embeddings, the whole SentenceTransformer.encode computation after tokenisation.

usage: export_onnx.py MODEL_DIR OUT.onnx
"""
import sys

import torch
from transformers import AutoModel


class SentenceEmbedding(torch.nn.Module):
    def __init__(self, model_dir):
        super().__init__()
        self.bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


def main(model_dir, out):
    model = SentenceEmbedding(model_dir)
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 2088, 102, 0]])
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    dims = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, types), out, input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["embeddings"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": dims, "attention_mask": dims, "token_type_ids": dims,
                                        "embeddings": {0: "batch"}})
    print(f"exported {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
