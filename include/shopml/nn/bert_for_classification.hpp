#pragma once
// Hugging Face's BERT task models, trainable:
//   bert_for_sequence_classification<B>: logits = W_c · dropout(tanh(W_p · h_CLS + b_p)) + b_c
//     or, with pooling = mean, logits = W_c · dropout(mean of the tokens' h) + b_c (the
//     sentence-transformers way: the pooling all-MiniLM-L6-v2 was trained with)
//   bert_for_token_classification<B>:    logits_t = W_c · dropout(h_t) + b_c for every token
// Losses as HF computes them from `labels`: cross-entropy (mean over the labelled rows,
// -100 ignored) or, with one label, mean squared error (problem_type "regression").
// Fresh heads are initialised as HF's _init_weights (normal(0, initializer_range), zero
// bias), from a seed; a pooler missing from the checkpoint likewise.
//
//   auto model = nn::bert_for_sequence_classification<>::from_pretrained(dir, {.labels = {"neg", "pos"}});
//   double loss = model.forward_backward(batch, {.classes = labels}, plan, 1.0f);
//   model.save_pretrained(out);   // loads in transformers' AutoModelForSequenceClassification
//                                 // (with mean pooling: in sentence-transformers, encode = logits)

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/backend/cpu.hpp"
#include "shopml/backend/kernels.hpp"
#include "shopml/error.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/nn/bert_config.hpp"
#include "shopml/nn/bert_weights.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/parameters.hpp"
#include "shopml/nn/sentence_transformers_config.hpp"
#include "shopml/nn/token_batch.hpp"
#include "shopml/nn/trainable_bert.hpp"

namespace shopml::nn {

enum class bert_task { sequence_classification, token_classification };

// What a sequence classifier reads: HF's pooler, tanh(W_p · h_CLS + b_p), or the mean of
// the sequence's tokens (attention mask 1), as sentence-transformers' Pooling(mean).
enum class sequence_pooling { pooler, mean };

// The targets of one batch: class ids (one per sequence, or one per token with -100 for
// tokens without a label) or, for regression, one value per sequence.
struct batch_targets {
  std::vector<std::int64_t> classes;
  std::vector<float> values;
};

// Normal(0, std) samples from a seeded counter-based stream (Box–Muller), identical on
// every platform (std::normal_distribution is not).
inline void fill_normal(std::span<float> out, float std, std::uint64_t seed) {
  for (std::size_t i = 0; i < out.size(); i += 2) {
    const auto uniform = [&](std::uint64_t k) {  // (0, 1]
      return (static_cast<double>(dropout_key(seed, i, k) >> 11) + 1.0) * 0x1.0p-53;
    };
    const double r = std::sqrt(-2.0 * std::log(uniform(0))), angle = 6.283185307179586 * uniform(1);
    out[i] = static_cast<float>(std * r * std::cos(angle));
    if (i + 1 < out.size()) out[i + 1] = static_cast<float>(std * r * std::sin(angle));
  }
}

template <class Backend, bert_task Task>
class bert_for_task {
  using K = kernels<Backend>;
  static constexpr bool sequence = Task == bert_task::sequence_classification;

 public:
  struct options {
    // id2label; empty: the checkpoint's own (config.json id2label), else num_labels "LABEL_i".
    std::vector<std::string> labels;
    std::optional<std::size_t> num_labels;  // when labels is empty; unset: the checkpoint's, else 2
    std::uint64_t seed = 42;                // initialises a head the checkpoint lacks
    // Sequence classification only. Unset: mean for a classifier saved with mean pooling
    // (a sentence-transformers directory whose modules end in a Dense head), else pooler.
    std::optional<sequence_pooling> pooling;
  };

  static const char* architecture() { return sequence ? "BertForSequenceClassification" : "BertForTokenClassification"; }

