#pragma once
// The number format of the encoder's dense layers, chosen at load:
//   fp32  as stored;
//   bf16  weights rounded to bfloat16 once, each activation rounded as it enters a product,
//         the exact products summed in fp32 (kernels' packs_weights_bf16; fast on CPUs with
//         AMX-BF16). Embeddings, attention, LayerNorm, GELU and pooling stay fp32.

namespace shopml::nn {

enum class precision { fp32, bf16 };

inline const char* to_string(precision p) { return p == precision::bf16 ? "bf16" : "fp32"; }

// What a model is loaded with (sentence_encoder / bert_encoder from_directory).
struct load_options {
  nn::precision precision = nn::precision::fp32;
};

}  // namespace shopml::nn
