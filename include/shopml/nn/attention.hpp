#pragma once
// Multi-head self-attention over packed sequences: for each sequence and head,
// softmax(Q Kᵀ / sqrt(d) + mask) V. Each sequence attends only to its own tokens, so the
// packed batch needs no padding mask; a mask is applied only where the caller's
// attention_mask has zeros inside a sequence (BertModel's additive mask, finfo.min).

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "shopml/backend/kernels.hpp"
#include "shopml/nn/bert_config.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/token_batch.hpp"

namespace shopml::nn {

// Scratch for one attention call: scores [heads × L × L] and one additive mask row [L],
// sized for the longest sequence of the batch.
template <class Backend>
struct attention_scratch {
  buffer<Backend> scores;
  buffer<Backend> mask;

  attention_scratch(const Backend& backend, const bert_config& config, std::size_t max_length)
      : scores(backend, config.num_attention_heads * max_length * max_length), mask(backend, max_length) {}
};

// context[tokens × hidden] from qkv[tokens × 3·hidden] (Q, K and V side by side per token;
// head h uses columns [h·d, (h+1)·d) of each).
template <class Backend>
void self_attention(const bert_config& config, const token_batch& batch, const float* qkv, float* context,
                    attention_scratch<Backend>& scratch, int threads) {
  using K = kernels<Backend>;
  const std::size_t h = config.hidden_size, heads = config.num_attention_heads, d = config.head_dim();
  const std::size_t ld = 3 * h;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> host_mask;
  for (std::size_t s = 0; s < batch.size(); ++s) {
    const std::size_t n = batch.length(s);
    if (n == 0) continue;
    const float* q = qkv + batch.begin(s) * ld;
    float* scores = scratch.scores.data();
    // scores[head] = scale · Q_head · K_headᵀ   (n × n per head)
    K::gemm_batched(true, heads, n, n, d, scale, q, ld, d, q + h, ld, d, 0.0f, scores, n, n * n, threads);
    const float* mask = nullptr;
    if (batch.masked(s)) {
      host_mask.assign(n, 0.0f);
      for (std::size_t t = 0; t < n; ++t)
        if (!batch.attention_mask[batch.begin(s) + t]) host_mask[t] = std::numeric_limits<float>::lowest();
      buffer<Backend>::upload(scratch.mask.data(), host_mask);
      mask = scratch.mask.data();
    }
    K::softmax_rows(scores, heads * n, n, n, mask, heads * n, threads);
    // context_head = P_head · V_head, written into the head's columns of the context rows
    K::gemm_batched(false, heads, n, d, n, 1.0f, scores, n, n * n, q + 2 * h, ld, d, 0.0f,
                    context + batch.begin(s) * h, h, d, threads);
  }
}

}  // namespace shopml::nn