  // A model from a Hugging Face directory (config.json, model.safetensors): a BertModel
  // checkpoint (the head is then fresh) or a task model saved by transformers or by
  // save_pretrained (the head is loaded). shape_error names a tensor whose shape differs.
  // A sentence-transformers directory (modules.json: Transformer, Pooling(mean), Dense with
  // identity activation, as save_pretrained writes with mean pooling) gives a mean-pooling
  // classifier whose head is the Dense module's linear layer.
  static bert_for_task from_pretrained(const std::filesystem::path& dir, const options& opts = {}, Backend backend = {}) {
    const auto config_path = dir / "config.json";
    auto json = io::read_json(config_path);
    const auto file = io::safetensors_file::open(dir / "model.safetensors");
    options chosen = opts;
    std::optional<io::safetensors_file> head;
    if (const auto dense = saved_dense_head(dir, opts)) {
      chosen.pooling = sequence_pooling::mean;
      if (opts.labels.empty() && !opts.num_labels && json_labels(json) != dense->out_features)
        chosen.num_labels = dense->out_features;
      head = io::safetensors_file::open(dense->dir / "model.safetensors");
    }
    bert_for_task model(std::move(json), config_path.string(), file, chosen, std::move(backend), head ? &*head : nullptr);
    model.source_dir_ = dir;
    return model;
  }

  // From a parsed config.json and the encoder's checkpoint; `dense_head`, when given, holds
  // the classifier as a sentence-transformers Dense module (linear.weight, linear.bias).
  bert_for_task(nlohmann::json config_json, const std::string& source, const io::safetensors_file& file, const options& opts,
                Backend backend = {}, const io::safetensors_file* dense_head = nullptr)
      : backend_(std::move(backend)), json_(std::move(config_json)), config_(bert_config::from_json(json_, source)) {
    if (!sequence && opts.pooling)
      throw value_error(std::string(architecture()) + ": pooling applies to sequence classification only");
    pooling_ = opts.pooling.value_or(sequence_pooling::pooler);
    if (dense_head && pooling_ != sequence_pooling::mean)
      throw value_error(std::string(architecture()) + ": a Dense head goes with mean pooling");
    labels_ = choose_labels(json_, source, opts);
    regression_ = sequence && labels_.size() == 1;
    const auto problem = io::json_value<std::string>(json_, "problem_type", "", source);
    if (problem == "multi_label_classification")
      throw value_error("'" + source + "': problem_type multi_label_classification is not supported");
    classifier_dropout_ =
        static_cast<float>(io::json_value<double>(json_, "classifier_dropout", config_.hidden_dropout_prob, source));
    if (!(classifier_dropout_ >= 0.0f && classifier_dropout_ < 1.0f))
      throw value_error("'" + source + "': classifier_dropout must be in [0, 1)");
    build(file, dense_head, opts.seed);
  }

  const bert_config& config() const { return config_; }
  const Backend& backend() const { return backend_; }
  std::size_t num_labels() const { return labels_.size(); }
  const std::vector<std::string>& labels() const { return labels_; }
  bool regression() const { return regression_; }
  sequence_pooling pooling() const { return pooling_; }
  parameter_set<Backend>& parameters() { return params_; }
  const parameter_set<Backend>& parameters() const { return params_; }

  void zero_grad() { buffer<Backend>::fill_zero(params_.grads(), params_.size()); }

  // Logits of a batch, on the host: [sequences × labels] or [tokens × labels]. No dropout.
  // Thread-safe (activations are per call).
  std::vector<float> logits(const token_batch& batch, int threads = 0) const {
    bert_activations<Backend> acts;
    head_activations head;
    forward(batch, acts, head, {}, threads);
    std::vector<float> out(rows(batch) * num_labels());
    buffer<Backend>::download(out, head.logits.data());
    return out;
  }

