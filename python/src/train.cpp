// SequenceClassifier: fine-tuning BertForSequenceClassification from Python, with
// transformers' names (from_pretrained, save_pretrained, TrainingArguments' fields) and
// scikit-learn's for prediction (predict, predict_proba). Texts are tokenised by the
// model directory's tokenizer.json; fit releases the GIL and takes it back only to call
// the callbacks, which is also where Ctrl-C stops a run.
#include <Python.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bindings.hpp"
#include "shopml/error.hpp"
#include "shopml/nn/bert_for_classification.hpp"
#include "shopml/tokenize/tokenizer.hpp"
#include "shopml/train/examples.hpp"
#include "shopml/train/trainer.hpp"

namespace shopml_python {

namespace train = shopml::train;
using texts = std::vector<std::string>;
// Targets as Python gives them: label names, class ids, or values (regression).
using targets = std::variant<std::vector<std::string>, std::vector<std::int64_t>, std::vector<double>>;

namespace {

class sequence_classifier {
 public:
  using model_type = shopml::nn::bert_for_sequence_classification<>;

  sequence_classifier(shopml::tokenize::tokenizer tok, model_type model, std::size_t max_length)
      : tokenizer_(std::move(tok)), model_(std::move(model)), max_length_(max_length) {}

  static sequence_classifier from_pretrained(const std::filesystem::path& dir, const std::vector<std::string>& labels,
                                             std::optional<std::size_t> num_labels, const std::optional<std::string>& pooling,
                                             std::uint64_t seed, std::size_t max_length) {
    model_type::options o{.labels = labels, .num_labels = num_labels, .seed = seed};
    if (pooling) {
      if (*pooling == "pooler" || *pooling == "cls")
        o.pooling = shopml::nn::sequence_pooling::pooler;
      else if (*pooling == "mean")
        o.pooling = shopml::nn::sequence_pooling::mean;
      else
        throw shopml::value_error("pooling must be None, 'pooler' (BERT's, alias 'cls') or 'mean', got '" + *pooling + "'");
    }
    auto tok = shopml::tokenize::tokenizer::from_file(dir / "tokenizer.json").no_padding();
    return {std::move(tok), model_type::from_pretrained(dir, o), max_length};
  }

  // Examples of texts (or pairs) with their targets, tokenised as for training.
  std::vector<train::example> examples(const texts& first, const std::optional<texts>& second, const targets& y,
                                       int threads) const {
    const texts none;
    const texts& pairs = second ? *second : none;
    std::vector<std::int64_t> classes;
    std::vector<float> values;
    if (model_.regression()) {
      std::visit(
          [&](const auto& v) {
            using T = typename std::decay_t<decltype(v)>::value_type;
            if constexpr (std::is_same_v<T, std::string>)
              throw shopml::value_error("a regression model (one label) takes numbers as targets, not label names");
            else
              values.assign(v.begin(), v.end());
          },
          y);
    } else if (const auto* names = std::get_if<std::vector<std::string>>(&y)) {
      classes = train::label_ids(*names, model_.labels());
    } else if (const auto* ids = std::get_if<std::vector<std::int64_t>>(&y)) {
      classes = *ids;
    } else {
      throw shopml::value_error("a classifier takes label names or class ids as targets, not floats");
    }
    if (second) return train::encode_pairs(tokenizer_, first, pairs, classes, values, max_length_, threads);
    return classes.empty() ? train::encode_texts(tokenizer_, first, std::span<const float>(values), max_length_, threads)
                           : train::encode_texts(tokenizer_, first, std::span<const std::int64_t>(classes), max_length_, threads);
  }

