// Fine-tuning all-MiniLM-L6-v2 on the shared Chinese shopping reviews
// (online_shopping_10_cats, SophonPlus/ChineseNlpCorpus): BertForSequenceClassification
// trained end to end with AdamW, warm-up and linear decay, on a stratified 80/20 split —
// binary sentiment by default, the 10 product categories with --task category. Prints the
// [UNK] rate of the texts, loss and held-out accuracy per epoch, a classification report,
// the frozen-embedding + logistic-regression baseline on the same split, writes the
// training curve as an SVG picture and the model with save_pretrained (loadable by
// transformers' AutoModelForSequenceClassification and AutoTokenizer).
//
// MiniLM's vocabulary holds few Chinese characters, so most of these reviews' tokens are
// [UNK]. --add-cjk applies HF's remedy: the single-character tokens of bert-base-chinese's
// vocabulary (shared data) that MiniLM lacks are added to the tokenizer (add_tokens) and
// the embedding matrix grows to match (resize_token_embeddings); the new rows learn
// during fine-tuning.
//
//   finetune_reviews [--task sentiment|category] [--rows N] [--epochs E] [--max-steps S]
//                    [--max-length L] [--batch B] [--lr LR] [--threads T] [--model DIR]
//                    [--svg PATH] [--out DIR] [--no-baseline] [--add-cjk]

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "shopml/io/csv.hpp"
#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/metrics/classification.hpp"
#include "shopml/metrics/classification_report.hpp"
#include "shopml/model_selection/train_test_split.hpp"
#include "shopml/nn/bert_for_classification.hpp"
#include "shopml/nn/sentence_encoder.hpp"
#include "shopml/tokenize/tokenizer.hpp"
#include "shopml/train/examples.hpp"
#include "shopml/train/trainer.hpp"
#include "svg_chart.hpp"

namespace {

namespace fs = std::filesystem;

struct options {
  std::string task = "sentiment";
  std::size_t rows = 0;  // 0: all
  std::size_t epochs = 2, max_steps = 0, max_length = 128, batch = 16;
  double lr = 5e-5;
  int threads = 0;
  fs::path model = SHOPML_MODEL_DIR;
  fs::path svg = "finetune_reviews.svg";
  fs::path out;
  bool baseline = true;
  bool add_cjk = false;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw shopml::value_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--task")
      o.task = next();
    else if (arg == "--rows")
      o.rows = std::stoul(next());
    else if (arg == "--epochs")
      o.epochs = std::stoul(next());
    else if (arg == "--max-steps")
      o.max_steps = std::stoul(next());
    else if (arg == "--max-length")
      o.max_length = std::stoul(next());
    else if (arg == "--batch")
      o.batch = std::stoul(next());
    else if (arg == "--lr")
      o.lr = std::stod(next());
    else if (arg == "--threads")
      o.threads = std::stoi(next());
    else if (arg == "--model")
      o.model = next();
    else if (arg == "--svg")
      o.svg = next();
    else if (arg == "--out")
      o.out = next();
    else if (arg == "--no-baseline")
      o.baseline = false;
    else if (arg == "--add-cjk")
      o.add_cjk = true;
    else
      throw shopml::value_error("unknown argument '" + arg + "' (see the comment at the top of finetune_reviews.cpp)");
  }
  if (o.task != "sentiment" && o.task != "category") throw shopml::value_error("--task is sentiment or category");
  return o;
}

// The share of [UNK] among the tokens of `texts`.
double unknown_rate(const shopml::tokenize::tokenizer& tok, const std::vector<std::string>& texts, int threads) {
  const auto unk = tok.token_to_id("[UNK]");
  std::size_t tokens = 0, unknown = 0;
  for (const auto& e : tok.encode_batch(texts, false, threads)) {
    tokens += e.ids.size();
    for (auto id : e.ids) unknown += unk && id == *unk;
  }
  return tokens ? static_cast<double>(unknown) / static_cast<double>(tokens) : 0.0;
}

