#pragma once
// Multi-head self-attention over packed sequences: for each sequence and head,
// softmax(Q Kᵀ / sqrt(d) + mask) V. Each sequence attends only to its own tokens, so the
// packed batch needs no padding mask; a mask is applied only where the caller's
// attention_mask has zeros inside a sequence (BertModel's additive mask, finfo.min).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "shopml/backend/kernels.hpp"
#include "shopml/nn/bert_config.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/token_batch.hpp"
#include "shopml/parallel.hpp"

namespace shopml::nn {

// Scratch for one attention call: scores [heads × L × L] and one additive mask row [L],
// sized for the longest sequence of the batch.
template <class Backend>
struct attention_scratch {
  buffer<Backend> scores;
  buffer<Backend> mask;

  attention_scratch() = default;
  attention_scratch(const Backend& backend, const bert_config& config, std::size_t max_length)
      : scores(backend, config.num_attention_heads * max_length * max_length), mask(backend, max_length) {}
};

// What a training forward pass keeps of attention: the probabilities of every sequence
// before dropout (sequence s's heads × n × n block at probs + attention_offsets()[s]), and
// the dropout applied to them (inverted dropout on the probabilities, as BertSelfAttention).
// Every sequence has its own regions, so sequences run in parallel.
struct attention_record {
  float* probs = nullptr;
  float dropout = 0.0f;
  std::uint64_t key = 0;     // the layer's dropout key
  float* dropped = nullptr;  // as probs: the dropped probabilities, when dropout > 0
  float* masks = nullptr;    // [tokens]: each sequence's additive mask row at its first token
};

// Where each sequence's heads × n × n probabilities start in attention_record::probs; the
// last entry is the total.
inline std::vector<std::size_t> attention_offsets(const token_batch& batch, std::size_t heads) {
  std::vector<std::size_t> offsets{0};
  for (std::size_t s = 0; s < batch.size(); ++s) offsets.push_back(offsets.back() + heads * batch.length(s) * batch.length(s));
  return offsets;
}

// The additive mask row of sequence s (finfo.min where attention_mask is 0), uploaded to
// `mask`; null when the sequence attends to all its tokens.
template <class Backend>
const float* sequence_mask(const token_batch& batch, std::size_t s, float* mask) {
  if (!batch.masked(s)) return nullptr;
  std::vector<float> host(batch.length(s), 0.0f);
  for (std::size_t t = 0; t < host.size(); ++t)
    if (!batch.attention_mask[batch.begin(s) + t]) host[t] = std::numeric_limits<float>::lowest();
  buffer<Backend>::upload(mask, host);
  return mask;
}

// Runs fn(s, inner_threads) for every sequence: across sequences, one thread each, when
// each has its own scratch (many small products parallelise better across sequences
// than inside them), else one sequence after another with the threads inside.
template <class Fn>
void for_each_sequence(const token_batch& batch, bool own_scratch, int threads, Fn&& fn) {
  if (own_scratch && batch.size() > 1)
    parallel_for(0, static_cast<std::ptrdiff_t>(batch.size()), threads,
                 [&](std::ptrdiff_t s) { fn(static_cast<std::size_t>(s), 1); });
  else
    for (std::size_t s = 0; s < batch.size(); ++s) fn(s, threads);
}

// context[tokens × hidden] from qkv[tokens × 3·hidden] (Q, K and V side by side per token;
// head h uses columns [h·d, (h+1)·d) of each). With a record (training), the probabilities
// are kept there and dropout is applied.
template <class Backend>
void self_attention(const bert_config& config, const token_batch& batch, const float* qkv, float* context,
                    attention_scratch<Backend>& scratch, int threads, const attention_record* record = nullptr) {
  using K = kernels<Backend>;
  const std::size_t h = config.hidden_size, heads = config.num_attention_heads, d = config.head_dim();
  const std::size_t ld = 3 * h;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const auto offsets = record ? attention_offsets(batch, heads) : std::vector<std::size_t>{};
  for_each_sequence(batch, record != nullptr, threads, [&](std::size_t s, int inner) {
    const std::size_t n = batch.length(s);
    if (n == 0) return;
    const float* q = qkv + batch.begin(s) * ld;
    float* scores = record ? record->probs + offsets[s] : scratch.scores.data();
    float* mask = record ? record->masks + batch.begin(s) : scratch.mask.data();
    // scores[head] = scale · Q_head · K_headᵀ   (n × n per head)
    K::gemm_batched(true, heads, n, n, d, scale, q, ld, d, q + h, ld, d, 0.0f, scores, n, n * n, inner);
    K::softmax_rows(scores, heads * n, n, n, sequence_mask<Backend>(batch, s, mask), heads * n, inner);
    const float* probs = scores;
    if constexpr (training_kernel_set<K>)  // (backends without training kernels never get a record)
      if (record && record->dropout > 0.0f) {
        float* dropped = record->dropped + offsets[s];
        buffer<Backend>::copy(dropped, scores, heads * n * n);
        K::dropout(dropped, heads * n * n, record->dropout, record->key, offsets[s], inner);
        probs = dropped;
      }
    // context_head = P_head · V_head, written into the head's columns of the context rows
    K::gemm_batched(false, heads, n, d, n, 1.0f, probs, n, n * n, q + 2 * h, ld, d, 0.0f, context + batch.begin(s) * h, h, d,
                    inner);
  });
}

}  // namespace shopml::nn