  // Softmax of the logits per row (classification only).
  std::vector<float> predict_proba(const token_batch& batch, int threads = 0) const {
    if (regression_) throw value_error(std::string(architecture()) + ": predict_proba of a regression model");
    auto p = logits(batch, threads);
    const std::size_t k = num_labels();
    for (std::size_t r = 0; r < p.size() / std::max<std::size_t>(k, 1); ++r) {
      float* row = p.data() + r * k;
      const float m = *std::max_element(row, row + k);
      float sum = 0.0f;
      for (std::size_t j = 0; j < k; ++j) sum += row[j] = std::exp(row[j] - m);
      for (std::size_t j = 0; j < k; ++j) row[j] /= sum;
    }
    return p;
  }

  // The most probable label of each row (classification only).
  std::vector<std::string> predict(const token_batch& batch, int threads = 0) const {
    if (regression_) throw value_error(std::string(architecture()) + ": predict of a regression model (use logits)");
    const auto z = logits(batch, threads);
    const std::size_t k = num_labels();
    std::vector<std::string> out;
    for (std::size_t r = 0; r < z.size() / k; ++r)
      out.push_back(
          labels_[static_cast<std::size_t>(std::max_element(z.begin() + r * k, z.begin() + (r + 1) * k) - (z.begin() + r * k))]);
    return out;
  }

  // One forward and backward pass: gradients of loss_scale × (the batch's mean loss) are
  // added to parameters().grads(); returns the batch's mean loss. value_error for targets
  // that do not fit the batch or the labels.
  double forward_backward(const token_batch& batch, const batch_targets& targets, const dropout_plan& dropout, float loss_scale,
                          int threads = 0) {
    check_targets(batch, targets);
    forward(batch, train_, train_head_, dropout, threads);
    const double loss = compute_loss(batch, targets, train_head_, loss_scale, threads);
    backward(batch, dropout, threads);
    return loss;
  }

  // The loss of a batch without gradients (evaluation).
  double loss(const token_batch& batch, const batch_targets& targets, int threads = 0) const {
    check_targets(batch, targets);
    bert_activations<Backend> acts;
    head_activations head;
    forward(batch, acts, head, {}, threads);
    return compute_loss(batch, targets, head, 0.0f, threads);
  }

  // Writes model.safetensors (HF names, metadata format "pt") and config.json with the
  // architecture, id2label/label2id and problem_type, so that transformers'
  // AutoModelFor...Classification.from_pretrained(dir) loads it, plus the tokenizer files
  // of the directory the model came from. With mean pooling, which transformers' classes
  // lack, it writes a sentence-transformers model instead: the encoder as a BertModel,
  // modules.json (Transformer, Pooling(mean), Dense with identity activation holding the
  // classifier), so that SentenceTransformer(dir).encode(texts) gives the logits. Each file
  // is written to a temporary name and renamed.
  void save_pretrained(const std::filesystem::path& dir) const {
    namespace fs = std::filesystem;
    fs::create_directories(dir);
    if (pooling_ == sequence_pooling::pooler && fs::exists(dir / "modules.json") &&
        sentence_transformers_config::from_directory(dir).dense)
      throw value_error("save_pretrained: '" + dir.string() +
                        "' holds a sentence-transformers classifier (modules.json with a Dense module), which would "
                        "shadow this model when it is loaded; save to another directory");
    std::vector<float> host(params_.size());
    buffer<Backend>::download(host, params_.values());
    const bool mean = pooling_ == sequence_pooling::mean;
    std::vector<io::tensor_view> tensors, dense;
    for (const auto& t : params_.tensors()) {
      const std::span<const float> values(host.data() + t.offset, t.size());
      const bool encoder = t.name.rfind(prefix(), 0) == 0;
      if (mean && !encoder)
        dense.emplace_back(dense_name(t.name), t.shape, values);
      else
        tensors.emplace_back(mean ? t.name.substr(prefix().size()) : t.name, t.shape, values);
    }
    io::save_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    io::write_json(dir / "config.json", hf_config());
    if (mean) save_sentence_transformers_modules(dir, dense);
    std::error_code same;
    if (source_dir_.empty() || fs::equivalent(source_dir_, dir, same)) return;
    for (const char* name :
         {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "sentence_bert_config.json"})
      if (fs::exists(source_dir_ / name)) {
        auto partial = dir / name;
        partial += ".partial";
        fs::copy_file(source_dir_ / name, partial, fs::copy_options::overwrite_existing);
        fs::rename(partial, dir / name);
      }
  }

