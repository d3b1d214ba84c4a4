#pragma once
// nn::sentence_encoder<Backend>: texts in, sentence embeddings out, as
// sentence_transformers.SentenceTransformer(dir).encode(texts) computes them.
//
//   auto model = shopml::nn::sentence_encoder<>::from_directory("all-MiniLM-L6-v2");
//   std::vector<std::string> texts{"red cotton t-shirt", "blue denim jacket"};
//   shopml::nn::embedding_matrix e = model.encode(texts);   // [2 × 384], rows unit length
//   auto u = model.encode({"red t-shirt"}, {.batch_size = 64, .normalize = true});
//
// It tokenizes (tokenizer.json, truncated at max_seq_length), sorts the texts by length
// into batches packed without padding, runs the BERT encoder, pools and (when modules.json
// lists Normalize, or options.normalize) L2-normalises. encode is const and thread-safe:
// activations live per call, so memory is the mapped weights plus one batch.

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/nn/sentence_embedder.hpp"
#include "shopml/texts.hpp"
#include "shopml/tokenize/tokenizer.hpp"

namespace shopml::nn {

template <class Backend = cpu>
class sentence_encoder {
 public:
  sentence_encoder(tokenize::tokenizer tokenizer, sentence_embedder<Backend> embedder)
      : tokenizer_(std::move(tokenizer)), embedder_(std::move(embedder)) {
    tokenizer_.no_padding();  // batches are packed; tokenizer.json's fixed padding would only add work
    tokenizer_.enable_truncation(embedder_.max_seq_length());
  }

  // A Hugging Face BERT directory: config.json, model.safetensors, tokenizer.json and,
  // where present, modules.json, 1_Pooling/config.json and sentence_bert_config.json.
  // Options by name: from_directory(dir, {.precision = nn::precision::bf16}) (nn/precision.hpp).
  static sentence_encoder from_directory(const std::filesystem::path& dir, Backend backend = {}) {
    return from_directory(dir, load_options{}, std::move(backend));
  }
  static sentence_encoder from_directory(const std::filesystem::path& dir, const load_options& options, Backend backend = {}) {
    if (!std::filesystem::is_directory(dir))
      throw io_error("sentence_encoder: model directory '" + dir.string() + "' " +
                     (std::filesystem::exists(dir) ? "is not a directory" : "does not exist"));
    return sentence_encoder(tokenize::tokenizer::from_file(dir / "tokenizer.json"),
                            sentence_embedder<Backend>::from_directory(dir, options, std::move(backend)));
  }

  // Row i embeds texts[i]: any contiguous range of strings (std::vector<std::string>,
  // std::span, std::string_view elements, a braced list; see shopml/texts.hpp). Options by
  // name: model.encode(texts, {.batch_size = 64, .normalize = true, .threads = 4,
  // .progress = [](std::size_t done, std::size_t total) { ... }}). `threads` covers
  // tokenizing and the encoder. A long call on a terminal shows a progress bar on stderr.
  embedding_matrix encode(texts_view texts, const encode_options& options = {}) const {
    const auto encodings = tokenizer_.encode_batch(texts, true, options.threads);
    return embedder_.encode_tokens(std::span(encodings), options);
  }

  // The options as positions: encode(texts, 32, true, 2) reads as encode(texts,
  // {.batch_size = 32, .normalize = true, .threads = 2}), which says what the numbers are.
  [[deprecated("name the options: encode(texts, {.batch_size = ..., .normalize = ..., .threads = ...})")]] embedding_matrix
  encode(texts_view texts, std::size_t batch_size, bool normalize = false, int threads = 0) const {
    return encode(texts, encode_options{.batch_size = batch_size, .normalize = normalize, .threads = threads});
  }

  std::size_t dimension() const { return embedder_.dimension(); }
  std::size_t max_seq_length() const { return embedder_.max_seq_length(); }
  // Texts are cut to this many tokens, special tokens included (at most max_position_embeddings).
  void set_max_seq_length(std::size_t n) {
    embedder_.set_max_seq_length(n);
    tokenizer_.enable_truncation(embedder_.max_seq_length());
  }
  // Texts that are not valid UTF-8: value_error naming the text's index and the byte (the
  // default), or each maximal invalid subpart read as U+FFFD (Python's errors="replace").
  void replace_invalid_utf8(bool on = true) { tokenizer_.replace_invalid_utf8(on); }
  const tokenize::tokenizer& tokenizer() const { return tokenizer_; }
  const sentence_embedder<Backend>& embedder() const { return embedder_; }

 private:
  tokenize::tokenizer tokenizer_;
  sentence_embedder<Backend> embedder_;
};

}  // namespace shopml::nn
