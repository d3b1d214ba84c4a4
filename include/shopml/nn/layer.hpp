#pragma once
// One BERT layer (post-LayerNorm, as BertLayer):
//   a = LayerNorm(x + Attention(x) Woᵀ + bo)
//   x = LayerNorm(a + GELU(a W1ᵀ + b1) W2ᵀ + b2)

#include <cstddef>

#include "shopml/backend/kernels.hpp"
#include "shopml/nn/attention.hpp"
#include "shopml/nn/bert_config.hpp"
#include "shopml/nn/bert_weights.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/token_batch.hpp"

namespace shopml::nn {

// Activations of one forward pass, sized for a batch (per call, so forward stays const
// and thread-safe): hidden [T × H] in and out, and the layer's intermediates.
template <class Backend>
struct layer_scratch {
  buffer<Backend> qkv;           // [T × 3H]
  buffer<Backend> context;       // [T × H]
  buffer<Backend> attended;      // [T × H]
  buffer<Backend> intermediate;  // [T × I]
  attention_scratch<Backend> attention;

  layer_scratch(const Backend& backend, const bert_config& config, const token_batch& batch)
      : qkv(backend, batch.tokens() * 3 * config.hidden_size),
        context(backend, batch.tokens() * config.hidden_size),
        attended(backend, batch.tokens() * config.hidden_size),
        intermediate(backend, batch.tokens() * config.intermediate_size),
        attention(backend, config, batch.max_length()) {}
};

// y[T × out] = x[T × in] · Wᵀ + b, with row stride ldy.
template <class Backend>
void linear(const linear_weights<Backend>& w, std::size_t tokens, std::size_t out, std::size_t in, const float* x,
            float* y, std::size_t ldy, int threads) {
  kernels<Backend>::gemm(true, tokens, out, in, 1.0f, x, in, w.w.data(), in, 0.0f, y, ldy, w.b.data(), threads);
}

// Runs one layer in place on hidden[T × H].
template <class Backend>
void bert_layer(const layer_weights<Backend>& w, const bert_config& config, const token_batch& batch, float* hidden,
                layer_scratch<Backend>& scratch, int threads) {
  using K = kernels<Backend>;
  const std::size_t t = batch.tokens(), h = config.hidden_size, inter = config.intermediate_size;
  float* qkv = scratch.qkv.data();
  linear(w.query, t, h, h, hidden, qkv, 3 * h, threads);
  linear(w.key, t, h, h, hidden, qkv + h, 3 * h, threads);
  linear(w.value, t, h, h, hidden, qkv + 2 * h, 3 * h, threads);
  self_attention(config, batch, qkv, scratch.context.data(), scratch.attention, threads);

  float* attended = scratch.attended.data();
  linear(w.attention_output, t, h, h, scratch.context.data(), attended, h, threads);
  K::layer_norm(attended, hidden, attended, t, h, w.attention_norm.gamma.data(), w.attention_norm.beta.data(),
                config.layer_norm_eps, threads);

  float* intermediate = scratch.intermediate.data();
  linear(w.intermediate, t, inter, h, attended, intermediate, inter, threads);
  K::gelu(intermediate, t * inter, config.hidden_act, threads);
  linear(w.output, t, h, inter, intermediate, hidden, h, threads);
  K::layer_norm(hidden, attended, hidden, t, h, w.output_norm.gamma.data(), w.output_norm.beta.data(),
                config.layer_norm_eps, threads);
}

}  // namespace shopml::nn
