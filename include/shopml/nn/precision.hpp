#pragma once
// The number format of the encoder's dense layers, chosen at load:
//   fp32  as stored;
//   bf16  weights rounded to bfloat16 once, each activation rounded as it enters a product,
//         the exact products summed in fp32 (kernels' packs_weights_bf16; fast on CPUs with
//         AMX-BF16);
//   int8  dynamic quantisation as ONNX Runtime's: weights s8 per output channel once, each
//         row of activations u8 with its own scale and zero point per product, exact integer
//         sums (packs_weights_int8; AMX-INT8 tiles or AVX2, simd/gemm_int8.hpp).
// Either way embeddings, attention, LayerNorm, GELU and pooling stay fp32.

namespace shopml::nn {

enum class precision { fp32, bf16, int8 };

inline const char* to_string(precision p) { return p == precision::bf16 ? "bf16" : p == precision::int8 ? "int8" : "fp32"; }

// What a model is loaded with (sentence_encoder / bert_encoder from_directory).
struct load_options {
  nn::precision precision = nn::precision::fp32;
};

}  // namespace shopml::nn