  // What `per_batch(model, token_batch, threads)` gives for texts (or pairs), batch_size
  // texts at a time, concatenated: logits, probabilities or label names.
  template <class PerBatch>
  auto batched(const texts& first, const std::optional<texts>& second, std::size_t batch_size, int threads,
               PerBatch per_batch) const {
    if (second && second->size() != first.size())
      throw shopml::value_error(std::to_string(first.size()) + " texts but " + std::to_string(second->size()) + " text_pairs");
    if (batch_size == 0) throw shopml::value_error("batch_size must be at least 1");
    decltype(per_batch(model_, shopml::nn::token_batch{}, threads)) out;
    for (std::size_t begin = 0; begin < first.size(); begin += batch_size) {
      const auto at = [&](const texts& v, std::size_t i) { return v.begin() + static_cast<std::ptrdiff_t>(i); };
      const std::size_t end = std::min(first.size(), begin + batch_size);
      const texts a(at(first, begin), at(first, end));
      const texts b = second ? texts(at(*second, begin), at(*second, end)) : texts{};
      auto part = per_batch(model_, train::encode_inputs(tokenizer_, a, b, max_length_, threads), threads);
      out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    return out;
  }

  model_type& model() { return model_; }
  const model_type& model() const { return model_; }
  const shopml::tokenize::tokenizer& tokenizer() const { return tokenizer_; }
  std::size_t max_length() const { return max_length_; }
  void set_max_length(std::size_t n) {
    if (n < 3) throw shopml::value_error("max_length " + std::to_string(n) + " leaves no room for a text");
    max_length_ = n;
  }

 private:
  shopml::tokenize::tokenizer tokenizer_;
  model_type model_;
  std::size_t max_length_;
};

nb::dict step_dict(const train::step_log& s) {
  nb::dict d;
  d["step"] = s.step;
  d["total_steps"] = s.total_steps;
  d["epoch"] = s.epoch;
  d["loss"] = s.loss;
  d["grad_norm"] = s.grad_norm;
  d["learning_rate"] = s.lr;
  d["sequences_per_second"] = s.sequences_per_second;
  return d;
}

nb::dict epoch_dict(const train::epoch_log& e) {
  nb::dict d;
  d["epoch"] = e.epoch;
  d["train_loss"] = e.train_loss;
  d["seconds"] = e.seconds;
  if (e.eval) {
    d["eval_loss"] = e.eval->loss;
    d["eval_accuracy"] = e.eval->accuracy;
    d["eval_macro_f1"] = e.eval->macro_f1;
  }
  return d;
}

// float32 [texts × labels] of what `per_batch` scores (logits or probabilities), computed
// without the GIL.
template <class PerBatch>
nb::ndarray<nb::numpy, float> score_array(const sequence_classifier& c, const texts& x, const std::optional<texts>& text_pairs,
                                          std::size_t batch_size, int threads, PerBatch per_batch) {
  std::vector<float> scores;
  {
    nb::gil_scoped_release unlocked;
    scores = c.batched(x, text_pairs, batch_size, threads, per_batch);
  }
  return to_numpy(std::move(scores), {x.size(), c.model().num_labels()});
}

// A Python callback called from fit's (GIL-free) thread; a pending Ctrl-C or an exception
// the callback raises ends fit with that exception.
template <class Log>
std::function<void(const Log&)> with_gil(nb::object callback, nb::dict (*as_dict)(const Log&)) {
  return [callback = std::move(callback), as_dict](const Log& log) {
    nb::gil_scoped_acquire locked;
    if (PyErr_CheckSignals() != 0) throw nb::python_error();
    if (!callback.is_none()) callback(as_dict(log));
  };
}

}  // namespace

void bind_train(nb::module_& m) {
  nb::class_<sequence_classifier>(
      m, "SequenceClassifier",
      "BERT fine-tuned for sequence classification or regression (transformers' BertForSequenceClassification, trained as "
      "its Trainer does: AdamW, linear warm-up and decay, clipping).")
      .def_static("from_pretrained", &sequence_classifier::from_pretrained, nb::arg("model_dir"),
                  nb::arg("labels") = std::vector<std::string>{}, nb::arg("num_labels") = nb::none(),
                  nb::arg("pooling") = nb::none(), nb::arg("seed") = 42, nb::arg("max_length") = 128,
                  "A local Hugging Face directory (config.json, model.safetensors, tokenizer.json): a BertModel checkpoint "
                  "(the head is new, initialised as transformers does from `seed`) or a fine-tuned one. labels: id2label "
                  "(default: the checkpoint's, else num_labels LABEL_i; one label = regression). pooling: 'pooler' (BERT's) "
                  "or 'mean' (sentence-transformers'); default: the checkpoint's.")
      .def(
          "fit",
          [](sequence_classifier& c, const texts& x, const targets& y, const std::optional<texts>& text_pairs,
             const std::optional<texts>& eval_texts, const std::optional<targets>& eval_labels,
             const std::optional<texts>& eval_text_pairs, std::size_t epochs, std::size_t batch_size, double learning_rate,
             double warmup_ratio, double weight_decay, double max_grad_norm, std::size_t gradient_accumulation_steps,
             std::size_t max_steps, std::uint64_t seed, bool dropout, int threads, std::optional<bool> progress,
             std::optional<std::filesystem::path> checkpoint_dir, nb::object on_step, nb::object on_epoch) {
            if (eval_texts.has_value() != eval_labels.has_value())
              throw shopml::value_error("fit: eval_texts and eval_labels go together");
            train::fit_options o{.epochs = epochs,
                                 .batch_size = batch_size,
                                 .lr = learning_rate,
                                 .warmup_ratio = warmup_ratio,
                                 .weight_decay = weight_decay,
                                 .max_grad_norm = max_grad_norm,
                                 .accumulation = gradient_accumulation_steps,
                                 .max_steps = max_steps,
                                 .seed = seed,
                                 .dropout = dropout,
                                 .threads = threads,
                                 .progress = progress,
                                 .checkpoint_dir = checkpoint_dir.value_or(std::filesystem::path{}),
                                 .on_step = with_gil<train::step_log>(std::move(on_step), &step_dict),
                                 .on_epoch = with_gil<train::epoch_log>(std::move(on_epoch), &epoch_dict)};
            train::fit_history history;
            {
              nb::gil_scoped_release unlocked;
              const auto train_set = c.examples(x, text_pairs, y, threads);
              const auto eval_set =
                  eval_texts ? c.examples(*eval_texts, eval_text_pairs, *eval_labels, threads) : std::vector<train::example>{};
              history = train::fit(c.model(), train_set, eval_set, o);
            }
            nb::list steps, epochs_out;
            for (const auto& s : history.steps) steps.append(step_dict(s));
            for (const auto& e : history.epochs) epochs_out.append(epoch_dict(e));
            nb::dict out;
            out["steps"] = steps;
            out["epochs"] = epochs_out;
            return out;
          },
          nb::arg("texts"), nb::arg("labels"), nb::arg("text_pairs") = nb::none(), nb::arg("eval_texts") = nb::none(),
          nb::arg("eval_labels") = nb::none(), nb::arg("eval_text_pairs") = nb::none(), nb::kw_only(), nb::arg("epochs") = 3,
          nb::arg("batch_size") = 16, nb::arg("learning_rate") = 2e-5, nb::arg("warmup_ratio") = 0.0,
          nb::arg("weight_decay") = 0.01, nb::arg("max_grad_norm") = 1.0, nb::arg("gradient_accumulation_steps") = 1,
          nb::arg("max_steps") = 0, nb::arg("seed") = 42, nb::arg("dropout") = true, nb::arg("threads") = 0,
          nb::arg("progress") = nb::none(), nb::arg("checkpoint_dir") = nb::none(), nb::arg("on_step") = nb::none(),
          nb::arg("on_epoch") = nb::none(),
          "Fine-tunes on texts (or texts with text_pairs) and labels (label names, class ids, or floats for regression); "
          "evaluates after each epoch when eval_* are given. Returns the history: {'steps': [...], 'epochs': [...]}. "
          "on_step / on_epoch get each entry as it happens; checkpoint_dir resumes a run bitwise.")
      .def(
          "predict_proba",
          [](const sequence_classifier& c, const texts& x, const std::optional<texts>& text_pairs, std::size_t batch_size,
             int threads) {
            return score_array(c, x, text_pairs, batch_size, threads,
                               [](const auto& model, const auto& batch, int t) { return model.predict_proba(batch, t); });
          },
          nb::arg("texts"), nb::arg("text_pairs") = nb::none(), nb::arg("batch_size") = 32, nb::arg("threads") = 0,
          "float32 [len(texts) × len(labels)]: softmax of the logits, columns in `labels` order. No dropout.")
      .def(
          "logits",
          [](const sequence_classifier& c, const texts& x, const std::optional<texts>& text_pairs, std::size_t batch_size,
             int threads) {
            return score_array(c, x, text_pairs, batch_size, threads,
                               [](const auto& model, const auto& batch, int t) { return model.logits(batch, t); });
          },
          nb::arg("texts"), nb::arg("text_pairs") = nb::none(), nb::arg("batch_size") = 32, nb::arg("threads") = 0)
      .def(
          "predict",
          [](const sequence_classifier& c, const texts& x, const std::optional<texts>& text_pairs, std::size_t batch_size,
             int threads) -> nb::object {
            const bool regression = c.model().regression();
            std::vector<float> values;
            std::vector<std::string> names;
            {
              nb::gil_scoped_release unlocked;
              if (regression)
                values = c.batched(x, text_pairs, batch_size, threads,
                                   [](const auto& model, const auto& batch, int t) { return model.logits(batch, t); });
              else
                names = c.batched(x, text_pairs, batch_size, threads,
                                  [](const auto& model, const auto& batch, int t) { return model.predict(batch, t); });
            }
            if (regression) return nb::cast(std::vector<double>(values.begin(), values.end()));
            return nb::cast(std::move(names));
          },
          nb::arg("texts"), nb::arg("text_pairs") = nb::none(), nb::arg("batch_size") = 32, nb::arg("threads") = 0,
          "The most probable label name of each text (a regression model: its predicted value).")
      .def(
          "evaluate",
          [](const sequence_classifier& c, const texts& x, const targets& y, const std::optional<texts>& text_pairs,
             std::size_t batch_size, int threads) {
            train::evaluation e;
            {
              nb::gil_scoped_release unlocked;
              const auto set = c.examples(x, text_pairs, y, threads);
              e = train::evaluate(c.model(), set, batch_size, threads);
            }
            nb::dict d;
            d["loss"] = e.loss;
            d["accuracy"] = e.accuracy;
            d["macro_f1"] = e.macro_f1;
            d["rows"] = e.rows;
            return d;
          },
          nb::arg("texts"), nb::arg("labels"), nb::arg("text_pairs") = nb::none(), nb::arg("batch_size") = 32,
          nb::arg("threads") = 0, "{'loss', 'accuracy', 'macro_f1', 'rows'} without dropout.")
      .def(
          "save_pretrained",
          [](const sequence_classifier& c, const std::filesystem::path& dir) {
            nb::gil_scoped_release unlocked;
            c.model().save_pretrained(dir);
          },
          nb::arg("save_directory"),
          "Writes config.json, model.safetensors and the tokenizer files: transformers' "
          "AutoModelForSequenceClassification.from_pretrained reads it (a mean-pooling model: a sentence-transformers "
          "directory).")
      .def_prop_ro("labels", [](const sequence_classifier& c) { return c.model().labels(); })
      .def_prop_ro("num_labels", [](const sequence_classifier& c) { return c.model().num_labels(); })
      .def_prop_ro("tokenizer", &sequence_classifier::tokenizer, nb::rv_policy::copy)
      .def_prop_rw("max_length", &sequence_classifier::max_length, &sequence_classifier::set_max_length,
                   "Tokens per text (pair) after truncation, for fit and prediction alike.");
}

}  // namespace shopml_python
