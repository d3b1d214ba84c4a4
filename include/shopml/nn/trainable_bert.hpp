#pragma once
// A BertModel (embeddings + layers) whose weights live in a parameter_set, with the
// forward pass that keeps what backward needs and the backward pass itself, written
// once against kernels<Backend> (llm.c's layout: one forward/backward pair per step,
// gradients accumulated). Sequences are packed without padding, as in the encoder.
//
// Forward, per layer (post-LayerNorm BERT, dropout as in HF's modules):
//   qkv = x Wqkvᵀ + bqkv;  P = softmax(Q Kᵀ/√d + mask);  C = dropout(P) V
//   s1 = x + dropout(C Woᵀ + bo);          a = LayerNorm(s1)
//   u  = a W1ᵀ + b1;  g = gelu(u);   s2 = a + dropout(g W2ᵀ + b2);  x' = LayerNorm(s2)
// Backward runs the same steps in reverse; dropout re-applies its forward mask (the
// counter-based generator gives the same mask for the same key and element).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "shopml/backend/kernels.hpp"
#include "shopml/error.hpp"
#include "shopml/nn/attention.hpp"
#include "shopml/nn/bert_config.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/embeddings.hpp"
#include "shopml/nn/parameters.hpp"
#include "shopml/nn/token_batch.hpp"

