// The shopml side of bench/peers/finetune.sh: all-MiniLM-L6-v2 fine-tuned as
// BertForSequenceClassification on the records of a CSV (read with shopml::io::read_csv).
// Which records go where (split, timing batches, class order) comes from the script's
// Python side (bench/peers/finetune_peer.py prepare), so both sides use the same rows.
// Each mode prints one JSON line on stdout; progress goes to stderr.
//
//   finetune_peer time     COMMON --batches FILE [--repeats 2] [--padded-repeats 3] [--gemm-size 2048]
//       training steps (forward_backward with dropout + clip_grad_norm + AdamW) on the
//       batches of FILE (one line of record indices per batch), after one untimed step;
//       then a padded 16 x 128 step (every sequence 128 real tokens) and kernels<cpu>::gemm
//       on a square product of gemm-size, both at the same thread count.
//   finetune_peer train    COMMON --train FILE --test FILE --steps N [--lr 5e-5] [--warmup-ratio 0.1]
//                          [--seed 42] [--save DIR] [--logits-out FILE] [--logits-rows 32]
//                          [--add-tokens FILE]
//       fine-tunes for N optimiser steps (batch 16) on the --train records, reports the
//       held-out accuracy on --test, saves with save_pretrained and writes the eval-mode
//       logits of the first --logits-rows test records (float32, row-major). --add-tokens:
//       the tokens of FILE (one a line) that the vocabulary lacks are added to the tokenizer
//       (add_tokens) and the embeddings grown to match (resize_token_embeddings); the
//       tokenizer is saved with the model.
//   finetune_peer baseline COMMON --train FILE --test FILE
//       the frozen-embedding baseline: sentence_encoder embeddings (normalised) of those
//       records and logistic_regression (C 1, tol 1e-5, max_iter 1000) fitted on --train,
//       scored on --test. Text pairs are represented as [u, v, |u - v|].
//
// COMMON: --csv FILE --text COL [--text-b COL] --label COL --classes FILE --rows N
//         [--model DIR] [--threads N] [--max-length 128] [--pooling pooler|mean]
// --rows is the number of records the Python side read: a different count stops the run.

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "shopml/io/csv.hpp"
#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/metrics/classification.hpp"
#include "shopml/metrics/classification_report.hpp"
#include "shopml/model_selection/train_test_split.hpp"
#include "shopml/nn/bert_for_classification.hpp"
#include "shopml/nn/sentence_encoder.hpp"
#include "shopml/optim/adamw.hpp"
#include "shopml/optim/clip_grad_norm.hpp"
#include "shopml/optim/lr_schedule.hpp"
#include "shopml/tokenize/tokenizer.hpp"
#include "shopml/train/examples.hpp"
#include "shopml/train/trainer.hpp"

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
using model_t = shopml::nn::bert_for_sequence_classification<>;

double seconds_since(clock_type::time_point start) { return std::chrono::duration<double>(clock_type::now() - start).count(); }

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

