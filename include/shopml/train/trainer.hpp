#pragma once
// Fine-tuning a BERT task model the way HF's Trainer does: AdamW (no decay on biases and
// LayerNorm), a linear schedule with warm-up, clipping by global norm, gradient
// accumulation, dropout from a counter-based generator, seeded length-bucketed batches,
// evaluation after each epoch (loss, accuracy, macro-F1), per-step and per-epoch
// callbacks, a progress line on stderr, and checkpoints that resume bitwise.
//
//   auto history = train::fit(model, train_examples, eval_examples, {.epochs = 3, .lr = 2e-5});

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/safetensors.hpp"
#include "shopml/metrics/classification.hpp"
#include "shopml/nn/bert_for_classification.hpp"
#include "shopml/optim/adamw.hpp"
#include "shopml/optim/clip_grad_norm.hpp"
#include "shopml/optim/lr_schedule.hpp"
#include "shopml/progress.hpp"
#include "shopml/train/examples.hpp"

namespace shopml::train {

struct step_log {
  std::size_t step = 0, total_steps = 0;  // optimiser steps, counting from 1
  std::size_t epoch = 0;                  // from 0
  double loss = 0;                        // mean over the step's batches
  double grad_norm = 0;                   // before clipping
  double lr = 0;                          // the step's learning rate
  double sequences_per_second = 0;
};

struct evaluation {
  double loss = 0, accuracy = 0, macro_f1 = 0;  // accuracy and F1 over labelled rows (not for regression)
  std::size_t rows = 0;
};

struct epoch_log {
  std::size_t epoch = 0;
  double train_loss = 0;           // mean over the epoch's steps
  std::optional<evaluation> eval;  // when eval examples were given
  double seconds = 0;
};

struct fit_options {
  std::size_t epochs = 3;
  std::size_t batch_size = 16;
  double lr = 2e-5;
  double warmup_ratio = 0.0;   // warm-up steps = ceil(ratio × total steps), as HF
  double weight_decay = 0.01;  // on the decay group (not biases and LayerNorm)
  double max_grad_norm = 1.0;  // 0 = no clipping
  std::size_t accumulation = 1;
  std::size_t max_steps = 0;  // > 0: stop after this many optimiser steps (a time budget)
  std::uint64_t seed = 42;
  bool dropout = true;
  int threads = 0;
  std::optional<bool> progress;          // the progress line: nullopt = when stderr is a terminal
  std::filesystem::path checkpoint_dir;  // non-empty: a checkpoint after each epoch, resumed from when present
  std::function<void(const step_log&)> on_step;
  std::function<void(const epoch_log&)> on_epoch;
};

struct fit_history {
  std::vector<step_log> steps;
  std::vector<epoch_log> epochs;
};

// Loss, accuracy and macro-F1 of `model` on `examples`, in batches, without dropout.
template <class Model>
evaluation evaluate(const Model& model, std::span<const example> examples, std::size_t batch_size = 32, int threads = 0) {
  if (examples.empty()) throw value_error("evaluate: no examples");
  evaluation out;
  std::vector<std::int64_t> truth, predicted;
  double loss_sum = 0, weight_sum = 0;
  const std::size_t k = model.num_labels();
  for (std::size_t first = 0; first < examples.size(); first += batch_size) {
    std::vector<std::size_t> idx;
    for (std::size_t i = first; i < std::min(examples.size(), first + batch_size); ++i) idx.push_back(i);
    const auto [batch, targets] = collate(examples, idx, model.regression());
    const auto logits = model.logits(batch, threads);
    const double loss = model.loss(batch, targets, threads);
    if (model.regression()) {
      loss_sum += loss * static_cast<double>(idx.size());
      weight_sum += static_cast<double>(idx.size());
      continue;
    }
    std::size_t labelled = 0;
    for (std::size_t r = 0; r < targets.classes.size(); ++r) {
      if (targets.classes[r] == -100) continue;
      ++labelled;
      const float* row = logits.data() + r * k;
      truth.push_back(targets.classes[r]);
      predicted.push_back(static_cast<std::int64_t>(std::max_element(row, row + k) - row));
    }
    loss_sum += loss * static_cast<double>(labelled);
    weight_sum += static_cast<double>(labelled);
  }
  out.loss = loss_sum / weight_sum;
  out.rows = static_cast<std::size_t>(weight_sum);
  if (!truth.empty()) {
    out.accuracy = metrics::accuracy_score<std::int64_t>(truth, predicted);
    out.macro_f1 = metrics::f1_score<std::int64_t>(truth, predicted, metrics::average::macro);
  }
  return out;
}

namespace detail {

// What must match for a checkpoint to resume a run bitwise.
inline std::string options_signature(const fit_options& o, std::size_t train_rows) {
  char text[512];
  std::snprintf(text, sizeof text,
                "epochs=%zu batch_size=%zu lr=%.17g warmup_ratio=%.17g weight_decay=%.17g max_grad_norm=%.17g "
                "accumulation=%zu max_steps=%zu seed=%llu dropout=%d rows=%zu",
                o.epochs, o.batch_size, o.lr, o.warmup_ratio, o.weight_decay, o.max_grad_norm, o.accumulation, o.max_steps,
                static_cast<unsigned long long>(o.seed), o.dropout ? 1 : 0, train_rows);
  return text;
}

// A one-line report of training on stderr (steps, loss, seq/s, ETA), redrawn at most 5
// times a second, only when asked or when stderr is a terminal.
class training_line {
 public:
  explicit training_line(std::optional<bool> show) : on_(show.value_or(stderr_is_terminal())) {}
  ~training_line() {
    if (drawn_) std::fputc('\n', stderr);
  }
  void update(const step_log& s, double elapsed, std::size_t steps_done_here) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && s.step < s.total_steps && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double eta =
        steps_done_here ? elapsed / static_cast<double>(steps_done_here) * static_cast<double>(s.total_steps - s.step) : 0.0;
    std::fprintf(stderr, "\r[shopml] fine-tune epoch %zu step %zu/%zu loss %.4f lr %.2e %.1f seq/s ETA %.0f s ", s.epoch + 1,
                 s.step, s.total_steps, s.loss, s.lr, s.sequences_per_second, eta);
    std::fflush(stderr);
    drawn_ = true;
  }
  void end_epoch(const epoch_log& e) {
    if (!on_) return;
    std::fprintf(stderr, "\r[shopml] epoch %zu: train loss %.4f", e.epoch + 1, e.train_loss);
    if (e.eval)
      std::fprintf(stderr, ", eval loss %.4f accuracy %.4f macro-F1 %.4f", e.eval->loss, e.eval->accuracy, e.eval->macro_f1);
    std::fprintf(stderr, " (%.0f s)%20s\n", e.seconds, "");
    drawn_ = false;
  }