namespace shopml::nn {

// A dropout key for one site of one step: the same (seed, step, site) always gives the
// same mask, and different sites or steps independent ones.
inline std::uint64_t dropout_key(std::uint64_t seed, std::uint64_t step, std::uint64_t site) {
  const auto mix = [](std::uint64_t x) {  // splitmix64's finaliser
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  return mix(seed ^ mix(step * 0x10000ULL + site));
}

// Whether and how a forward pass drops out: off for evaluation and parity runs.
struct dropout_plan {
  bool enabled = false;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  std::uint64_t key(std::uint64_t site) const { return dropout_key(seed, step, site); }
};

// Makes `b` hold at least n floats (reusing it across steps of similar size).
template <class Backend>
void ensure_size(buffer<Backend>& b, const Backend& backend, std::size_t n) {
  if (b.size() < n) b = buffer<Backend>(backend, n);
}

// What one forward pass keeps for backward, and the backward pass's scratch; reused
// across steps (buffers only grow).
template <class Backend>
struct bert_activations {
  struct layer {
    buffer<Backend> qkv;            // [T × 3H]
    buffer<Backend> probs;          // attention probabilities before dropout, attention_offsets()
    buffer<Backend> context;        // [T × H]
    buffer<Backend> attention_sum;  // s1 [T × H]
    buffer<Backend> attended;       // a  [T × H]
    buffer<Backend> intermediate;   // u  [T × I]
    buffer<Backend> activated;      // g  [T × I]
    buffer<Backend> output_sum;     // s2 [T × H]
  };
  buffer<Backend> embedding_sum;        // [T × H] before the embeddings' LayerNorm
  std::vector<buffer<Backend>> hidden;  // L + 1 of [T × H]: embeddings' output, then each layer's
  std::vector<layer> layers;
  buffer<Backend> d_hidden, d_sum, d_context, d_qkv, d_intermediate;
  buffer<Backend> d_probs, dropped;      // laid out as the probabilities (attention_offsets)
  buffer<Backend> masks;                 // [T]: each sequence's additive mask row
  attention_scratch<Backend> attention;  // unused by training, which gives each sequence its own regions

  void prepare(const Backend& backend, const bert_config& c, const token_batch& batch) {
    const std::size_t t = batch.tokens(), h = c.hidden_size, i = c.intermediate_size;
    const std::size_t probs = attention_offsets(batch, c.num_attention_heads).back();
    hidden.resize(c.num_hidden_layers + 1);
    layers.resize(c.num_hidden_layers);
    ensure_size(embedding_sum, backend, t * h);
    for (auto& x : hidden) ensure_size(x, backend, t * h);
    for (auto& a : layers) {
      ensure_size(a.qkv, backend, t * 3 * h);
      ensure_size(a.probs, backend, probs);
      for (auto* b : {&a.context, &a.attention_sum, &a.attended, &a.output_sum}) ensure_size(*b, backend, t * h);
      ensure_size(a.intermediate, backend, t * i);
      ensure_size(a.activated, backend, t * i);
    }
    for (auto* b : {&d_hidden, &d_sum, &d_context}) ensure_size(*b, backend, t * h);
    ensure_size(d_qkv, backend, t * 3 * h);
    ensure_size(d_intermediate, backend, t * i);
    ensure_size(d_probs, backend, probs);
    ensure_size(dropped, backend, probs);
    ensure_size(masks, backend, t);
  }
  const float* last_hidden() const { return hidden.back().data(); }
};

template <class Backend>
class trainable_bert {
  using K = kernels<Backend>;
  static_assert(training_kernel_set<K>, "training needs a backend with the training kernels");

 public:
  // Dropout sites: the embeddings, three per layer, then the heads' own.
  static std::uint64_t head_dropout_site(const bert_config& c) { return 1 + 3 * c.num_hidden_layers; }

  // Declares BertModel's tensors, named `prefix` + HF's names ("bert." for task models).
  static void declare(parameter_layout& layout, const bert_config& c, const std::string& prefix) {
    const std::size_t h = c.hidden_size, inter = c.intermediate_size;
    layout.add_weight(prefix + "embeddings.word_embeddings.weight", {c.vocab_size, h});
    layout.add_weight(prefix + "embeddings.position_embeddings.weight", {c.max_position_embeddings, h});
    layout.add_weight(prefix + "embeddings.token_type_embeddings.weight", {c.type_vocab_size, h});
    declare_norm(layout, prefix + "embeddings.LayerNorm", h);
    for (std::size_t l = 0; l < c.num_hidden_layers; ++l) {
      const std::string p = prefix + "encoder.layer." + std::to_string(l) + ".";
      // query, key and value one after another: one stacked [3H × H] matrix and [3H] bias.
      for (const char* part : {"query", "key", "value"}) declare_linear(layout, p + "attention.self." + part, h, h);
      declare_linear(layout, p + "attention.output.dense", h, h);
      declare_norm(layout, p + "attention.output.LayerNorm", h);
      declare_linear(layout, p + "intermediate.dense", inter, h);
      declare_linear(layout, p + "output.dense", h, inter);
      declare_norm(layout, p + "output.LayerNorm", h);
    }
  }
  static void declare_linear(parameter_layout& layout, const std::string& name, std::size_t out, std::size_t in) {
    layout.add_weight(name + ".weight", {out, in});
    layout.add_no_decay(name + ".bias", {out});
  }
  static void declare_norm(parameter_layout& layout, const std::string& name, std::size_t h) {
    layout.add_no_decay(name + ".weight", {h});
    layout.add_no_decay(name + ".bias", {h});
  }

  trainable_bert() = default;
  trainable_bert(const bert_config& c, const parameter_set<Backend>& params, const std::string& prefix) : config_(c) {
    const auto at = [&](const std::string& name) { return params.info(name).offset; };
    const auto linear = [&](const std::string& name) { return linear_at{at(name + ".weight"), at(name + ".bias")}; };
    const auto norm = [&](const std::string& name) { return linear_at{at(name + ".weight"), at(name + ".bias")}; };
    word_ = at(prefix + "embeddings.word_embeddings.weight");
    position_ = at(prefix + "embeddings.position_embeddings.weight");
    token_type_ = at(prefix + "embeddings.token_type_embeddings.weight");
    embedding_norm_ = norm(prefix + "embeddings.LayerNorm");
    const std::size_t h = c.hidden_size;
    for (std::size_t l = 0; l < c.num_hidden_layers; ++l) {
      const std::string p = prefix + "encoder.layer." + std::to_string(l) + ".";
      const std::string self = p + "attention.self.";
      layer_at layer{
          linear(self + "query"),           linear(p + "attention.output.dense"), norm(p + "attention.output.LayerNorm"),
          linear(p + "intermediate.dense"), linear(p + "output.dense"),           norm(p + "output.LayerNorm")};
      if (at(self + "key.weight") != layer.qkv.w + h * h || at(self + "value.weight") != layer.qkv.w + 2 * h * h ||
          at(self + "key.bias") != layer.qkv.b + h || at(self + "value.bias") != layer.qkv.b + 2 * h)
        throw value_error("layer " + std::to_string(l) + ": query, key and value are not stacked");
      layers_.push_back(layer);
    }
  }

  const bert_config& config() const { return config_; }

  // Runs the encoder on `batch` (ids checked first), keeping activations for backward;
  // the last hidden state is acts.last_hidden().
  void forward(const Backend& backend, const parameter_set<Backend>& params, const token_batch& batch,
               bert_activations<Backend>& acts, const dropout_plan& dropout, int threads) const {
    check_tokens(batch, config_);
    acts.prepare(backend, config_, batch);
    const float* p = params.values();
    const std::size_t t = batch.tokens(), h = config_.hidden_size, inter = config_.intermediate_size;
    const float eps = config_.layer_norm_eps;
    const float hidden_p = dropout.enabled ? config_.hidden_dropout_prob : 0.0f;
    const auto drop = [&](float* x, std::size_t n, std::uint64_t site) {
      if (hidden_p > 0.0f) K::dropout(x, n, hidden_p, dropout.key(site), 0, threads);
    };

    sum_embeddings<Backend>(tables(p), h, batch, acts.embedding_sum.data());
    K::layer_norm(acts.embedding_sum.data(), nullptr, acts.hidden[0].data(), t, h, p + embedding_norm_.w, p + embedding_norm_.b,
                  eps, threads);
    drop(acts.hidden[0].data(), t * h, 0);

    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const layer_at& w = layers_[l];
      auto& a = acts.layers[l];
      const float* x = acts.hidden[l].data();
      K::gemm(true, t, 3 * h, h, 1.0f, x, h, p + w.qkv.w, h, 0.0f, a.qkv.data(), 3 * h, p + w.qkv.b, threads);
      const attention_record record{a.probs.data(), dropout.enabled ? config_.attention_probs_dropout_prob : 0.0f,
                                    dropout.key(1 + 3 * l), acts.dropped.data(), acts.masks.data()};
      self_attention(config_, batch, a.qkv.data(), a.context.data(), acts.attention, threads, &record);

      K::gemm(true, t, h, h, 1.0f, a.context.data(), h, p + w.attention_output.w, h, 0.0f, a.attention_sum.data(), h,
              p + w.attention_output.b, threads);
      drop(a.attention_sum.data(), t * h, 2 + 3 * l);
      K::axpy(t * h, 1.0f, x, a.attention_sum.data());
      K::layer_norm(a.attention_sum.data(), nullptr, a.attended.data(), t, h, p + w.attention_norm.w, p + w.attention_norm.b, eps,
                    threads);

      K::gemm(true, t, inter, h, 1.0f, a.attended.data(), h, p + w.intermediate.w, h, 0.0f, a.intermediate.data(), inter,
              p + w.intermediate.b, threads);
      buffer<Backend>::copy(a.activated.data(), a.intermediate.data(), t * inter);
      K::gelu(a.activated.data(), t * inter, config_.hidden_act, threads);
      K::gemm(true, t, h, inter, 1.0f, a.activated.data(), inter, p + w.output.w, inter, 0.0f, a.output_sum.data(), h,
              p + w.output.b, threads);
      drop(a.output_sum.data(), t * h, 3 + 3 * l);
      K::axpy(t * h, 1.0f, a.attended.data(), a.output_sum.data());
      K::layer_norm(a.output_sum.data(), nullptr, acts.hidden[l + 1].data(), t, h, p + w.output_norm.w, p + w.output_norm.b, eps,
                    threads);
    }
  }

  // Accumulates into params' gradients the backward pass of the last forward(), given the
  // gradient of the loss with respect to the last hidden state in acts.d_hidden [T × H]
  // (overwritten on the way).
  void backward(parameter_set<Backend>& params, const token_batch& batch, bert_activations<Backend>& acts,
                const dropout_plan& dropout, int threads) const {
    const float* p = params.values();
    float* g = params.grads();
    const std::size_t t = batch.tokens(), h = config_.hidden_size, inter = config_.intermediate_size;
    const float eps = config_.layer_norm_eps;
    const float hidden_p = dropout.enabled ? config_.hidden_dropout_prob : 0.0f;
    const auto drop = [&](float* x, std::size_t n, std::uint64_t site) {
      if (hidden_p > 0.0f) K::dropout(x, n, hidden_p, dropout.key(site), 0, threads);
    };
    float* dh = acts.d_hidden.data();  // gradient of the current layer's output, then of its input
    float* ds = acts.d_sum.data();
    for (std::size_t l = layers_.size(); l-- > 0;) {
      const layer_at& w = layers_[l];
      auto& a = acts.layers[l];
      const float* x = acts.hidden[l].data();
      // x' = LayerNorm(s2): ds2; the residual sends it to a, dropout(dense) to the FFN.
      K::layer_norm_backward(dh, a.output_sum.data(), p + w.output_norm.w, t, h, eps, ds, g + w.output_norm.w,
                             g + w.output_norm.b, threads);
      float* da = dh;  // dh is consumed: reuse it for the gradient of a
      buffer<Backend>::copy(da, ds, t * h);
      drop(ds, t * h, 3 + 3 * l);
      linear_backward(t, h, inter, ds, a.activated.data(), p + w.output.w, g + w.output.w, g + w.output.b,
                      acts.d_intermediate.data(), 0.0f, threads);
      K::gelu_backward(a.intermediate.data(), acts.d_intermediate.data(), t * inter, config_.hidden_act, threads);
      linear_backward(t, inter, h, acts.d_intermediate.data(), a.attended.data(), p + w.intermediate.w, g + w.intermediate.w,
                      g + w.intermediate.b, da, 1.0f, threads);
      // a = LayerNorm(s1): ds1; the residual sends it to x, dropout(dense) to attention.
      K::layer_norm_backward(da, a.attention_sum.data(), p + w.attention_norm.w, t, h, eps, ds, g + w.attention_norm.w,
                             g + w.attention_norm.b, threads);
      float* dx = dh;
      buffer<Backend>::copy(dx, ds, t * h);
      drop(ds, t * h, 2 + 3 * l);
      linear_backward(t, h, h, ds, a.context.data(), p + w.attention_output.w, g + w.attention_output.w, g + w.attention_output.b,
                      acts.d_context.data(), 0.0f, threads);
      attention_backward(batch, a, acts, dropout, 1 + 3 * l, threads);
      linear_backward(t, 3 * h, h, acts.d_qkv.data(), x, p + w.qkv.w, g + w.qkv.w, g + w.qkv.b, dx, 1.0f, threads);
    }
    // hidden[0] = dropout(LayerNorm(word + position + token_type))
    drop(dh, t * h, 0);
    K::layer_norm_backward(dh, acts.embedding_sum.data(), p + embedding_norm_.w, t, h, eps, ds, g + embedding_norm_.w,
                           g + embedding_norm_.b, threads);
    K::scatter_add_rows(t, h, ds, h, batch.ids.data(), g + word_, h, threads);
    K::scatter_add_rows(t, h, ds, h, batch.type_ids.data(), g + token_type_, h, threads);
    for (std::size_t s = 0; s < batch.size(); ++s)  // positions 0..n-1: consecutive rows
      K::axpy(batch.length(s) * h, 1.0f, ds + batch.begin(s) * h, g + position_);
  }

 private:
  struct linear_at {  // offsets of a weight and its bias (or a LayerNorm's gamma and beta)
    std::size_t w = 0, b = 0;
  };
  struct layer_at {
    linear_at qkv, attention_output, attention_norm, intermediate, output, output_norm;
  };

  embedding_tables tables(const float* p) const {
    return {p + word_, p + position_, p + token_type_, p + embedding_norm_.w, p + embedding_norm_.b};
  }

  // For y[T × out] = x[T × in] Wᵀ + b: dW += dyᵀ x, db += Σ_rows dy, dx = dy W + dx_scale · dx.
  static void linear_backward(std::size_t t, std::size_t out, std::size_t in, const float* dy, const float* x, const float* w,
                              float* dw, float* db, float* dx, float dx_scale, int threads) {
    K::gemm_at(out, in, t, 1.0f, dy, out, x, in, 1.0f, dw, in, threads);
    K::add_column_sums(t, out, dy, out, db, threads);
    K::gemm(false, t, in, out, 1.0f, dy, out, w, in, dx_scale, dx, in, nullptr, threads);
  }

  // d_qkv [T × 3H] from d_context, per sequence and head (P the kept probabilities, Pd
  // their dropped copy, S the scaled scores):
  //   dPd = dC Vᵀ;  dV = Pdᵀ dC;  dP = dropout(dPd);  dS = P ⊙ (dP − rowsum(dP ⊙ P));
  //   dQ = scale · dS K;  dK = scale · dSᵀ Q
  void attention_backward(const token_batch& batch, typename bert_activations<Backend>::layer& a, bert_activations<Backend>& acts,
                          const dropout_plan& dropout, std::uint64_t site, int threads) const {
    const std::size_t h = config_.hidden_size, heads = config_.num_attention_heads, d = config_.head_dim();
    const std::size_t ld = 3 * h;
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const float attention_p = dropout.enabled ? config_.attention_probs_dropout_prob : 0.0f;
    const auto offsets = attention_offsets(batch, heads);
    for_each_sequence(batch, true, threads, [&](std::size_t s, int inner) {
      const std::size_t n = batch.length(s), nn = n * n, offset = offsets[s];
      if (n == 0) return;
      const float* q = a.qkv.data() + batch.begin(s) * ld;
      const float* dc = acts.d_context.data() + batch.begin(s) * h;
      float* dq = acts.d_qkv.data() + batch.begin(s) * ld;
      const float* probs = a.probs.data() + offset;
      const float* dropped = probs;
      if (attention_p > 0.0f) {
        float* copy = acts.dropped.data() + offset;
        buffer<Backend>::copy(copy, probs, heads * nn);
        K::dropout(copy, heads * nn, attention_p, dropout.key(site), offset, inner);
        dropped = copy;
      }
      float* dp = acts.d_probs.data() + offset;
      K::gemm_batched(true, heads, n, n, d, 1.0f, dc, h, d, q + 2 * h, ld, d, 0.0f, dp, n, nn, inner);
      K::gemm_at_batched(heads, n, d, n, 1.0f, dropped, n, nn, dc, h, d, 0.0f, dq + 2 * h, ld, d, inner);
      if (attention_p > 0.0f) K::dropout(dp, heads * nn, attention_p, dropout.key(site), offset, inner);
      K::softmax_backward(probs, dp, heads * n, n, n, inner);
      K::gemm_batched(false, heads, n, d, n, scale, dp, n, nn, q + h, ld, d, 0.0f, dq, ld, d, inner);
      K::gemm_at_batched(heads, n, d, n, scale, dp, n, nn, q, ld, d, 0.0f, dq + h, ld, d, inner);
    });
  }

  bert_config config_;
  std::size_t word_ = 0, position_ = 0, token_type_ = 0;
  linear_at embedding_norm_;
  std::vector<layer_at> layers_;
};

}  // namespace shopml::nn