// Resident memory now (Linux /proc/self/statm), MB.
double rss_now_mb() {
  std::ifstream in("/proc/self/statm");
  double pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw shopml::io_error("cannot open '" + path.string() + "'");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::vector<std::size_t> parse_indices(const std::string& line) {
  std::vector<std::size_t> out;
  std::istringstream in(line);
  for (std::size_t i; in >> i;) out.push_back(i);
  return out;
}

std::vector<std::size_t> read_indices(const fs::path& path) {
  std::vector<std::size_t> out;
  for (const auto& line : read_lines(path))
    for (auto i : parse_indices(line)) out.push_back(i);
  return out;
}

struct args {
  std::string mode;
  std::map<std::string, std::string> kv;
  std::string get(const std::string& key, const std::string& fallback = "\x01") const {
    const auto it = kv.find(key);
    if (it != kv.end()) return it->second;
    if (fallback == "\x01") throw shopml::value_error("finetune_peer " + mode + ": --" + key + " is required");
    return fallback;
  }
};

// The CSV's texts (one or two columns) and class ids, checked against what Python read.
struct dataset {
  std::vector<std::string> a, b;  // b empty for single texts
  std::vector<std::int64_t> y;
  std::vector<std::string> classes;
  bool pairs() const { return !b.empty(); }
};

dataset load(const args& o) {
  const auto start = clock_type::now();
  const auto table = shopml::io::read_csv(o.get("csv"));
  const std::size_t expected = std::stoull(o.get("rows"));
  if (table.rows.size() != expected)
    throw shopml::value_error("'" + o.get("csv") + "': shopml::io::read_csv read " + std::to_string(table.rows.size()) +
                              " records, Python's csv module " + std::to_string(expected));
  dataset d;
  d.classes = read_lines(o.get("classes"));
  std::unordered_map<std::string, std::int64_t> id;
  for (std::size_t i = 0; i < d.classes.size(); ++i) id.emplace(d.classes[i], static_cast<std::int64_t>(i));
  const std::size_t ca = table.column(o.get("text")), cl = table.column(o.get("label"));
  const std::string text_b = o.get("text-b", "");
  const std::size_t cb = text_b.empty() ? 0 : table.column(text_b);
  d.a.reserve(table.rows.size());
  d.y.reserve(table.rows.size());
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    const auto it = id.find(row[cl]);
    if (it == id.end())
      throw shopml::value_error("record " + std::to_string(r) + ": label '" + row[cl] + "' is not in " + o.get("classes"));
    d.a.push_back(row[ca]);
    if (!text_b.empty()) d.b.push_back(row[cb]);
    d.y.push_back(it->second);
  }
  std::fprintf(stderr, "[finetune_peer] read %zu records, %zu classes from %s (%.1f s)\n", d.y.size(), d.classes.size(),
               o.get("csv").c_str(), seconds_since(start));
  return d;
}

template <class T>
std::vector<T> take(const std::vector<T>& v, const std::vector<std::size_t>& idx) {
  std::vector<T> out;
  out.reserve(idx.size());
  for (auto i : idx) {
    if (i >= v.size())
      throw shopml::value_error("record index " + std::to_string(i) + " is past the " + std::to_string(v.size()) + " records");
    out.push_back(v[i]);
  }
  return out;
}

// Tokenised examples of the records `idx` (truncated to max_length; pairs longest-first),
// 4,096 at a time: the tokenizer's full encodings (tokens, offsets, masks) of every record
// at once would take more memory than the training itself.
std::vector<shopml::train::example> encode(const shopml::tokenize::tokenizer& tok, const dataset& d,
                                           const std::vector<std::size_t>& idx, std::size_t max_length, int threads) {
  std::vector<shopml::train::example> out;
  out.reserve(idx.size());
  for (std::size_t first = 0; first < idx.size(); first += 4096) {
    const std::vector<std::size_t> part(idx.begin() + static_cast<std::ptrdiff_t>(first),
                                        idx.begin() + static_cast<std::ptrdiff_t>(std::min(idx.size(), first + 4096)));
    const auto a = take(d.a, part);
    const auto y = take(d.y, part);
    auto ex = d.pairs() ? shopml::train::encode_pairs(tok, a, take(d.b, part), y, {}, max_length, threads)
                        : shopml::train::encode_texts(tok, a, y, max_length, threads);
    for (auto& e : ex) {
      e.ids.shrink_to_fit();
      e.type_ids.shrink_to_fit();
      out.push_back(std::move(e));
    }
  }
  return out;
}

fs::path model_dir(const args& o) {
  return o.get("model",
               (fs::path(std::getenv("HOME") ? std::getenv("HOME") : ".") / ".cache/shopml/models/all-MiniLM-L6-v2").string());
}