 private:
  bool on_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace detail

// Where a run stands, saved with the weights and optimiser moments in a checkpoint.
struct run_position {
  std::uint64_t step = 0;        // optimiser steps done
  std::uint64_t micro_step = 0;  // batches done (the dropout counter)
  std::uint64_t epoch = 0;       // the epoch in progress
  std::uint64_t batch = 0;       // batches of that epoch done
};

// Saves weights, AdamW moments and the position to dir/checkpoint.safetensors (written
// to a temporary name and renamed).
template <class Model, class Backend>
void save_checkpoint(const std::filesystem::path& dir, const Model& model, const optim::adamw<Backend>& opt,
                     const run_position& at, const std::string& signature) {
  std::filesystem::create_directories(dir);
  const auto& params = model.parameters();
  std::vector<float> values(params.size());
  nn::buffer<Backend>::download(values, params.values());
  const auto moments = opt.state();
  const std::vector<std::uint64_t> position{at.step, at.micro_step, at.epoch, at.batch, opt.steps()};
  std::vector<io::tensor_view> tensors{{"values", {values.size()}, std::span<const float>(values)},
                                       {"moments", {moments.size()}, std::span<const float>(moments)},
                                       {"position", {position.size()}, std::span<const std::uint64_t>(position)}};
  io::save_safetensors(dir / "checkpoint.safetensors", tensors, {{"options", signature}});
}

// Restores a checkpoint written by save_checkpoint for the same model and options;
// value_error naming the difference otherwise (nothing is changed then).
template <class Model, class Backend>
run_position load_checkpoint(const std::filesystem::path& dir, Model& model, optim::adamw<Backend>& opt,
                             const std::string& signature) {
  const auto file = io::safetensors_file::open(dir / "checkpoint.safetensors");
  const auto meta = file.metadata().find("options");
  if (meta == file.metadata().end() || meta->second != signature)
    throw value_error("'" + file.source() + "' was written with other options: it has [" +
                      (meta == file.metadata().end() ? std::string("none") : meta->second) + "], this run has [" + signature +
                      "]");
  const auto values = file.to_f32("values");
  const auto moments = file.to_f32("moments");
  const auto position = file.to_i64("position");
  if (values.size() != model.parameters().size() || position.size() != 5)
    throw shape_error("'" + file.source() + "' holds " + std::to_string(values.size()) + " parameters, the model has " +
                      std::to_string(model.parameters().size()));
  opt.load_state(moments, static_cast<std::uint64_t>(position[4]));
  nn::buffer<Backend>::upload(model.parameters().values(), values);
  model.zero_grad();
  return {static_cast<std::uint64_t>(position[0]), static_cast<std::uint64_t>(position[1]),
          static_cast<std::uint64_t>(position[2]), static_cast<std::uint64_t>(position[3])};
}

// value_error naming the first example whose targets do not fit the model (checked
// before any training, so a bad row changes nothing).
template <class Model>
void check_examples(const Model& model, std::span<const example> examples, const char* what) {
  const std::size_t k = model.num_labels();
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const auto& ex = examples[i];
    const std::string at = std::string(what) + " example " + std::to_string(i) + ": ";
    if (ex.ids.empty() || ex.ids.size() != ex.type_ids.size())
      throw value_error(at + "no tokens, or ids and type ids differ in length");
    if (model.regression()) {
      if (!std::isfinite(ex.value)) throw value_error(at + "the regression target is not finite");
      continue;
    }
    const bool per_token = ex.classes.size() == ex.ids.size() && ex.classes.size() != 1;
    if (ex.classes.size() != 1 && !per_token)
      throw value_error(at + std::to_string(ex.classes.size()) + " labels for " + std::to_string(ex.ids.size()) + " tokens");
    for (auto c : ex.classes)
      if ((c < 0 && !(per_token && c == -100)) || (c >= 0 && static_cast<std::size_t>(c) >= k))
        throw value_error(at + "label " + std::to_string(c) + " is outside the model's " + std::to_string(k) + " labels");
  }
}

// Fine-tunes `model` on `train` (evaluating on `eval` after each epoch when non-empty).
template <class Model>
fit_history fit(Model& model, std::span<const example> train, std::span<const example> eval, const fit_options& o) {
  using Backend = std::remove_cvref_t<decltype(model.backend())>;
  if (train.empty()) throw value_error("fit: no training examples");
  check_examples(model, train, "training");
  check_examples(model, eval, "evaluation");
  if (o.epochs == 0 || o.accumulation == 0 || o.batch_size == 0)
    throw value_error("fit: epochs, batch_size and accumulation must be at least 1");
  if (!(o.lr > 0) || !(o.warmup_ratio >= 0 && o.warmup_ratio <= 1) || !(o.max_grad_norm >= 0))
    throw value_error("fit: lr must be positive, warmup_ratio in [0, 1], max_grad_norm non-negative");
  const std::size_t batches_per_epoch = (train.size() + o.batch_size - 1) / o.batch_size;
  const std::size_t steps_per_epoch = (batches_per_epoch + o.accumulation - 1) / o.accumulation;
  std::size_t total = steps_per_epoch * o.epochs;
  if (o.max_steps > 0) total = std::min(total, o.max_steps);
  const optim::linear_schedule_with_warmup schedule{
      static_cast<std::size_t>(std::ceil(o.warmup_ratio * static_cast<double>(total))), total};
  optim::adamw<Backend> opt(model.parameters(), {.weight_decay = o.weight_decay}, model.backend());

  const std::string signature = detail::options_signature(o, train.size());
  run_position at;
  if (!o.checkpoint_dir.empty() && std::filesystem::exists(o.checkpoint_dir / "checkpoint.safetensors"))
    at = load_checkpoint(o.checkpoint_dir, model, opt, signature);

  fit_history history;
  detail::training_line line(o.progress);
  const auto start = std::chrono::steady_clock::now();
  std::size_t steps_here = 0;
  model.zero_grad();
  for (std::size_t epoch = at.epoch; epoch < o.epochs && at.step < total; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const auto batches = make_batches(train, o.batch_size, o.seed, epoch);
    double epoch_loss = 0;
    std::size_t epoch_steps = 0;
    double step_loss = 0;
    std::size_t in_step = 0, step_sequences = 0;
    auto step_start = std::chrono::steady_clock::now();
    for (std::size_t b = epoch == at.epoch ? at.batch : 0; b < batches.size() && at.step < total; ++b) {
      const auto [batch, targets] = collate(train, batches[b], model.regression());
      const nn::dropout_plan dropout{o.dropout, o.seed, at.micro_step};
      const std::size_t group = std::min(o.accumulation, batches.size() - (b / o.accumulation) * o.accumulation);
      const double loss = model.forward_backward(batch, targets, dropout, 1.0f / static_cast<float>(group), o.threads);
      if (!std::isfinite(loss))
        throw value_error("fit: the loss is " + std::to_string(loss) + " at step " + std::to_string(at.step + 1) + " (epoch " +
                          std::to_string(epoch + 1) + ", batch " + std::to_string(b) + "); training stopped before the update");
      ++at.micro_step;
      step_loss += loss / static_cast<double>(group);
      step_sequences += batch.size();
      if (++in_step < group) continue;
      step_log s;
      s.grad_norm =
          o.max_grad_norm > 0
              ? optim::clip_grad_norm(model.parameters(), o.max_grad_norm, o.threads)
              : std::sqrt(kernels<Backend>::sum_squares(model.parameters().grads(), model.parameters().size(), o.threads));
      if (!std::isfinite(s.grad_norm))
        throw value_error("fit: the gradient norm is not finite at step " + std::to_string(at.step + 1) + " (epoch " +
                          std::to_string(epoch + 1) + ", batch " + std::to_string(b) + ")");
      ++at.step;
      s.lr = schedule.lr(o.lr, at.step);
      opt.step(model.parameters(), s.lr, o.threads);
      model.zero_grad();
      at.batch = b + 1;
      s.step = at.step;
      s.total_steps = total;
      s.epoch = epoch;
      s.loss = step_loss;
      const auto now = std::chrono::steady_clock::now();
      s.sequences_per_second = static_cast<double>(step_sequences) / std::chrono::duration<double>(now - step_start).count();
      step_start = now;
      ++steps_here;
      epoch_loss += step_loss;
      ++epoch_steps;
      step_loss = 0;
      in_step = step_sequences = 0;
      history.steps.push_back(s);
      if (o.on_step) o.on_step(s);
      line.update(s, std::chrono::duration<double>(now - start).count(), steps_here);
    }
    epoch_log e;
    e.epoch = epoch;
    e.train_loss = epoch_steps ? epoch_loss / static_cast<double>(epoch_steps) : 0.0;
    if (!eval.empty()) e.eval = evaluate(model, eval, 32, o.threads);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    at.epoch = epoch + 1;
    at.batch = 0;
    if (!o.checkpoint_dir.empty()) save_checkpoint(o.checkpoint_dir, model, opt, at, signature);
    history.epochs.push_back(e);
    line.end_epoch(e);
    if (o.on_epoch) o.on_epoch(e);
  }
  return history;
}

}  // namespace shopml::train
