#pragma once
// The parameters of a BERT encoder, taken from a safetensors file by their Hugging Face
// names. Checkpoints saved from BertModel name them "embeddings.…"/"encoder.layer.N.…";
// those saved from task models (BertForMaskedLM, …) add a prefix such as "bert.": the
// prefix is found from the word-embedding tensor. Every tensor's shape is checked
// against config.json (shape_error naming the tensor).

#include <cstddef>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/nn/bert_config.hpp"
#include "shopml/nn/buffer.hpp"

namespace shopml::nn {

// "" for a BertModel checkpoint, "bert." (or another task prefix) for task models: found
// from the word-embedding tensor; parse_error when the file has none.
inline std::string checkpoint_prefix(const io::safetensors_file& file) {
  static const std::string anchor = "embeddings.word_embeddings.weight";
  for (const auto& t : file.tensors())
    if (t.name.size() >= anchor.size() && t.name.compare(t.name.size() - anchor.size(), anchor.size(), anchor) == 0)
      return t.name.substr(0, t.name.size() - anchor.size());
  throw parse_error("'" + file.source() + "' has no tensor named '[prefix.]" + anchor + "': not a BERT checkpoint");
}

// A tensor shape as "[a,b]" for error messages.
inline std::string show_shape(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

template <class Backend>
struct linear_weights {
  weight<Backend> w;  // [out, in], nn.Linear layout
  weight<Backend> b;  // [out]
};

template <class Backend>
struct layer_norm_weights {
  weight<Backend> gamma;
  weight<Backend> beta;
};

template <class Backend>
struct embedding_weights {
  weight<Backend> word;        // [vocab_size, hidden]
  weight<Backend> position;    // [max_position_embeddings, hidden]
  weight<Backend> token_type;  // [type_vocab_size, hidden]
  layer_norm_weights<Backend> norm;
};

template <class Backend>
struct layer_weights {
  linear_weights<Backend> query, key, value, attention_output;
  layer_norm_weights<Backend> attention_norm;
  linear_weights<Backend> intermediate, output;
  layer_norm_weights<Backend> output_norm;
};

template <class Backend>
struct bert_weights {
  embedding_weights<Backend> embeddings;
  std::vector<layer_weights<Backend>> layers;
  io::safetensors_file file;  // keeps the mapping alive for CPU weights that view it

  static bert_weights load(const io::safetensors_file& file, const bert_config& config, const Backend& backend) {
    const loader<Backend> get{file, checkpoint_prefix(file), backend};
    const std::size_t h = config.hidden_size, inter = config.intermediate_size;
    embedding_weights<Backend> embeddings{get("embeddings.word_embeddings.weight", {config.vocab_size, h}),
                                          get("embeddings.position_embeddings.weight", {config.max_position_embeddings, h}),
                                          get("embeddings.token_type_embeddings.weight", {config.type_vocab_size, h}),
                                          get.norm("embeddings.LayerNorm", h)};
    std::vector<layer_weights<Backend>> layers;
    layers.reserve(config.num_hidden_layers);
    for (std::size_t i = 0; i < config.num_hidden_layers; ++i) {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      layers.push_back(
          layer_weights<Backend>{get.linear(p + "attention.self.query", h, h), get.linear(p + "attention.self.key", h, h),
                                 get.linear(p + "attention.self.value", h, h), get.linear(p + "attention.output.dense", h, h),
                                 get.norm(p + "attention.output.LayerNorm", h), get.linear(p + "intermediate.dense", inter, h),
                                 get.linear(p + "output.dense", h, inter), get.norm(p + "output.LayerNorm", h)});
    }
    return bert_weights{std::move(embeddings), std::move(layers), file};
  }

 private:
  template <class B>
  struct loader {
    const io::safetensors_file& file;
    std::string prefix;
    const B& backend;

    weight<B> operator()(const std::string& name, const std::vector<std::size_t>& shape) const {
      const std::string full = prefix + name;
      const auto& info = file.info(full);
      if (info.shape != shape)
        throw shape_error("'" + file.source() + "': tensor '" + full + "' has shape " + show_shape(info.shape) +
                          ", config.json needs " + show_shape(shape));
      return weight<B>(backend, file.as_f32(full));
    }
    linear_weights<B> linear(const std::string& name, std::size_t out, std::size_t in) const {
      return {(*this)(name + ".weight", {out, in}), (*this)(name + ".bias", {out})};
    }
    // Checkpoints converted from TensorFlow name LayerNorm parameters gamma/beta.
    layer_norm_weights<B> norm(const std::string& name, std::size_t h) const {
      const bool tf_names = !file.contains(prefix + name + ".weight") && file.contains(prefix + name + ".gamma");
      return {(*this)(name + (tf_names ? ".gamma" : ".weight"), {h}), (*this)(name + (tf_names ? ".beta" : ".bias"), {h})};
    }
  };
};

}  // namespace shopml::nn