// The classifier's input: --pooling pooler (HF's BertForSequenceClassification) or mean.
model_t::options model_options(const args& o, const dataset& d) {
  const auto pooling = o.get("pooling", "pooler");
  if (pooling != "pooler" && pooling != "mean")
    throw shopml::value_error("finetune_peer: --pooling is pooler or mean, not '" + pooling + "'");
  return {.labels = d.classes,
          .pooling = pooling == "mean" ? shopml::nn::sequence_pooling::mean : shopml::nn::sequence_pooling::pooler};
}

// Matrix FLOPs of one forward pass (GEMMs and attention products; the training step does
// three times as many: backward computes the input and the weight gradient of each).
double forward_flops(const shopml::nn::bert_config& c, const shopml::nn::token_batch& batch, std::size_t labels) {
  const double h = static_cast<double>(c.hidden_size), i = static_cast<double>(c.intermediate_size),
               t = static_cast<double>(batch.tokens()), s = static_cast<double>(batch.size());
  double attention = 0;
  for (std::size_t q = 0; q < batch.size(); ++q) attention += 4.0 * static_cast<double>(batch.length(q) * batch.length(q)) * h;
  const double per_layer = t * (2 * h * 3 * h + 2 * h * h + 4 * h * i) + attention;
  return static_cast<double>(c.num_hidden_layers) * per_layer + 2 * s * h * h + 2 * s * h * static_cast<double>(labels);
}

// One training step as the trainer does it: forward + backward with dropout, clipping,
// AdamW; returns its seconds.
double train_step(model_t& model, shopml::optim::adamw<>& opt, const shopml::nn::token_batch& batch,
                  const shopml::nn::batch_targets& targets, std::uint64_t step, double lr, int threads) {
  const auto start = clock_type::now();
  model.zero_grad();
  const double loss = model.forward_backward(batch, targets, {true, 42, step}, 1.0f, threads);
  shopml::optim::clip_grad_norm(model.parameters(), 1.0, threads);
  opt.step(model.parameters(), lr, threads);
  const double s = seconds_since(start);
  if (!std::isfinite(loss)) throw shopml::value_error("the loss is not finite at timing step " + std::to_string(step));
  return s;
}