  // config.json as transformers writes it for this model.
  nlohmann::json hf_config() const {
    nlohmann::json j = json_;
    j["architectures"] = {pooling_ == sequence_pooling::mean ? "BertModel" : architecture()};
    j["vocab_size"] = config_.vocab_size;
    nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      id2label[std::to_string(i)] = labels_[i];
      label2id[labels_[i]] = i;
    }
    j["id2label"] = id2label;
    j["label2id"] = label2id;
    if (sequence && pooling_ == sequence_pooling::pooler)
      j["problem_type"] = regression_ ? "regression" : "single_label_classification";
    j.erase("num_labels");
    return j;
  }

  // HF's resize_token_embeddings with mean_resizing: rows added at the end are drawn from
  // a normal with the old rows' mean and 1e-9 × their covariance (the mean itself when
  // that covariance is not positive definite); rows removed from the end are dropped.
  // Gradients are reset; an optimiser must be made anew.
  void resize_token_embeddings(std::size_t vocab_size, std::uint64_t seed = 0) {
    if (vocab_size == 0) throw value_error("resize_token_embeddings: vocab_size 0");
    const std::size_t old_vocab = config_.vocab_size, h = config_.hidden_size;
    std::vector<float> old(params_.size());
    buffer<Backend>::download(old, params_.values());
    const auto old_params = params_.tensors();
    config_.vocab_size = vocab_size;
    parameter_layout layout;
    declare(layout);
    parameter_set<Backend> resized(backend_, layout);
    std::vector<float> host(resized.size());
    const std::string word = prefix() + "embeddings.word_embeddings.weight";
    for (const auto& t : old_params) {
      const auto& to = resized.info(t.name);
      std::copy_n(old.begin() + static_cast<std::ptrdiff_t>(t.offset), std::min(t.size(), to.size()),
                  host.begin() + static_cast<std::ptrdiff_t>(to.offset));
    }
    if (vocab_size > old_vocab) {
      using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> rows(
          old.data() + params_.info(word).offset, static_cast<Eigen::Index>(old_vocab), static_cast<Eigen::Index>(h));
      const Eigen::RowVectorXd mean = rows.cast<double>().colwise().mean();
      const matrix centred = rows.cast<double>().rowwise() - mean;
      const matrix covariance = 1e-9 * (centred.transpose() * centred) / static_cast<double>(old_vocab);
      const Eigen::LLT<matrix> llt(covariance);
      const bool positive_definite = llt.info() == Eigen::Success;
      std::vector<float> noise(h);
      float* added = host.data() + resized.info(word).offset + old_vocab * h;
      for (std::size_t r = 0; r < vocab_size - old_vocab; ++r) {
        Eigen::VectorXd row = mean.transpose();
        if (positive_definite) {
          fill_normal(noise, 1.0f, dropout_key(seed, r, 0xE3BED));
          row += llt.matrixL() * Eigen::Map<const Eigen::VectorXf>(noise.data(), static_cast<Eigen::Index>(h)).cast<double>();
        }
        for (std::size_t j = 0; j < h; ++j) added[r * h + j] = static_cast<float>(row[static_cast<Eigen::Index>(j)]);
      }
    }
    buffer<Backend>::upload(resized.values(), host);
    params_ = std::move(resized);
    zero_grad();
    encoder_ = trainable_bert<Backend>(config_, params_, prefix());
  }

 private:
  struct head_activations {
    buffer<Backend> pooled_input;  // [S × H] CLS rows (sequence classification with the pooler)
    buffer<Backend> pooled;        // [S × H] tanh(pooler), or the mean of each sequence's tokens
    buffer<Backend> dropped;       // classifier input after dropout
    buffer<Backend> logits;        // [rows × labels]
    buffer<Backend> d_logits, d_dropped, d_pooled;
  };