// Single CJK characters of a WordPiece vocab.txt (one token a line).
std::vector<std::string> cjk_characters(const fs::path& vocab_txt) {
  std::ifstream in(vocab_txt, std::ios::binary);
  if (!in) throw shopml::io_error("cannot open '" + vocab_txt.string() + "'");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() != 3) continue;  // one code point of three UTF-8 bytes
    const auto b = reinterpret_cast<const unsigned char*>(line.data());
    const char32_t cp = ((b[0] & 0x0Fu) << 12) | ((b[1] & 0x3Fu) << 6) | (b[2] & 0x3Fu);
    if ((b[0] & 0xF0u) == 0xE0u && ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF))) out.push_back(line);
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

template <class T>
std::vector<T> take(const std::vector<T>& v, const std::vector<std::size_t>& index) {
  std::vector<T> out;
  for (auto i : index) out.push_back(v[i]);
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  const options o = parse(argc, argv);
  namespace ms = shopml::model_selection;

  // Reviews and labels: sentiment (label 0/1) or product category (cat).
  const auto csv = shopml::io::read_csv(fs::path(SHOPML_DATA_DIR) / "reviews-zh" / "online_shopping_10_cats.csv");
  std::vector<std::string> texts, labels;
  const std::size_t text_col = csv.column("review"), label_col = csv.column(o.task == "sentiment" ? "label" : "cat");
  for (const auto& row : csv.rows) {
    if (row[text_col].empty()) continue;
    texts.push_back(row[text_col]);
    labels.push_back(o.task == "sentiment" ? (row[label_col] == "1" ? "positive" : "negative") : row[label_col]);
  }
  if (o.rows > 0 && o.rows < texts.size()) {  // a stratified subset, for a time budget
    const auto keep = ms::train_test_split(labels, static_cast<double>(o.rows) / texts.size(), 7).test;
    texts = take(texts, keep);
    labels = take(labels, keep);
  }
  const auto split = ms::train_test_split(labels, 0.2, 42);
  const auto train_texts = take(texts, split.train), test_texts = take(texts, split.test);
  const auto train_labels = take(labels, split.train), test_labels = take(labels, split.test);
  std::vector<std::string> names(labels);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::cout << texts.size() << " reviews, " << names.size() << " labels (" << o.task << "), " << train_texts.size()
            << " to train on, " << test_texts.size() << " held out\n";

  auto tok = shopml::tokenize::tokenizer::from_file(o.model / "tokenizer.json").no_padding();
  const double unknown = unknown_rate(tok, train_texts, o.threads);
  std::printf("[UNK] rate of the training texts: %.1f %% of their tokens%s\n", 100 * unknown,
              unknown > 0.05 ? " (high: the vocabulary lacks most of these characters; try --add-cjk)" : "");
  std::size_t added = 0;
  if (o.add_cjk) {
    std::vector<std::string> missing;
    for (auto& c : cjk_characters(fs::path(SHOPML_DATA_DIR) / "vocab" / "bert-base-chinese-vocab.txt"))
      if (!tok.token_to_id(c)) missing.push_back(std::move(c));
    added = tok.add_tokens(missing);
    std::printf("added %zu CJK characters of bert-base-chinese's vocabulary: [UNK] rate now %.1f %%\n", added,
                100 * unknown_rate(tok, train_texts, o.threads));
  }

  double baseline_accuracy = -1;
  auto clock = std::chrono::steady_clock::now();
  if (o.baseline) {  // frozen embeddings + logistic regression on the same split
    const auto encoder = shopml::nn::sentence_encoder<>::from_directory(o.model);
    const auto X_train = encoder.encode(train_texts, {.batch_size = 32, .normalize = true, .threads = o.threads});
    const auto X_test = encoder.encode(test_texts, {.batch_size = 32, .normalize = true, .threads = o.threads});
    shopml::linear_model::logistic_regression<float, std::string> head({.C = 1.0});
    head.fit(X_train, train_labels);
    baseline_accuracy = shopml::metrics::accuracy_score<std::string>(test_labels, head.predict(X_test));
    std::printf("frozen MiniLM embeddings + logistic regression: held-out accuracy %.4f (%.0f s)\n", baseline_accuracy,
                seconds_since(clock));
  }

  auto model = shopml::nn::bert_for_sequence_classification<>::from_pretrained(o.model, {.labels = names});
  if (added > 0) model.resize_token_embeddings(tok.vocab_size(), 1);
  const auto train =
      shopml::train::encode_texts(tok, train_texts, shopml::train::label_ids(train_labels, names), o.max_length, o.threads);
  const auto test =
      shopml::train::encode_texts(tok, test_texts, shopml::train::label_ids(test_labels, names), o.max_length, o.threads);
  example::series loss{"training loss", "#1f77b4", {}}, accuracy{"held-out accuracy", "#d62728", {}, true};
  shopml::train::fit_options fit;
  fit.epochs = o.epochs;
  fit.batch_size = o.batch;
  fit.lr = o.lr;
  fit.warmup_ratio = 0.1;
  fit.max_steps = o.max_steps;
  fit.threads = o.threads;
  fit.on_step = [&](const shopml::train::step_log& s) { loss.points.emplace_back(s.step, s.loss); };
  std::size_t steps_so_far = 0;
  fit.on_epoch = [&](const shopml::train::epoch_log& e) {
    steps_so_far = loss.points.empty() ? 0 : static_cast<std::size_t>(loss.points.back().first);
    accuracy.points.emplace_back(static_cast<double>(steps_so_far), e.eval->accuracy);
    std::printf("epoch %zu: train loss %.4f, held-out loss %.4f, accuracy %.4f, macro-F1 %.4f (%.0f s)\n", e.epoch + 1,
                e.train_loss, e.eval->loss, e.eval->accuracy, e.eval->macro_f1, e.seconds);
  };
  clock = std::chrono::steady_clock::now();
  shopml::train::fit(model, train, test, fit);
  const double fit_seconds = seconds_since(clock);

  // The report on the held-out part.
  std::vector<std::string> predicted;
  for (std::size_t first = 0; first < test.size(); first += 32) {
    std::vector<std::size_t> idx;
    for (std::size_t i = first; i < std::min(test.size(), first + 32); ++i) idx.push_back(i);
    const auto [batch, targets] = shopml::train::collate(test, idx, false);
    const auto labels_of = model.predict(batch, o.threads);
    predicted.insert(predicted.end(), labels_of.begin(), labels_of.end());
  }
  std::cout << shopml::metrics::classification_report<std::string>(test_labels, predicted);
  const double acc = shopml::metrics::accuracy_score<std::string>(test_labels, predicted);
  std::printf("fine-tuned accuracy %.4f (%zu steps in %.0f s)", acc, loss.points.size(), fit_seconds);
  if (baseline_accuracy >= 0) std::printf(" vs frozen embeddings + logistic regression %.4f", baseline_accuracy);
  std::printf("\n");

  example::series smooth{"training loss, mean of 20 steps", "#1f77b4", {}, false, false, 2.4};
  for (std::size_t i = 0; i < loss.points.size(); ++i) {
    const std::size_t from = i >= 19 ? i - 19 : 0;
    double sum = 0;
    for (std::size_t j = from; j <= i; ++j) sum += loss.points[j].second;
    smooth.points.emplace_back(loss.points[i].first, sum / static_cast<double>(i - from + 1));
  }
  loss.colour = "#aec7e8";
  loss.width = 1.0;
  std::vector<example::series> lines{loss, smooth, accuracy};
  if (baseline_accuracy >= 0 && !loss.points.empty())
    lines.push_back({"frozen embeddings + logistic regression",
                     "#7f7f7f",
                     {{loss.points.front().first, baseline_accuracy}, {loss.points.back().first, baseline_accuracy}},
                     false,
                     true});
  example::write_svg_chart(
      o.svg, "all-MiniLM-L6-v2 fine-tuned on Chinese reviews (" + o.task + (o.add_cjk ? ", + CJK vocabulary" : "") + ")",
      "optimiser step", "loss / held-out accuracy", lines);
  std::cout << "training curve: " << fs::absolute(o.svg).string() << "\n";
  if (!o.out.empty()) {
    model.save_pretrained(o.out);
    tok.save(o.out / "tokenizer.json");  // with the added tokens, if any
    std::cout << "model and tokenizer saved to " << o.out.string() << " (transformers can load them)\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "finetune_reviews: " << e.what() << "\n";
  return 1;
}