int run_time(const args& o) {
  const int threads = std::stoi(o.get("threads", "0"));
  const std::size_t max_length = std::stoull(o.get("max-length", "128"));
  const int repeats = std::stoi(o.get("repeats", "2")), padded_repeats = std::stoi(o.get("padded-repeats", "3"));
  const std::size_t gemm_size = std::stoull(o.get("gemm-size", "2048"));
  const auto d = load(o);
  const auto dir = model_dir(o);
  const auto tok = shopml::tokenize::tokenizer::from_file(dir / "tokenizer.json");
  std::vector<std::vector<std::size_t>> batches;
  for (const auto& line : read_lines(o.get("batches"))) batches.push_back(parse_indices(line));
  if (batches.empty()) throw shopml::value_error(o.get("batches") + ": no batches");

  auto model = model_t::from_pretrained(dir, model_options(o, d));
  shopml::optim::adamw<> opt(model.parameters(), {.weight_decay = 0.01});
  std::vector<std::pair<shopml::nn::token_batch, shopml::nn::batch_targets>> collated;
  std::vector<std::size_t> tokens;
  for (const auto& idx : batches) {
    const auto ex = encode(tok, d, idx, max_length, threads);
    std::vector<std::size_t> all(ex.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    collated.push_back(shopml::train::collate(ex, all, false));
    tokens.push_back(collated.back().first.tokens());
  }
  std::uint64_t step = 0;
  const double lr = 2e-5;
  train_step(model, opt, collated[0].first, collated[0].second, step++, lr, threads);  // warm-up, untimed
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r)
    for (std::size_t b = 0; b < collated.size(); ++b) {
      times.push_back(train_step(model, opt, collated[b].first, collated[b].second, step++, lr, threads));
      std::fprintf(stderr, "[finetune_peer] shopml %d thread(s) step %zu/%zu: %zu tokens, %.3f s\n", shopml::num_threads(threads),
                   times.size(), collated.size() * static_cast<std::size_t>(repeats), tokens[b], times.back());
    }

  // A padded 16 x 128 batch: every sequence 128 real tokens, cut from the timing texts'
  // tokens laid end to end ([CLS] ... [SEP]).
  shopml::nn::token_batch padded;
  shopml::nn::batch_targets padded_targets;
  {
    std::vector<std::int64_t> stream;
    for (const auto& [batch, targets] : collated)
      for (std::size_t s = 0; s < batch.size(); ++s)
        for (std::size_t t = batch.begin(s) + 1; t + 1 < batch.begin(s) + batch.length(s); ++t) stream.push_back(batch.ids[t]);
    if (stream.empty()) stream.push_back(100);
    const std::int64_t cls = collated[0].first.ids.front(), sep = collated[0].first.ids[collated[0].first.length(0) - 1];
    std::size_t at = 0;
    for (std::size_t s = 0; s < 16; ++s) {
      std::vector<std::int64_t> ids{cls};
      while (ids.size() + 1 < max_length) ids.push_back(stream[at++ % stream.size()]);
      ids.push_back(sep);
      padded.add(ids);
      padded_targets.classes.push_back(static_cast<std::int64_t>(s % d.classes.size()));
    }
  }
  std::vector<double> padded_times;
  for (int r = 0; r < padded_repeats + 1; ++r) {
    const double s = train_step(model, opt, padded, padded_targets, step++, lr, threads);
    if (r > 0) padded_times.push_back(s);  // the first grows the buffers
  }
  const double padded_flop = 3.0 * forward_flops(model.config(), padded, d.classes.size());
  const double padded_s = median(padded_times);

  // The machine's fp32 GEMM rate at this thread count: kernels<cpu>::gemm on n x n x n.
  using K = shopml::kernels<shopml::cpu>;
  const std::size_t n = gemm_size;
  std::vector<float> A(n * n), B(n * n), C(n * n);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto* v : {&A, &B})
    for (auto& x : *v) x = u(rng);
  std::vector<double> gemm_times;
  for (int r = 0; r < 6; ++r) {
    const auto start = clock_type::now();
    K::gemm(true, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n, nullptr, threads);
    if (r > 0) gemm_times.push_back(seconds_since(start));
  }
  const double gemm_gflops = 2.0 * static_cast<double>(n) * n * n / median(gemm_times) / 1e9;
  const double padded_gflops = padded_flop / padded_s / 1e9;
  std::fprintf(stderr,
               "[finetune_peer] shopml %d thread(s): median step %.3f s over %zu steps; padded 16x128 step %.3f s = %.1f GFLOP/s "
               "(%.1f GFLOP) vs kernels<cpu>::gemm %zu^3 %.1f GFLOP/s: %.0f %%\n",
               shopml::num_threads(threads), median(times), times.size(), padded_s, padded_gflops, padded_flop / 1e9, n,
               gemm_gflops, 100.0 * padded_gflops / gemm_gflops);
  std::printf("{\"engine\": \"shopml\", \"threads\": %d, \"step_median_s\": %.6f, \"steps\": %zu, \"tokens\": [",
              shopml::num_threads(threads), median(times), times.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) std::printf("%s%zu", i ? ", " : "", tokens[i]);
  std::printf("], \"step_s\": [");
  for (std::size_t i = 0; i < times.size(); ++i) std::printf("%s%.6f", i ? ", " : "", times[i]);
  std::printf(
      "], \"padded_step_s\": %.6f, \"padded_gflop\": %.3f, \"padded_gflops\": %.3f, \"gemm_size\": %zu, \"gemm_gflops\": %.3f, "
      "\"peak_rss_mb\": %.1f}\n",
      padded_s, padded_flop / 1e9, padded_gflops, n, gemm_gflops, peak_rss_mb());
  return 0;
}