  // The Dense head of a sentence-transformers directory saved with mean pooling, if `dir` is one.
  static std::optional<dense_config> saved_dense_head(const std::filesystem::path& dir, const options& opts) {
    if (!sequence || !std::filesystem::exists(dir / "modules.json")) return std::nullopt;
    const auto st = sentence_transformers_config::from_directory(dir);
    if (!st.dense) return std::nullopt;
    const std::string what = std::string(architecture()) + ": '" + dir.string() + "' ";
    const auto& p = st.pooling;
    if (!p.mean_tokens || p.modes() != 1 || st.normalize || !st.dense->bias ||
        st.dense->activation_function != "torch.nn.modules.linear.Identity")
      throw value_error(what +
                        "is a sentence-transformers model, but not a classifier of mean-pooled tokens "
                        "(Pooling(mean) then Dense with bias and identity activation, nothing after)");
    if (opts.pooling == sequence_pooling::pooler)
      throw value_error(what + "holds a classifier of mean-pooled tokens, and pooler was asked for");
    return st.dense;
  }

  // How many labels config.json's id2label names (0 without one).
  static std::size_t json_labels(const nlohmann::json& json) {
    return json.contains("id2label") && json["id2label"].is_object() ? json["id2label"].size() : 0;
  }

  // modules.json, 1_Pooling/config.json and 2_Dense/{config.json, model.safetensors} of a
  // sentence-transformers model whose last module, a Dense, is the classifier.
  void save_sentence_transformers_modules(const std::filesystem::path& dir, const std::vector<io::tensor_view>& dense) const {
    const std::size_t h = config_.hidden_size;
    std::filesystem::create_directories(dir / "1_Pooling");
    std::filesystem::create_directories(dir / "2_Dense");
    io::write_json(dir / "1_Pooling" / "config.json", {{"word_embedding_dimension", h},
                                                       {"pooling_mode_cls_token", false},
                                                       {"pooling_mode_mean_tokens", true},
                                                       {"pooling_mode_max_tokens", false},
                                                       {"pooling_mode_mean_sqrt_len_tokens", false},
                                                       {"pooling_mode_weightedmean_tokens", false},
                                                       {"pooling_mode_lasttoken", false},
                                                       {"include_prompt", true}});
    io::write_json(dir / "2_Dense" / "config.json", {{"in_features", h},
                                                     {"out_features", labels_.size()},
                                                     {"bias", true},
                                                     {"activation_function", "torch.nn.modules.linear.Identity"}});
    io::save_safetensors(dir / "2_Dense" / "model.safetensors", dense, {{"format", "pt"}});
    const auto module = [](int i, const char* path, const char* type) {
      return nlohmann::json{
          {"idx", i}, {"name", std::to_string(i)}, {"path", path}, {"type", std::string("sentence_transformers.models.") + type}};
    };
    io::write_json(dir / "modules.json", nlohmann::json::array({module(0, "", "Transformer"), module(1, "1_Pooling", "Pooling"),
                                                                module(2, "2_Dense", "Dense")}));
  }

  static std::string prefix() { return "bert."; }
  // classifier.weight / classifier.bias under the names of a sentence-transformers Dense module.
  static std::string dense_name(const std::string& classifier_tensor) {
    return "linear." + classifier_tensor.substr(classifier_tensor.find('.') + 1);
  }
  static std::string pooler() { return "bert.pooler.dense"; }

  std::size_t rows(const token_batch& batch) const { return sequence ? batch.size() : batch.tokens(); }

