#pragma once
// Everything a tokenizer is made of, as the loaders produce it.

#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "shopml/tokenize/added_vocabulary.hpp"
#include "shopml/tokenize/bpe.hpp"
#include "shopml/tokenize/decoder.hpp"
#include "shopml/tokenize/normalizer.hpp"
#include "shopml/tokenize/padding.hpp"
#include "shopml/tokenize/post_processor.hpp"
#include "shopml/tokenize/pre_tokenizer.hpp"
#include "shopml/tokenize/truncation.hpp"
#include "shopml/tokenize/wordpiece.hpp"

namespace shopml::tokenize {

using tokenizer_model = std::variant<wordpiece, bpe>;

struct tokenizer_config {
  normalizer normalize;
  pre_tokenizer pre_tokenize;
  std::shared_ptr<const tokenizer_model> model;
  std::vector<added_token> added_tokens;
  post_processor post_process;
  decoder decode;
  std::optional<truncation_params> truncation;
  std::optional<padding_params> padding;
};

}  // namespace shopml::tokenize
