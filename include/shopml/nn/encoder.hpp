#pragma once
// nn::bert_encoder<Backend>: a Hugging Face BertModel (embeddings + N layers), loaded
// from config.json + model.safetensors, returning the last hidden state. The algorithm
// is written once against kernels<Backend>, buffer<Backend> and weight<Backend>.
//
//   auto bert = shopml::nn::bert_encoder<>::from_directory("all-MiniLM-L6-v2");
//   shopml::nn::token_batch batch;
//   batch.add(std::vector<int>{101, 7592, 102});
//   auto hidden = bert.forward(batch);   // [3 × 384], backend memory

#include <cstddef>
#include <filesystem>
#include <utility>
#include <vector>

#include "shopml/backend/cpu.hpp"  // the default backend
#include "shopml/backend/kernels.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/nn/bert_config.hpp"
#include "shopml/nn/bert_weights.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/embeddings.hpp"
#include "shopml/nn/layer.hpp"
#include "shopml/nn/precision.hpp"
#include "shopml/nn/token_batch.hpp"

namespace shopml::nn {

template <class Backend = cpu>
class bert_encoder {
 public:
  bert_encoder(bert_config config, const io::safetensors_file& file, Backend backend = {}, const load_options& options = {})
      : config_(config),
        backend_(std::move(backend)),
        weights_(bert_weights<Backend>::load(file, config_, backend_)),
        precision_(options.precision) {
    layers_.reserve(weights_.layers.size());
    for (const auto& w : weights_.layers) layers_.emplace_back(backend_, w, config_, precision_);
  }

  // config.json and model.safetensors of a Hugging Face model directory.
  static bert_encoder from_directory(const std::filesystem::path& dir, Backend backend = {}) {
    return from_directory(dir, load_options{}, std::move(backend));
  }
  static bert_encoder from_directory(const std::filesystem::path& dir, const load_options& options, Backend backend = {}) {
    return bert_encoder(bert_config::from_file(dir / "config.json"), io::safetensors_file::open(dir / "model.safetensors"),
                        std::move(backend), options);
  }

  const bert_config& config() const { return config_; }
  nn::precision precision() const { return precision_; }
  const Backend& backend() const { return backend_; }
  std::size_t hidden_size() const { return config_.hidden_size; }
  const bert_weights<Backend>& weights() const { return weights_; }
  const std::vector<bert_layer<Backend>>& layers() const { return layers_; }

  // The last hidden state [batch.tokens() × hidden] in the backend's memory. value_error
  // for ids outside the vocabulary or sequences longer than max_position_embeddings.
  // Thread-safe: all activations are allocated per call.
  buffer<Backend> forward(const token_batch& batch, int threads = 0) const {
    check_tokens(batch, config_);
    buffer<Backend> hidden(backend_, batch.tokens() * config_.hidden_size);
    if (batch.tokens() == 0) return hidden;
    embed<Backend>(tables_of(weights_.embeddings), config_, batch, hidden.data(), threads);
    layer_scratch<Backend> scratch(backend_, config_, batch);
    for (const auto& layer : layers_) layer.forward(config_, batch, hidden.data(), scratch, threads);
    return hidden;
  }

 private:
  bert_config config_;
  Backend backend_;
  bert_weights<Backend> weights_;
  nn::precision precision_ = nn::precision::fp32;
  std::vector<bert_layer<Backend>> layers_;  // after weights_: they read its tensors
};

}  // namespace shopml::nn