  static std::vector<std::string> choose_labels(const nlohmann::json& json, const std::string& source, const options& opts) {
    std::vector<std::string> labels = opts.labels;
    if (labels.empty() && opts.num_labels == std::size_t{0}) throw value_error("num_labels must be at least 1");
    if (!labels.empty() && opts.num_labels && *opts.num_labels != labels.size())
      throw value_error(std::to_string(labels.size()) + " labels given with num_labels " + std::to_string(*opts.num_labels));
    if (labels.empty() && !opts.num_labels && json.contains("id2label") && json["id2label"].is_object()) {
      const auto& m = json["id2label"];
      labels.resize(m.size());
      for (std::size_t i = 0; i < m.size(); ++i) {
        const auto it = m.find(std::to_string(i));
        if (it == m.end() || !it->is_string())
          throw parse_error("'" + source + "': id2label lacks a string for id " + std::to_string(i));
        labels[i] = it->template get<std::string>();
      }
    }
    if (labels.empty()) {
      const std::size_t n = opts.num_labels.value_or(2);
      for (std::size_t i = 0; i < n; ++i) labels.push_back("LABEL_" + std::to_string(i));
    }
    std::vector<std::string> sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw value_error("labels must be distinct (id2label of '" + source + "' or the options)");
    return labels;
  }

  void declare(parameter_layout& layout) const {
    trainable_bert<Backend>::declare(layout, config_, prefix());
    const std::size_t h = config_.hidden_size, k = labels_.size();
    if (pooling_ == sequence_pooling::pooler && sequence) trainable_bert<Backend>::declare_linear(layout, pooler(), h, h);
    trainable_bert<Backend>::declare_linear(layout, "classifier", k, h);
  }

  // Allocates the parameters and fills them from the checkpoint; what it lacks of the
  // heads is initialised as HF does.
  void build(const io::safetensors_file& file, const io::safetensors_file* dense_head, std::uint64_t seed) {
    parameter_layout layout;
    declare(layout);
    params_ = parameter_set<Backend>(backend_, layout);
    const std::string file_prefix = checkpoint_prefix(file);
    std::vector<float> host(params_.size(), 0.0f);
    std::uint64_t fresh = 0;
    for (const auto& t : params_.tensors()) {
      const bool encoder = t.name.rfind(prefix(), 0) == 0;
      const bool in_dense = dense_head && !encoder;  // classifier.* as the Dense module's linear.*
      const auto& source = in_dense ? *dense_head : file;
      const std::string stored = encoder ? file_prefix + t.name.substr(prefix().size()) : in_dense ? dense_name(t.name) : t.name;
      std::span<float> out(host.data() + t.offset, t.size());
      if (const auto name = find_tensor(source, stored)) {
        const auto& info = source.info(*name);
        if (info.shape != t.shape)
          throw shape_error("'" + source.source() + "': tensor '" + *name + "' has shape " + show_shape(info.shape) + ", " +
                            architecture() + " with " + std::to_string(labels_.size()) + " labels needs " + show_shape(t.shape));
        const auto values = source.as_f32(*name);
        std::copy(values.values().begin(), values.values().end(), out.begin());
      } else if (in_dense) {
        throw parse_error("'" + source.source() + "' has no tensor '" + stored + "' (the classifier's)");
      } else if (!encoder || t.name.rfind(pooler(), 0) == 0) {
        // A fresh head: weights normal(0, initializer_range), biases zero (already).
        if (t.decay) fill_normal(out, config_.initializer_range, dropout_key(seed, fresh++, 0xC1A55));
      } else {
        throw parse_error("'" + file.source() + "' has no tensor '" + stored + "' (a BERT checkpoint needs it)");
      }
    }
    buffer<Backend>::upload(params_.values(), host);
    zero_grad();
    encoder_ = trainable_bert<Backend>(config_, params_, prefix());
  }

