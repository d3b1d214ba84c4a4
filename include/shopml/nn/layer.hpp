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
#include "shopml/nn/dense.hpp"
#include "shopml/nn/precision.hpp"
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

// One layer, its Linear weights prepared for the backend (dense.hpp).
template <class Backend>
class bert_layer {
 public:
  bert_layer(const Backend& backend, const layer_weights<Backend>& w, const bert_config& config,
             precision format = precision::fp32)
      : qkv_(backend, {&w.query, &w.key, &w.value}, config.hidden_size, format),
        attention_output_(backend, {&w.attention_output}, config.hidden_size, format),
        intermediate_(backend, {&w.intermediate}, config.hidden_size, format),
        output_(backend, {&w.output}, config.intermediate_size, format),
        attention_norm_{w.attention_norm.gamma.data(), w.attention_norm.beta.data()},
        output_norm_{w.output_norm.gamma.data(), w.output_norm.beta.data()} {}

  // Runs the layer in place on hidden[T × H].
  void forward(const bert_config& config, const token_batch& batch, float* hidden, layer_scratch<Backend>& scratch,
               int threads) const {
    using K = kernels<Backend>;
    const std::size_t t = batch.tokens(), h = config.hidden_size, inter = config.intermediate_size;
    float* qkv = scratch.qkv.data();
    qkv_.forward(t, hidden, qkv, 3 * h, threads);
    self_attention(config, batch, qkv, scratch.context.data(), scratch.attention, threads);

    float* attended = scratch.attended.data();
    attention_output_.forward(t, scratch.context.data(), attended, h, threads);
    K::layer_norm(attended, hidden, attended, t, h, attention_norm_.gamma, attention_norm_.beta, config.layer_norm_eps, threads);

    float* intermediate = scratch.intermediate.data();
    intermediate_.forward(t, attended, intermediate, inter, threads);
    K::gelu(intermediate, t * inter, config.hidden_act, threads);
    output_.forward(t, intermediate, hidden, h, threads);
    K::layer_norm(hidden, attended, hidden, t, h, output_norm_.gamma, output_norm_.beta, config.layer_norm_eps, threads);
  }

 private:
  struct norm {
    const float* gamma;
    const float* beta;
  };
  dense<Backend> qkv_, attention_output_, intermediate_, output_;
  norm attention_norm_, output_norm_;
};

}  // namespace shopml::nn
