#pragma once
// The sentence-transformers files beside a Hugging Face model: modules.json (the module
// pipeline: Transformer, Pooling, at most one Dense, Normalize), <pooling dir>/config.json
// (pooling modes), <dense dir>/config.json and sentence_bert_config.json (max_seq_length). Absent files give
// sentence-transformers' own defaults for a plain Hugging Face model: mean pooling, no normalisation, the model's maximum length.

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "shopml/error.hpp"
#include "shopml/io/json_file.hpp"

namespace shopml::nn {

// sentence_transformers.models.Pooling. When several modes are on, their vectors are
// concatenated in this order: cls, max, mean, mean_sqrt_len (as sentence-transformers does).
struct pooling_config {
  bool cls_token = false;
  bool max_tokens = false;
  bool mean_tokens = true;
  bool mean_sqrt_len_tokens = false;

  std::size_t modes() const {
    return std::size_t{cls_token} + std::size_t{max_tokens} + std::size_t{mean_tokens} + std::size_t{mean_sqrt_len_tokens};
  }

  // Either format: sentence-transformers 5+'s "pooling_mode" (a name or a list of names) or
  // the older pooling_mode_<mode>_tokens flags.
  static pooling_config from_file(const std::filesystem::path& path) {
    const auto json = io::read_json(path);
    const std::string source = path.string();
    pooling_config c;
    if (json.contains("pooling_mode")) return from_names(json["pooling_mode"], source);
    c.cls_token = io::json_value(json, "pooling_mode_cls_token", false, source);
    c.max_tokens = io::json_value(json, "pooling_mode_max_tokens", false, source);
    c.mean_tokens = io::json_value(json, "pooling_mode_mean_tokens", false, source);
    c.mean_sqrt_len_tokens = io::json_value(json, "pooling_mode_mean_sqrt_len_tokens", false, source);
    for (const char* unsupported : {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
      if (io::json_value(json, unsupported, false, source))
        throw value_error("'" + source + "': " + unsupported + " is not supported");
    if (c.modes() == 0) throw value_error("'" + source + "': no pooling mode is enabled");
    return c;
  }

 private:
  static pooling_config from_names(const nlohmann::json& mode, const std::string& source) {
    const nlohmann::json names = mode.is_array() ? mode : nlohmann::json::array({mode});
    static constexpr const char* order[] = {"cls", "max", "mean", "mean_sqrt_len_tokens"};
    pooling_config c;
    c.mean_tokens = false;
    bool* flags[] = {&c.cls_token, &c.max_tokens, &c.mean_tokens, &c.mean_sqrt_len_tokens};
    std::size_t next = 0;  // sentence-transformers concatenates in the listed order; ours is fixed
    for (const auto& name : names) {
      if (!name.is_string()) throw parse_error("'" + source + "': pooling_mode holds a non-string");
      const auto text = name.get<std::string>();
      std::size_t i = 0;
      while (i < 4 && text != order[i]) ++i;
      if (i == 4) throw value_error("'" + source + "': pooling mode '" + text + "' is not supported");
      if (i < next)
        throw value_error("'" + source +
                          "': pooling modes in another order than cls, max, mean, "
                          "mean_sqrt_len_tokens are not supported");
      *flags[i] = true;
      next = i + 1;
    }
    if (c.modes() == 0) throw value_error("'" + source + "': no pooling mode is enabled");
    return c;
  }
};

// sentence_transformers.models.Dense: activation(x Wᵀ + b), its weights as linear.weight /
// linear.bias in <dir>/model.safetensors.
struct dense_config {
  std::filesystem::path dir;
  std::size_t in_features = 0;
  std::size_t out_features = 0;
  bool bias = true;
  std::string activation_function = "torch.nn.modules.activation.Tanh";  // Dense's default

  static dense_config from_directory(const std::filesystem::path& dir) {
    const auto path = dir / "config.json";
    const auto json = io::read_json(path);
    const std::string source = path.string();
    dense_config c;
    c.dir = dir;
    c.in_features = io::json_required<std::size_t>(json, "in_features", source);
    c.out_features = io::json_required<std::size_t>(json, "out_features", source);
    c.bias = io::json_value(json, "bias", true, source);
    c.activation_function = io::json_value(json, "activation_function", c.activation_function, source);
    if (io::json_value(json, "use_residual", false, source)) throw value_error("'" + source + "': use_residual is not supported");
    return c;
  }
};

struct sentence_transformers_config {
  pooling_config pooling;
  std::optional<dense_config> dense;  // one Dense after the pooling (a classifier head, say)
  bool normalize = false;             // modules.json lists sentence_transformers.models.Normalize
  std::size_t max_seq_length = 0;     // 0: not given (use the model's max_position_embeddings)
  bool do_lower_case = false;         // sentence_bert_config.json (lower-casing beyond the tokenizer's own)

  static sentence_transformers_config from_directory(const std::filesystem::path& dir) {
    sentence_transformers_config c;
    std::filesystem::path pooling_dir;
    if (const auto modules = dir / "modules.json"; std::filesystem::exists(modules)) {
      const auto json = io::read_json(modules);
      if (!json.is_array()) throw parse_error("'" + modules.string() + "' is not a JSON array");
      for (const auto& module : json) {
        const auto type = io::json_required<std::string>(module, "type", modules.string());
        const auto path = io::json_value<std::string>(module, "path", "", modules.string());
        const auto is = [&](const char* name) {  // sentence-transformers 5+ also writes its own module paths
          return type == std::string("sentence_transformers.models.") + name ||
                 (type.rfind("sentence_transformers.", 0) == 0 && type.size() > std::strlen(name) + 1 &&
                  type.compare(type.size() - std::strlen(name) - 1, std::string::npos, std::string(".") + name) == 0);
        };
        if (is("Transformer")) continue;
        if (is("Pooling"))
          pooling_dir = dir / path;
        else if (is("Dense") && !pooling_dir.empty() && !c.dense && !c.normalize)
          c.dense = dense_config::from_directory(dir / path);
        else if (is("Normalize"))
          c.normalize = true;
        else
          throw value_error("'" + modules.string() + "': module " + type + " is not supported here");
      }
    } else if (std::filesystem::exists(dir / "1_Pooling" / "config.json")) {
      pooling_dir = dir / "1_Pooling";
    }
    if (!pooling_dir.empty()) c.pooling = pooling_config::from_file(pooling_dir / "config.json");
    if (const auto st = dir / "sentence_bert_config.json"; std::filesystem::exists(st)) {
      const auto json = io::read_json(st);
      c.max_seq_length = io::json_value<std::size_t>(json, "max_seq_length", 0, st.string());
      c.do_lower_case = io::json_value(json, "do_lower_case", false, st.string());
    }
    return c;
  }
};

}  // namespace shopml::nn