  // The stored name, allowing TensorFlow's LayerNorm names (gamma/beta).
  static std::optional<std::string> find_tensor(const io::safetensors_file& file, const std::string& name) {
    if (file.contains(name)) return name;
    for (auto [hf, tf] : {std::pair{"LayerNorm.weight", "LayerNorm.gamma"}, {"LayerNorm.bias", "LayerNorm.beta"}}) {
      const std::string suffix = hf;
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        const std::string alt = name.substr(0, name.size() - suffix.size()) + tf;
        if (file.contains(alt)) return alt;
      }
    }
    return std::nullopt;
  }

  void check_targets(const token_batch& batch, const batch_targets& targets) const {
    const std::string what = std::string(architecture()) + ": ";
    if (batch.size() == 0) throw value_error(what + "empty batch");
    if (regression_) {
      if (targets.values.size() != batch.size())
        throw value_error(what + std::to_string(targets.values.size()) + " regression targets for " +
                          std::to_string(batch.size()) + " sequences");
      for (std::size_t i = 0; i < targets.values.size(); ++i)
        if (!std::isfinite(targets.values[i]))
          throw value_error(what + "regression target " + std::to_string(i) + " is not finite");
      return;
    }
    const std::size_t n = rows(batch);
    if (targets.classes.size() != n)
      throw value_error(what + std::to_string(targets.classes.size()) + " labels for " + std::to_string(n) +
                        (sequence ? " sequences" : " tokens"));
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = targets.classes[i];
      if (c == -100 && !sequence) continue;
      if (c < 0 || static_cast<std::size_t>(c) >= labels_.size())
        throw value_error(what + "label " + std::to_string(c) + " of " + (sequence ? "sequence " : "token ") + std::to_string(i) +
                          " is outside the " + std::to_string(labels_.size()) + " labels");
    }
  }

  void forward(const token_batch& batch, bert_activations<Backend>& acts, head_activations& head, const dropout_plan& dropout,
               int threads) const {
    encoder_.forward(backend_, params_, batch, acts, dropout, threads);
    const float* p = params_.values();
    const std::size_t h = config_.hidden_size, k = labels_.size(), n = rows(batch);
    const float* input = acts.last_hidden();
    if (sequence && pooling_ == sequence_pooling::mean) {
      ensure_size(head.pooled, backend_, n * h);
      K::mean_pool(n, h, input, h, batch.offsets.data(), batch.attention_mask.data(), head.pooled.data(), threads);
      input = head.pooled.data();
    } else if constexpr (sequence) {
      ensure_size(head.pooled_input, backend_, n * h);
      ensure_size(head.pooled, backend_, n * h);
      for (std::size_t s = 0; s < n; ++s) buffer<Backend>::copy(head.pooled_input.data() + s * h, input + batch.begin(s) * h, h);
      K::gemm(true, n, h, h, 1.0f, head.pooled_input.data(), h, p + at(pooler() + ".weight"), h, 0.0f, head.pooled.data(), h,
              p + at(pooler() + ".bias"), threads);
      K::tanh(head.pooled.data(), n * h, threads);
      input = head.pooled.data();
    }
    ensure_size(head.dropped, backend_, n * h);
    buffer<Backend>::copy(head.dropped.data(), input, n * h);
    if (dropout.enabled && classifier_dropout_ > 0.0f)
      K::dropout(head.dropped.data(), n * h, classifier_dropout_,
                 dropout.key(trainable_bert<Backend>::head_dropout_site(config_)), 0, threads);
    ensure_size(head.logits, backend_, n * k);
    K::gemm(true, n, k, h, 1.0f, head.dropped.data(), h, p + at("classifier.weight"), h, 0.0f, head.logits.data(), k,
            p + at("classifier.bias"), threads);
  }

  // The mean loss; with scale > 0 also head.d_logits = scale · d(mean loss)/d(logits).
  double compute_loss(const token_batch& batch, const batch_targets& targets, head_activations& head, float scale,
                      int threads) const {
    const std::size_t n = rows(batch), k = labels_.size();
    ensure_size(head.d_logits, backend_, n * k);
    if (regression_) {
      buffer<Backend> target(backend_, n);
      buffer<Backend>::upload(target.data(), targets.values);
      return K::mse(n, head.logits.data(), target.data(), scale / static_cast<float>(n), head.d_logits.data()) /
             static_cast<double>(n);
    }
    std::size_t labelled = 0;
    for (auto c : targets.classes) labelled += c != -100;
    if (labelled == 0) throw value_error(std::string(architecture()) + ": no token of the batch has a label");
    const double sum = K::cross_entropy(n, k, head.logits.data(), k, targets.classes.data(), scale / static_cast<float>(labelled),
                                        head.d_logits.data(), threads);
    return sum / static_cast<double>(labelled);
  }

  // From head.d_logits to the encoder's d_hidden, then through the encoder.
  void backward(const token_batch& batch, const dropout_plan& dropout, int threads) {
    const float* p = params_.values();
    float* g = params_.grads();
    auto& head = train_head_;
    const std::size_t h = config_.hidden_size, k = labels_.size(), n = rows(batch), t = batch.tokens();
    ensure_size(head.d_dropped, backend_, n * h);
    // logits = dropped W_cᵀ + b_c
    K::gemm_at(k, h, n, 1.0f, head.d_logits.data(), k, head.dropped.data(), h, 1.0f, g + at("classifier.weight"), h, threads);
    K::add_column_sums(n, k, head.d_logits.data(), k, g + at("classifier.bias"), threads);
    float* d_input = sequence ? head.d_dropped.data() : train_.d_hidden.data();
    K::gemm(false, n, h, k, 1.0f, head.d_logits.data(), k, p + at("classifier.weight"), h, 0.0f, d_input, h, nullptr, threads);
    if (dropout.enabled && classifier_dropout_ > 0.0f)
      K::dropout(d_input, n * h, classifier_dropout_, dropout.key(trainable_bert<Backend>::head_dropout_site(config_)), 0,
                 threads);
    if (sequence && pooling_ == sequence_pooling::mean) {
      K::mean_pool_backward(n, h, d_input, batch.offsets.data(), batch.attention_mask.data(), train_.d_hidden.data(), h, threads);
    } else if constexpr (sequence) {
      // pooled = tanh(pooled_input W_pᵀ + b_p); only CLS rows receive gradient.
      K::tanh_backward(head.pooled.data(), d_input, n * h, threads);
      K::gemm_at(h, h, n, 1.0f, d_input, h, head.pooled_input.data(), h, 1.0f, g + at(pooler() + ".weight"), h, threads);
      K::add_column_sums(n, h, d_input, h, g + at(pooler() + ".bias"), threads);
      ensure_size(head.d_pooled, backend_, n * h);
      K::gemm(false, n, h, h, 1.0f, d_input, h, p + at(pooler() + ".weight"), h, 0.0f, head.d_pooled.data(), h, nullptr, threads);
      buffer<Backend>::fill_zero(train_.d_hidden.data(), t * h);
      for (std::size_t s = 0; s < n; ++s)
        buffer<Backend>::copy(train_.d_hidden.data() + batch.begin(s) * h, head.d_pooled.data() + s * h, h);
    }
    encoder_.backward(params_, batch, train_, dropout, threads);
  }

  std::size_t at(const std::string& name) const { return params_.info(name).offset; }

  Backend backend_;
  std::filesystem::path source_dir_;  // from_pretrained's: its tokenizer files are saved along
  nlohmann::json json_;               // config.json as read: saved back with the task's fields
  bert_config config_;
  std::vector<std::string> labels_;
  bool regression_ = false;
  sequence_pooling pooling_ = sequence_pooling::pooler;
  float classifier_dropout_ = 0.1f;
  parameter_set<Backend> params_;
  trainable_bert<Backend> encoder_;
  bert_activations<Backend> train_;  // reused by forward_backward
  head_activations train_head_;
};

template <class Backend = cpu>
using bert_for_sequence_classification = bert_for_task<Backend, bert_task::sequence_classification>;
template <class Backend = cpu>
using bert_for_token_classification = bert_for_task<Backend, bert_task::token_classification>;

}  // namespace shopml::nn
