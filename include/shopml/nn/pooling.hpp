#pragma once
// sentence-transformers pooling of token embeddings into one vector per sequence, over
// the tokens whose attention_mask is 1: CLS (first token), max, mean, mean·sqrt(n)
// (sum / sqrt(n)); several modes concatenate in that order, as Pooling.forward does.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

#include "shopml/nn/sentence_transformers_config.hpp"
#include "shopml/nn/token_batch.hpp"

namespace shopml::nn {

// out[s] (row stride modes·hidden) for each sequence s of the batch, from hidden [T × hidden] on the host.
inline void pool(const pooling_config& config, const token_batch& batch, std::span<const float> hidden, std::size_t width,
                 float* out) {
  const std::size_t stride = config.modes() * width;
  for (std::size_t s = 0; s < batch.size(); ++s) {
    float* o = out + s * stride;
    const std::size_t first = batch.begin(s), n = batch.length(s);
    if (config.cls_token) {
      if (n > 0)
        std::copy_n(hidden.data() + first * width, width, o);
      else
        std::fill_n(o, width, 0.0f);
      o += width;
    }
    if (config.max_tokens) {
      std::fill_n(o, width, -1e9f);  // the value masked tokens take before the max
      for (std::size_t t = first; t < first + n; ++t)
        if (batch.attention_mask[t])
          for (std::size_t j = 0; j < width; ++j) o[j] = std::max(o[j], hidden[t * width + j]);
      o += width;
    }
    if (!config.mean_tokens && !config.mean_sqrt_len_tokens) continue;
    std::fill_n(o, width, 0.0f);
    float count = 0.0f;
    for (std::size_t t = first; t < first + n; ++t) {
      if (!batch.attention_mask[t]) continue;
      count += 1.0f;
      for (std::size_t j = 0; j < width; ++j) o[j] += hidden[t * width + j];
    }
    count = std::max(count, 1e-9f);
    if (config.mean_sqrt_len_tokens) {
      float* sqrt_len = config.mean_tokens ? o + width : o;
      for (std::size_t j = 0; j < width; ++j) sqrt_len[j] = o[j] / std::sqrt(count);
    }
    if (config.mean_tokens)
      for (std::size_t j = 0; j < width; ++j) o[j] /= count;
  }
}

}  // namespace shopml::nn
