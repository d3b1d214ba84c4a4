#pragma once
// The sentence-transformers files beside a Hugging Face model: modules.json (the module
// pipeline), <pooling dir>/config.json (pooling modes) and sentence_bert_config.json
// (max_seq_length). Absent files give sentence-transformers' own defaults for a plain
// Hugging Face model: mean pooling, no normalisation, the model's maximum length.

#include <cstddef>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "shopml/error.hpp"
#include "shopml/io/json_file.hpp"

namespace shopml::io {

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

  static pooling_config from_file(const std::filesystem::path& path) {
    const auto json = read_json(path);
    const std::string source = path.string();
    pooling_config c;
    c.cls_token = json_value(json, "pooling_mode_cls_token", false, source);
    c.max_tokens = json_value(json, "pooling_mode_max_tokens", false, source);
    c.mean_tokens = json_value(json, "pooling_mode_mean_tokens", false, source);
    c.mean_sqrt_len_tokens = json_value(json, "pooling_mode_mean_sqrt_len_tokens", false, source);
    for (const char* unsupported : {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
      if (json_value(json, unsupported, false, source))
        throw value_error("'" + source + "': " + unsupported + " is not supported");
    if (c.modes() == 0) throw value_error("'" + source + "': no pooling mode is enabled");
    return c;
  }
};

struct sentence_transformers_config {
  pooling_config pooling;
  bool normalize = false;            // modules.json lists sentence_transformers.models.Normalize
  std::size_t max_seq_length = 0;    // 0: not given (use the model's max_position_embeddings)
  bool do_lower_case = false;        // sentence_bert_config.json (lower-casing beyond the tokenizer's own)

  static sentence_transformers_config from_directory(const std::filesystem::path& dir) {
    sentence_transformers_config c;
    std::filesystem::path pooling_dir;
    if (const auto modules = dir / "modules.json"; std::filesystem::exists(modules)) {
      const auto json = read_json(modules);
      if (!json.is_array()) throw parse_error("'" + modules.string() + "' is not a JSON array");
      for (const auto& module : json) {
        const auto type = json_required<std::string>(module, "type", modules.string());
        const auto path = json_value<std::string>(module, "path", "", modules.string());
        if (type == "sentence_transformers.models.Transformer") continue;
        if (type == "sentence_transformers.models.Pooling") pooling_dir = dir / path;
        else if (type == "sentence_transformers.models.Normalize") c.normalize = true;
        else throw value_error("'" + modules.string() + "': module " + type + " is not supported");
      }
    } else if (std::filesystem::exists(dir / "1_Pooling" / "config.json")) {
      pooling_dir = dir / "1_Pooling";
    }
    if (!pooling_dir.empty()) c.pooling = pooling_config::from_file(pooling_dir / "config.json");
    if (const auto st = dir / "sentence_bert_config.json"; std::filesystem::exists(st)) {
      const auto json = read_json(st);
      c.max_seq_length = json_value<std::size_t>(json, "max_seq_length", 0, st.string());
      c.do_lower_case = json_value(json, "do_lower_case", false, st.string());
    }
    return c;
  }
};

}  // namespace shopml::io
