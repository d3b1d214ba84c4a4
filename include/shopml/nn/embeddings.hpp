#pragma once
// BERT's input embeddings: word + position + token type, then LayerNorm. Positions
// count from 0 in every sequence, as BertModel's default position_ids do.

#include <cstddef>
#include <string>

#include "shopml/backend/kernels.hpp"
#include "shopml/error.hpp"
#include "shopml/nn/bert_config.hpp"
#include "shopml/nn/bert_weights.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/token_batch.hpp"

namespace shopml::nn {

// Throws value_error naming the sequence and position of the first id the model has no
// row for, or of a sequence longer than max_position_embeddings.
inline void check_tokens(const token_batch& batch, const bert_config& config) {
  const auto at = [&](std::size_t s, std::size_t t) {
    return "sequence " + std::to_string(s) + ", token " + std::to_string(t - batch.begin(s)) + ": ";
  };
  for (std::size_t s = 0; s < batch.size(); ++s) {
    if (batch.length(s) > config.max_position_embeddings)
      throw value_error("sequence " + std::to_string(s) + " has " + std::to_string(batch.length(s)) +
                        " tokens, more than max_position_embeddings " + std::to_string(config.max_position_embeddings));
    for (std::size_t t = batch.begin(s); t < batch.begin(s) + batch.length(s); ++t) {
      if (batch.ids[t] < 0 || static_cast<std::size_t>(batch.ids[t]) >= config.vocab_size)
        throw value_error(at(s, t) + "id " + std::to_string(batch.ids[t]) + " is outside the vocabulary of " +
                          std::to_string(config.vocab_size));
      if (batch.type_ids[t] < 0 || static_cast<std::size_t>(batch.type_ids[t]) >= config.type_vocab_size)
        throw value_error(at(s, t) + "token type " + std::to_string(batch.type_ids[t]) + " is outside type_vocab_size " +
                          std::to_string(config.type_vocab_size));
    }
  }
}

// The embedding tables as pointers into backend memory (loaded weights or a trainable
// parameter set alike).
struct embedding_tables {
  const float* word;        // [vocab_size × hidden]
  const float* position;    // [max_position_embeddings × hidden]
  const float* token_type;  // [type_vocab_size × hidden]
  const float* gamma;
  const float* beta;
};

// out[tokens × hidden] = word[id] + position[p] + token_type[type], before the LayerNorm
// (training keeps this sum for the backward pass); ids checked by check_tokens.
template <class Backend>
void sum_embeddings(const embedding_tables& w, std::size_t h, const token_batch& batch, float* out) {
  using K = kernels<Backend>;
  for (std::size_t s = 0; s < batch.size(); ++s) {
    const std::size_t first = batch.begin(s), n = batch.length(s);
    for (std::size_t t = first; t < first + n; ++t) {
      float* row = out + t * h;
      buffer<Backend>::copy(row, w.word + static_cast<std::size_t>(batch.ids[t]) * h, h);
      K::axpy(h, 1.0f, w.token_type + static_cast<std::size_t>(batch.type_ids[t]) * h, row);
    }
    K::axpy(n * h, 1.0f, w.position, out + first * h);  // positions 0..n-1 are consecutive rows
  }
}

template <class Backend>
embedding_tables tables_of(const embedding_weights<Backend>& w) {
  return {w.word.data(), w.position.data(), w.token_type.data(), w.norm.gamma.data(), w.norm.beta.data()};
}

// out[tokens × hidden] = LayerNorm(word[id] + position[p] + token_type[type]); ids checked by check_tokens.
template <class Backend>
void embed(const embedding_tables& w, const bert_config& config, const token_batch& batch, float* out, int threads) {
  sum_embeddings<Backend>(w, config.hidden_size, batch, out);
  kernels<Backend>::layer_norm(out, nullptr, out, batch.tokens(), config.hidden_size, w.gamma, w.beta, config.layer_norm_eps,
                               threads);
}

}  // namespace shopml::nn
