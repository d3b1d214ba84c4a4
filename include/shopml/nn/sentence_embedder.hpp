#pragma once
// The sentence-transformers module stack after tokenisation: BERT (Transformer), Pooling
// and optional Normalize, applied to already tokenised sequences. sentence_encoder puts a
// tokenizer in front of it; use this class directly to embed token ids.

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/backend/cpu.hpp"
#include "shopml/error.hpp"
#include "shopml/isa.hpp"
#include "shopml/nn/encoder.hpp"
#include "shopml/nn/pooling.hpp"
#include "shopml/nn/sentence_transformers_config.hpp"
#include "shopml/nn/token_batch.hpp"
#include "shopml/parallel.hpp"
#include "shopml/progress.hpp"

namespace shopml::nn {

// Row-major [texts × dimension]: row i is the embedding of input i.
using embedding_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// How encode / encode_tokens run, by name:
//   model.encode(texts, {.batch_size = 64, .normalize = true, .threads = 4});
struct encode_options {
  std::size_t batch_size = 32;  // sequences per forward pass (> 0)
  bool normalize = false;       // L2-normalise rows, on top of the model's own Normalize module
  int threads = 0;              // tokenizing and the encoder; 0 = shopml::num_threads() default
  // Called with (texts done, total) after each batch; serialised, possibly on a worker
  // thread; an exception it throws stops encode and propagates from it.
  progress_callback progress{};
  // A progress bar on stderr: nullopt = when stderr is a terminal and the call takes
  // more than a second; true = always; false = never.
  std::optional<bool> show_progress{};
};

template <class Backend = cpu>
class sentence_embedder {
 public:
  sentence_embedder(bert_encoder<Backend> bert, sentence_transformers_config config)
      : bert_(std::move(bert)), config_(std::move(config)) {
    if (config_.dense)
      throw value_error("sentence_embedder: '" + config_.dense->dir.string() +
                        "' is a Dense module, which the sentence encoder does not run (a classifier saved by "
                        "bert_for_sequence_classification with mean pooling loads with its from_pretrained)");
    set_max_seq_length(config_.max_seq_length);
  }

  // config.json, model.safetensors and the sentence-transformers files of `dir`.
  static sentence_embedder from_directory(const std::filesystem::path& dir, Backend backend = {}) {
    return from_directory(dir, load_options{}, std::move(backend));
  }
  static sentence_embedder from_directory(const std::filesystem::path& dir, const load_options& options, Backend backend = {}) {
    if (!std::filesystem::is_directory(dir))
      throw io_error("sentence_embedder: model directory '" + dir.string() + "' " +
                     (std::filesystem::exists(dir) ? "is not a directory" : "does not exist"));
    return sentence_embedder(bert_encoder<Backend>::from_directory(dir, options, std::move(backend)),
                             sentence_transformers_config::from_directory(dir));
  }

  const bert_encoder<Backend>& model() const { return bert_; }
  const sentence_transformers_config& config() const { return config_; }
  std::size_t dimension() const { return config_.pooling.modes() * bert_.hidden_size(); }
  std::size_t max_seq_length() const { return config_.max_seq_length; }
  // Longer sequences are rejected; 0 or more than max_position_embeddings means max_position_embeddings.
  void set_max_seq_length(std::size_t n) {
    const std::size_t limit = bert_.config().max_position_embeddings;
    config_.max_seq_length = n == 0 || n > limit ? limit : n;
  }

  // Embeds tokenised sequences (anything with ids, type_ids and attention_mask ranges, e.g.
  // tokenize::encoding) in batches of `options.batch_size` sequences of similar length; rows
  // come back in input order. `options.normalize` L2-normalises on top of the model's own
  // Normalize module. value_error for a sequence longer than max_seq_length. Memory: the
  // weights plus one batch of activations per thread.
  template <class Encoding>
  embedding_matrix encode_tokens(std::span<const Encoding> sequences, const encode_options& options) const {
    note_isa_once();
    const std::size_t batch_size = options.batch_size;
    const bool normalize = options.normalize;
    const int threads = options.threads;
    if (batch_size == 0) throw value_error("sentence_embedder: batch_size must be positive");
    const std::size_t n = sequences.size(), width = bert_.hidden_size();
    for (std::size_t i = 0; i < n; ++i)
      if (std::size(sequences[i].ids) > config_.max_seq_length)
        throw value_error("sentence_embedder: sequence " + std::to_string(i) + " has " +
                          std::to_string(std::size(sequences[i].ids)) + " tokens, more than max_seq_length " +
                          std::to_string(config_.max_seq_length));
    // Longest first, as sentence-transformers does: similar lengths share a batch.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return std::size(sequences[a].ids) > std::size(sequences[b].ids); });

    embedding_matrix out(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(dimension()));
    const std::size_t batches = (n + batch_size - 1) / batch_size;
    progress_bar progress("encode", n, options.show_progress, options.progress);
    const auto run_batch = [&](std::size_t b, int batch_threads) {
      const std::size_t first = b * batch_size, count = std::min(batch_size, n - first);
      token_batch batch;
      for (std::size_t k = 0; k < count; ++k) {
        const auto& e = sequences[order[first + k]];
        batch.add(e.ids, e.type_ids, e.attention_mask);
      }
      const auto hidden = bert_.forward(batch, batch_threads);
      const auto host = hidden.to_host(batch.tokens() * width);
      std::vector<float> pooled(count * dimension());
      pool(config_.pooling, batch, std::span<const float>(host), width, pooled.data());
      for (std::size_t k = 0; k < count; ++k)
        std::copy_n(pooled.data() + k * dimension(), dimension(), out.row(static_cast<Eigen::Index>(order[first + k])).data());
      progress.advance(count);
    };
    // On the CPU, several batches run at once, one per thread with serial kernels: one
    // parallel region per call instead of dozens per layer, which scales better on short
    // texts and on busy machines. A single batch parallelises inside the kernels instead.
    const int workers = std::same_as<Backend, cpu> ? static_cast<int>(std::min<std::size_t>(num_threads(threads), batches)) : 1;
    if (workers > 1) {
      std::atomic<std::size_t> next{0};
      std::exception_ptr failure;
      std::mutex failure_lock;
      parallel_for(0, workers, workers, [&](std::ptrdiff_t) {
        for (std::size_t b; (b = next.fetch_add(1)) < batches;) {  // longest batches first, taken as threads free up
          try {
            run_batch(b, 1);
          } catch (...) {
            const std::lock_guard<std::mutex> hold(failure_lock);
            if (!failure) failure = std::current_exception();
          }
        }
      });
      if (failure) std::rethrow_exception(failure);
    } else {
      for (std::size_t b = 0; b < batches; ++b) run_batch(b, threads);
    }
    if (config_.normalize || normalize) kernels<cpu>::l2_normalize(out.data(), n, dimension(), threads);
    return out;
  }

  // The same with the options as positions (batch_size, normalize, threads).
  template <class Encoding>
  embedding_matrix encode_tokens(std::span<const Encoding> sequences, std::size_t batch_size = 32, bool normalize = false,
                                 int threads = 0) const {
    return encode_tokens(sequences, encode_options{.batch_size = batch_size, .normalize = normalize, .threads = threads});
  }

 private:
  bert_encoder<Backend> bert_;
  sentence_transformers_config config_;
};

}  // namespace shopml::nn
