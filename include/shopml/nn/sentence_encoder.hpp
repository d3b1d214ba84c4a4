#pragma once
// nn::sentence_encoder<Backend>: texts in, sentence embeddings out, as
// sentence_transformers.SentenceTransformer(dir).encode(texts) computes them.
//
//   auto model = shopml::nn::sentence_encoder<>::from_directory("all-MiniLM-L6-v2");
//   std::vector<std::string> texts{"red cotton t-shirt", "blue denim jacket"};
//   shopml::nn::embedding_matrix e = model.encode(texts);   // [2 × 384], rows unit length
//
// It tokenizes (tokenizer.json, truncated at max_seq_length), sorts the texts by length
// into batches packed without padding, runs the BERT encoder, pools and (when modules.json
// lists Normalize, or normalize = true) L2-normalises. encode is const and thread-safe:
// activations live per call, so memory is the mapped weights plus one batch.

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/nn/sentence_embedder.hpp"
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
  static sentence_encoder from_directory(const std::filesystem::path& dir, Backend backend = {}) {
    return sentence_encoder(tokenize::tokenizer::from_file(dir / "tokenizer.json"),
                            sentence_embedder<Backend>::from_directory(dir, std::move(backend)));
  }

  // Row i embeds texts[i]. `threads` (0 = library default) covers tokenizing and the encoder.
  embedding_matrix encode(std::span<const std::string> texts, std::size_t batch_size = 32, bool normalize = false,
                          int threads = 0) const {
    const auto encodings = tokenizer_.encode_batch(texts, true, threads);
    return embedder_.encode_tokens(std::span(encodings), batch_size, normalize, threads);
  }

  std::size_t dimension() const { return embedder_.dimension(); }
  std::size_t max_seq_length() const { return embedder_.max_seq_length(); }
  // Texts are cut to this many tokens, special tokens included (at most max_position_embeddings).
  void set_max_seq_length(std::size_t n) {
    embedder_.set_max_seq_length(n);
    tokenizer_.enable_truncation(embedder_.max_seq_length());
  }
  const tokenize::tokenizer& tokenizer() const { return tokenizer_; }
  const sentence_embedder<Backend>& embedder() const { return embedder_; }

 private:
  tokenize::tokenizer tokenizer_;
  sentence_embedder<Backend> embedder_;
};

}  // namespace shopml::nn
