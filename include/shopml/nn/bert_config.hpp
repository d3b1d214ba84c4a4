#pragma once
// The architecture of a BERT encoder, read from a Hugging Face config.json.

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "shopml/error.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/scalar.hpp"

namespace shopml::nn {

struct bert_config {
  std::size_t vocab_size = 0;
  std::size_t hidden_size = 0;
  std::size_t num_hidden_layers = 0;
  std::size_t num_attention_heads = 0;
  std::size_t intermediate_size = 0;
  std::size_t max_position_embeddings = 0;
  std::size_t type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  gelu_form hidden_act = gelu_form::erf;
  // Training only: dropout rates and the standard deviation of fresh weights (BertConfig).
  float hidden_dropout_prob = 0.1f;
  float attention_probs_dropout_prob = 0.1f;
  float initializer_range = 0.02f;
  std::size_t pad_token_id = 0;

  std::size_t head_dim() const { return hidden_size / num_attention_heads; }

  static bert_config from_json(const nlohmann::json& json, const std::string& source) {
    using io::json_required;
    using io::json_value;
    const auto model_type = json_value<std::string>(json, "model_type", "bert", source);
    if (model_type != "bert") throw value_error("'" + source + "': model_type '" + model_type + "' is not a BERT encoder");
    const auto positions = json_value<std::string>(json, "position_embedding_type", "absolute", source);
    if (positions != "absolute")
      throw value_error("'" + source + "': position_embedding_type '" + positions + "' is not supported");

    bert_config c;
    c.vocab_size = json_required<std::size_t>(json, "vocab_size", source);
    c.hidden_size = json_required<std::size_t>(json, "hidden_size", source);
    c.num_hidden_layers = json_required<std::size_t>(json, "num_hidden_layers", source);
    c.num_attention_heads = json_required<std::size_t>(json, "num_attention_heads", source);
    c.intermediate_size = json_required<std::size_t>(json, "intermediate_size", source);
    c.max_position_embeddings = json_required<std::size_t>(json, "max_position_embeddings", source);
    c.type_vocab_size = json_value<std::size_t>(json, "type_vocab_size", 2, source);
    c.layer_norm_eps = static_cast<float>(json_value<double>(json, "layer_norm_eps", 1e-12, source));
    c.hidden_dropout_prob = static_cast<float>(json_value<double>(json, "hidden_dropout_prob", 0.1, source));
    c.attention_probs_dropout_prob = static_cast<float>(json_value<double>(json, "attention_probs_dropout_prob", 0.1, source));
    c.initializer_range = static_cast<float>(json_value<double>(json, "initializer_range", 0.02, source));
    c.pad_token_id = json_value<std::size_t>(json, "pad_token_id", 0, source);

    const auto act = json_value<std::string>(json, "hidden_act", "gelu", source);
    if (act == "gelu")
      c.hidden_act = gelu_form::erf;
    else if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast")
      c.hidden_act = gelu_form::tanh;
    else
      throw value_error("'" + source + "': hidden_act '" + act + "' is not supported (gelu, gelu_new)");

    for (auto [name, value] : {std::pair{"vocab_size", c.vocab_size},
                               {"hidden_size", c.hidden_size},
                               {"num_hidden_layers", c.num_hidden_layers},
                               {"num_attention_heads", c.num_attention_heads},
                               {"intermediate_size", c.intermediate_size},
                               {"max_position_embeddings", c.max_position_embeddings},
                               {"type_vocab_size", c.type_vocab_size}})
      if (value == 0) throw value_error("'" + source + "': " + name + " is 0");
    if (c.hidden_size % c.num_attention_heads != 0)
      throw value_error("'" + source + "': hidden_size " + std::to_string(c.hidden_size) +
                        " is not a multiple of num_attention_heads " + std::to_string(c.num_attention_heads));
    if (!(c.layer_norm_eps > 0.0f)) throw value_error("'" + source + "': layer_norm_eps must be positive");
    for (auto [name, p] : {std::pair{"hidden_dropout_prob", c.hidden_dropout_prob},
                           {"attention_probs_dropout_prob", c.attention_probs_dropout_prob}})
      if (!(p >= 0.0f && p < 1.0f)) throw value_error("'" + source + "': " + name + " must be in [0, 1)");
    return c;
  }

  static bert_config from_file(const std::filesystem::path& path) { return from_json(io::read_json(path), path.string()); }
};

}  // namespace shopml::nn