int run_train(const args& o) {
  const int threads = std::stoi(o.get("threads", "0"));
  const std::size_t max_length = std::stoull(o.get("max-length", "128"));
  const std::size_t steps = std::stoull(o.get("steps"));
  const double lr = std::stod(o.get("lr", "5e-5")), warmup = std::stod(o.get("warmup-ratio", "0.1"));
  const std::size_t logits_rows = std::stoull(o.get("logits-rows", "32"));
  auto d = load(o);
  const auto train_idx = read_indices(o.get("train")), test_idx = read_indices(o.get("test"));
  const auto dir = model_dir(o);
  auto start = clock_type::now();
  std::vector<shopml::train::example> train, test;
  std::optional<std::uint32_t> unk_id;
  auto tok = shopml::tokenize::tokenizer::from_file(dir / "tokenizer.json");
  const std::string add_tokens = o.get("add-tokens", "");
  if (!add_tokens.empty()) {  // HF's remedy for a vocabulary that lacks the texts' characters
    std::vector<std::string> missing;
    for (auto& t : read_lines(add_tokens))
      if (!t.empty() && !tok.token_to_id(t)) missing.push_back(std::move(t));
    const std::size_t added = tok.add_tokens(missing);
    std::fprintf(stderr, "[finetune_peer] added %zu tokens of %s that the vocabulary lacked (vocabulary %zu)\n", added,
                 add_tokens.c_str(), tok.vocab_size());
  }
  unk_id = tok.token_to_id("[UNK]");
  train = encode(tok, d, train_idx, max_length, threads);
  test = encode(tok, d, test_idx, max_length, threads);
  d.a = {};  // the texts are not needed any more
  d.b = {};
  malloc_trim(0);  // what tokenising freed goes back to the system: resident memory is what training holds
  std::size_t train_tokens = 0, unk = 0;
  for (const auto& ex : train) {
    train_tokens += ex.ids.size();
    for (auto id : ex.ids) unk += unk_id && id == static_cast<std::int64_t>(*unk_id);
  }
  std::fprintf(stderr,
               "[finetune_peer] tokenised %zu + %zu records in %.1f s: %.1f tokens per training text, %.1f %% [UNK] (%.0f MB "
               "resident, peak %.0f MB)\n",
               train.size(), test.size(), seconds_since(start),
               static_cast<double>(train_tokens) / static_cast<double>(train.size()),
               100.0 * static_cast<double>(unk) / static_cast<double>(train_tokens), rss_now_mb(), peak_rss_mb());

  auto model = model_t::from_pretrained(dir, model_options(o, d));
  if (tok.vocab_size() != model.config().vocab_size) model.resize_token_embeddings(tok.vocab_size(), 42);
  std::fprintf(stderr, "[finetune_peer] memory before training: %.0f MB resident, peak so far %.0f MB\n", rss_now_mb(),
               peak_rss_mb());
  const std::size_t per_epoch = (train.size() + 15) / 16;
  shopml::train::fit_options fo;
  fo.epochs = (steps + per_epoch - 1) / per_epoch;
  fo.batch_size = 16;
  fo.lr = lr;
  fo.warmup_ratio = warmup;
  fo.max_steps = steps;
  fo.seed = std::stoull(o.get("seed", "42"));
  fo.threads = threads;
  fo.progress = false;
  double window_loss = 0;
  std::size_t window = 0;
  start = clock_type::now();
  fo.on_step = [&](const shopml::train::step_log& s) {
    window_loss += s.loss;
    ++window;
    if (s.step % 25 == 0 || s.step == s.total_steps) {
      const double el = seconds_since(start);
      std::fprintf(
          stderr,
          "[finetune_peer] step %zu/%zu: loss %.4f (mean of the last %zu), lr %.2e, %.2f s/step, ETA %.0f s, %.0f MB resident\n",
          s.step, s.total_steps, window_loss / static_cast<double>(window), window, s.lr, el / static_cast<double>(s.step),
          el / static_cast<double>(s.step) * static_cast<double>(s.total_steps - s.step), rss_now_mb());
      window_loss = 0;
      window = 0;
    }
  };
  const auto history = shopml::train::fit(model, std::span<const shopml::train::example>(train), {}, fo);
  const double train_s = seconds_since(start);
  const double rss_train = peak_rss_mb();

  // Held-out accuracy: argmax of the eval-mode logits, 16 records per batch (logits() keeps
  // every layer's activations of its batch, as the training forward pass does).
  start = clock_type::now();
  const std::size_t k = d.classes.size();
  std::vector<std::int64_t> predicted;
  std::vector<float> first_logits;
  for (std::size_t first = 0; first < test.size(); first += 16) {
    std::vector<std::size_t> idx(std::min<std::size_t>(16, test.size() - first));
    std::iota(idx.begin(), idx.end(), first);
    const auto [batch, targets] = shopml::train::collate(test, idx, false);
    const auto logits = model.logits(batch, threads);
    for (std::size_t r = 0; r < idx.size(); ++r) {
      const float* row = logits.data() + r * k;
      predicted.push_back(static_cast<std::int64_t>(std::max_element(row, row + k) - row));
      if (first + r < logits_rows) first_logits.insert(first_logits.end(), row, row + k);
    }
  }
  const auto truth = take(d.y, test_idx);
  const double accuracy = shopml::metrics::accuracy_score<std::int64_t>(truth, predicted);
  const double macro_f1 = shopml::metrics::f1_score<std::int64_t>(truth, predicted, shopml::metrics::average::macro);
  const double eval_s = seconds_since(start);
  {
    std::vector<std::string> t, p;
    for (auto c : truth) t.push_back(d.classes[static_cast<std::size_t>(c)]);
    for (auto c : predicted) p.push_back(d.classes[static_cast<std::size_t>(c)]);
    std::fprintf(stderr, "[finetune_peer] held-out (%zu records, %.1f s):\n%s", truth.size(), eval_s,
                 shopml::metrics::classification_report(t, p, {}, 4).c_str());
  }
  const std::string save = o.get("save", "");
  if (!save.empty()) {
    model.save_pretrained(save);
    tok.save(fs::path(save) / "tokenizer.json");  // with the added tokens, if any
    std::fprintf(stderr, "[finetune_peer] saved the fine-tuned model and its tokenizer to %s\n", save.c_str());
  }
  const std::string logits_out = o.get("logits-out", "");
  if (!logits_out.empty()) {
    std::ofstream out(logits_out, std::ios::binary);
    out.write(reinterpret_cast<const char*>(first_logits.data()),
              static_cast<std::streamsize>(first_logits.size() * sizeof(float)));
    if (!out) throw shopml::io_error("cannot write '" + logits_out + "'");
  }
  const double first_loss = history.steps.empty() ? 0.0 : history.steps.front().loss;
  double last_loss = 0;
  const std::size_t tail = std::min<std::size_t>(25, history.steps.size());
  for (std::size_t i = history.steps.size() - tail; i < history.steps.size(); ++i)
    last_loss += history.steps[i].loss / static_cast<double>(tail);
  std::printf(
      "{\"engine\": \"shopml\", \"mode\": \"train\", \"threads\": %d, \"steps\": %zu, \"train_rows\": %zu, \"test_rows\": %zu, "
      "\"lr\": %g, \"train_s\": %.3f, \"s_per_step\": %.4f, \"first_loss\": %.5f, \"last_loss\": %.5f, \"accuracy\": %.6f, "
      "\"macro_f1\": %.6f, \"eval_s\": %.3f, \"unk_rate\": %.5f, \"peak_rss_mb_train\": %.1f, \"peak_rss_mb\": %.1f}\n",
      shopml::num_threads(threads), history.steps.size(), train.size(), test.size(), lr, train_s,
      train_s / static_cast<double>(std::max<std::size_t>(1, history.steps.size())), first_loss, last_loss, accuracy, macro_f1,
      eval_s, static_cast<double>(unk) / static_cast<double>(train_tokens), rss_train, peak_rss_mb());
  return 0;
}

