#pragma once
// Reading small JSON configuration files (config.json, modules.json, ...) with errors
// that name the file and the key at fault.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "shopml/error.hpp"
#include "shopml/io/atomic_write.hpp"
#include "shopml/io/open_file.hpp"

namespace shopml::io {

// `text` parsed; when it is not JSON, parse_error
//   "'<source>': invalid JSON: <nlohmann's message, with the line and column>".
// The one place the library turns JSON text into a value (read_json, tokenizer.json, GPT-2's vocab.json).
inline nlohmann::json parse_json(std::string_view text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw parse_error("'" + source + "': invalid JSON: " + e.what());
  }
}

// The parsed file; io_error when it cannot be read, parse_error (parse_json's) when it is not JSON.
inline nlohmann::json read_json(const std::filesystem::path& path) { return parse_json(read_file(path), path.string()); }

// Writes `json` indented by two spaces (as transformers writes config.json), atomically.
inline void write_json(const std::filesystem::path& path, const nlohmann::json& json) {
  write_atomically(path, json.dump(2) + "\n");
}

// object[key] as T, or `fallback` when the key is absent or null; parse_error naming
// `source` and the key when the value has another type.
template <class T>
T json_value(const nlohmann::json& object, std::string_view key, const T& fallback, const std::string& source) {
  if (!object.is_object()) throw parse_error("'" + source + "' is not a JSON object");
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  const bool fits = [&] {
    if constexpr (std::is_same_v<T, bool>)
      return it->is_boolean();
    else if constexpr (std::is_integral_v<T>)
      return it->is_number_integer() && (std::is_signed_v<T> || it->is_number_unsigned());
    else if constexpr (std::is_floating_point_v<T>)
      return it->is_number();
    else
      return it->is_string();
  }();
  if (!fits) throw parse_error("'" + source + "': key '" + std::string(key) + "' has the wrong type: " + it->dump());
  return it->get<T>();
}

// object[key] as T; parse_error naming `source` and the key when absent.
template <class T>
T json_required(const nlohmann::json& object, std::string_view key, const std::string& source) {
  if (!object.is_object() || !object.contains(key) || object.at(std::string(key)).is_null())
    throw parse_error("'" + source + "': missing key '" + std::string(key) + "'");
  return json_value<T>(object, key, T{}, source);
}

}  // namespace shopml::io