int run_baseline(const args& o) {
  const int threads = std::stoi(o.get("threads", "0"));
  const auto d = load(o);
  const auto train_idx = read_indices(o.get("train")), test_idx = read_indices(o.get("test"));
  const auto encoder = shopml::nn::sentence_encoder<>::from_directory(model_dir(o));
  auto start = clock_type::now();
  const shopml::nn::encode_options eo{.batch_size = 32, .normalize = true, .threads = threads};
  using matrix = shopml::nn::embedding_matrix;
  // Embeddings of the records used (the training rows first, then the held-out ones).
  std::vector<std::size_t> used = train_idx;
  used.insert(used.end(), test_idx.begin(), test_idx.end());
  std::fprintf(stderr, "[finetune_peer] embedding %zu texts with the frozen encoder ...\n", used.size() * (d.pairs() ? 2 : 1));
  matrix X = encoder.encode(take(d.a, used), eo);
  if (d.pairs()) {  // [u, v, |u - v|]
    const matrix V = encoder.encode(take(d.b, used), eo);
    matrix P(X.rows(), 3 * X.cols());
    P << X, V, (X - V).cwiseAbs();
    X = std::move(P);
  }
  const double embed_s = seconds_since(start);
  const Eigen::Index n_train = static_cast<Eigen::Index>(train_idx.size());
  const matrix X_train = X.topRows(n_train), X_test = X.bottomRows(X.rows() - n_train);
  std::vector<std::string> labels;
  for (auto c : d.y) labels.push_back(d.classes[static_cast<std::size_t>(c)]);
  const auto y_train = take(labels, train_idx), y_test = take(labels, test_idx);
  start = clock_type::now();
  shopml::linear_model::logistic_regression<float, std::string> head(
      {.C = 1.0, .max_iter = 1000, .tol = 1e-5, .threads = threads});
  head.fit(X_train, std::span<const std::string>(y_train));
  const auto predicted = head.predict(X_test, threads);
  const double accuracy =
      shopml::metrics::accuracy_score(std::span<const std::string>(y_test), std::span<const std::string>(predicted));
  std::fprintf(
      stderr,
      "[finetune_peer] frozen embeddings + logistic regression: %.1f s to embed, %.1f s to fit (%d iterations), accuracy %.4f\n",
      embed_s, seconds_since(start), head.n_iter(), accuracy);
  std::printf(
      "{\"engine\": \"shopml\", \"mode\": \"baseline\", \"threads\": %d, \"train_rows\": %zu, \"test_rows\": %zu, "
      "\"embed_s\": %.3f, \"n_iter\": %d, \"accuracy\": %.6f, \"peak_rss_mb\": %.1f}\n",
      shopml::num_threads(threads), train_idx.size(), test_idx.size(), embed_s, head.n_iter(), accuracy, peak_rss_mb());
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  args o;
  if (argc < 2) {
    std::cerr << "usage: finetune_peer time|train|baseline --csv FILE --text COL [--text-b COL] --label COL --classes FILE "
                 "--rows N ...\n"
                 "(see the comment at the top of bench/train/finetune_peer.cpp)\n";
    return 2;
  }
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc)
      throw shopml::value_error("finetune_peer: expected --name value, got '" + a + "'");
    o.kv[a.substr(2)] = argv[++i];
  }
  if (o.mode == "time") return run_time(o);
  if (o.mode == "train") return run_train(o);
  if (o.mode == "baseline") return run_baseline(o);
  throw shopml::value_error("finetune_peer: unknown mode '" + o.mode + "' (time, train, baseline)");
} catch (const std::exception& e) {
  std::cerr << "finetune_peer: " << e.what() << "\n";
  return 1;
}
