// The fine-tuning machinery around the parity-checked model: the learning-rate schedule,
// word-label alignment, batching, bitwise reproducibility, checkpoints that resume
// bitwise, save_pretrained/from_pretrained round trips, vocabulary resizing, and bad
// input refused with a clear error that changes nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "golden_files.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/log.hpp"
#include "shopml/nn/bert_for_classification.hpp"
#include "shopml/nn/sentence_embedder.hpp"
#include "shopml/nn/sentence_transformers_config.hpp"
#include "shopml/optim/lr_schedule.hpp"
#include "shopml/tokenize/tokenizer.hpp"
#include "shopml/train/examples.hpp"
#include "shopml/train/trainer.hpp"

namespace {

namespace fs = std::filesystem;
using namespace shopml;
using seq_model = nn::bert_for_sequence_classification<>;

const fs::path model_dir = SHOPML_MODEL_DIR;

// The MiniLM tokenizer without its padding to 128 (tokenizer.json pads).
tokenize::tokenizer minilm_tokenizer() { return tokenize::tokenizer::from_file(model_dir / "tokenizer.json").no_padding(); }

// A few real review sentences (reviews-en, Kotzias et al. 2015) with their labels.
const std::vector<std::string> texts{
    "So there is no way for me to plug it in here in the US unless I go by a converter.",
    "Good case, Excellent value.",
    "Great for the jawbone.",
    "Tied to charger for conversations lasting more than 45 minutes.MAJOR PROBLEMS!!",
    "The mic is great.",
    "I have to jiggle the plug to get it to line up right to get decent volume.",
    "If you have several dozen or several hundred contacts, then imagine the fun of sending each of them one by one.",
    "If you are Razr owner...you must have this!",
    "Needless to say, I wasted my money.",
    "What a waste of money and time!.",
    "And the sound quality is great.",
    "He was very impressed when going from the original battery to the extended battery."};
const std::vector<std::int64_t> labels{0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1};

fs::path temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("shopml_test_train_" + name);
  fs::remove_all(dir);
  return dir;
}

std::vector<float> values_of(const seq_model& m) {
  return {m.parameters().values(), m.parameters().values() + m.parameters().size()};
}

train::fit_options small_run() {
  train::fit_options o;
  o.epochs = 2;
  o.batch_size = 4;
  o.lr = 5e-5;
  o.warmup_ratio = 0.2;
  o.threads = 2;
  o.progress = false;
  return o;
}

}  // namespace

TEST_CASE("linear schedule with warm-up: LambdaLR semantics, the first step at lr 0") {
  const optim::linear_schedule_with_warmup s{2, 10};
  const std::vector<double> want{0.0, 0.5, 1.0, 7.0 / 8, 6.0 / 8, 5.0 / 8, 4.0 / 8, 3.0 / 8, 2.0 / 8, 1.0 / 8};
  for (std::size_t t = 1; t <= 10; ++t) CHECK(s.lr(1.0, t) == doctest::Approx(want[t - 1]).epsilon(1e-15));
  const optim::linear_schedule_with_warmup none{0, 4};
  CHECK(none.lr(2.0, 1) == 2.0);
  CHECK(none.lr(2.0, 4) == 0.5);
}

TEST_CASE("word labels align to the first token of each word, -100 elsewhere") {
  const auto tok = minilm_tokenizer();
  const std::vector<std::string> words{"Unbelievable", "T-shirt", "42", "ok"};
  const std::vector<std::int64_t> word_labels{0, 1, 2, 0};
  const auto ex = train::encode_words(tok, words, word_labels, 128);
  const auto enc = tok.encode("Unbelievable T-shirt 42 ok");
  REQUIRE(ex.ids.size() == enc.ids.size());
  std::vector<std::int64_t> labelled;
  for (std::size_t t = 0; t < enc.ids.size(); ++t) {
    if (!enc.word_ids[t]) {
      CHECK(ex.classes[t] == -100);
      continue;
    }
    if (ex.classes[t] != -100) labelled.push_back(ex.classes[t]);
  }
  // "T-shirt" is three pre-tokenizer words to BERT but one word here: one label.
  CHECK(labelled == word_labels);
  CHECK(ex.classes.front() == -100);
  CHECK(ex.classes.back() == -100);
}

TEST_CASE("batches: every example once per epoch, seeded, similar lengths together") {
  const auto tok = minilm_tokenizer();
  const auto ex = train::encode_texts(tok, texts, labels, 128);
  const auto a = train::make_batches(ex, 5, 7, 0), b = train::make_batches(ex, 5, 7, 0), c = train::make_batches(ex, 5, 7, 1);
  CHECK(a == b);
  CHECK(a != c);
  std::multiset<std::size_t> seen;
  for (const auto& batch : a) seen.insert(batch.begin(), batch.end());
  CHECK(seen.size() == ex.size());
  CHECK(std::set<std::size_t>(seen.begin(), seen.end()).size() == ex.size());
}

TEST_CASE("fine-tuning with dropout is bitwise reproducible, and training lowers the loss") {
  const auto tok = minilm_tokenizer();
  const auto ex = train::encode_texts(tok, texts, labels, 64);
  auto m1 = seq_model::from_pretrained(model_dir, {.labels = {"negative", "positive"}, .seed = 3});
  auto m2 = seq_model::from_pretrained(model_dir, {.labels = {"negative", "positive"}, .seed = 3});
  auto o = small_run();
  o.epochs = 4;
  o.lr = 1e-4;
  std::size_t steps_seen = 0;
  o.on_step = [&](const train::step_log& s) {
    ++steps_seen;
    CHECK(s.total_steps == 12);
    CHECK(std::isfinite(s.loss));
  };
  const auto h1 = train::fit(m1, ex, ex, o);
  o.on_step = {};
  const auto h2 = train::fit(m2, ex, ex, o);
  CHECK(steps_seen == 12);
  REQUIRE(h1.epochs.size() == 4);
  CHECK(values_of(m1) == values_of(m2));
  CHECK(h1.epochs.back().eval->loss < h1.epochs.front().eval->loss);
  CHECK(h1.steps.front().lr == 0.0);  // warm-up starts at 0, as PyTorch's LambdaLR
}

TEST_CASE("a checkpoint resumes bitwise, other options are refused and change nothing") {
  const auto tok = minilm_tokenizer();
  const auto ex = train::encode_texts(tok, texts, labels, 64);
  auto straight = seq_model::from_pretrained(model_dir, {.num_labels = 2});
  train::fit(straight, ex, {}, small_run());

  const auto dir = temp_dir("checkpoint");
  auto o = small_run();
  o.checkpoint_dir = dir;
  auto first = seq_model::from_pretrained(model_dir, {.num_labels = 2});
  struct interrupted {};
  o.on_epoch = [](const train::epoch_log&) { throw interrupted{}; };
  CHECK_THROWS_AS(train::fit(first, ex, {}, o), interrupted);
  REQUIRE(fs::exists(dir / "checkpoint.safetensors"));

  auto resumed = seq_model::from_pretrained(model_dir, {.num_labels = 2});
  auto other = o;
  other.on_epoch = {};
  other.lr = 1e-3;
  const auto before = values_of(resumed);
  CHECK_THROWS_AS(train::fit(resumed, ex, {}, other), value_error);
  CHECK(values_of(resumed) == before);

  o.on_epoch = {};
  train::fit(resumed, ex, {}, o);
  CHECK(values_of(resumed) == values_of(straight));
  fs::remove_all(dir);
}

TEST_CASE("save_pretrained / from_pretrained: same logits, HF names and config, atomic files") {
  const auto tok = minilm_tokenizer();
  auto model = seq_model::from_pretrained(model_dir, {.labels = {"bad", "ok", "good"}, .seed = 9});
  nn::token_batch batch;
  for (const auto& t : {texts[0], texts[1]}) batch.add(tok.encode(t).ids);
  const auto dir = temp_dir("saved");
  model.save_pretrained(dir);
  CHECK(fs::exists(dir / "model.safetensors"));
  CHECK(!fs::exists(dir / "model.safetensors.partial"));
  const auto config = io::read_json(dir / "config.json");
  CHECK(config["architectures"][0] == "BertForSequenceClassification");
  CHECK(config["id2label"]["2"] == "good");
  CHECK(config["label2id"]["bad"] == 0);
  CHECK(config["problem_type"] == "single_label_classification");
  const auto file = io::safetensors_file::open(dir / "model.safetensors");
  CHECK(file.metadata().at("format") == "pt");
  CHECK(file.contains("bert.encoder.layer.5.output.LayerNorm.weight"));
  CHECK(file.contains("bert.pooler.dense.weight"));
  CHECK(file.contains("classifier.weight"));

  const auto reloaded = seq_model::from_pretrained(dir);
  CHECK(reloaded.labels() == model.labels());
  CHECK(reloaded.logits(batch) == model.logits(batch));
  const auto p = model.predict_proba(batch), z = model.logits(batch);
  const auto labels_of = model.predict(batch);
  REQUIRE(labels_of.size() == 2);
  for (std::size_t r = 0; r < 2; ++r) {
    const auto best = std::max_element(z.begin() + 3 * r, z.begin() + 3 * r + 3) - (z.begin() + 3 * r);
    CHECK(labels_of[r] == model.labels()[static_cast<std::size_t>(best)]);
    CHECK(p[3 * r] + p[3 * r + 1] + p[3 * r + 2] == doctest::Approx(1.0));
  }
  // A checkpoint of another shape is refused, naming the tensor.
  CHECK_THROWS_WITH_AS(seq_model::from_pretrained(dir, {.num_labels = 5}), doctest::Contains("classifier.weight"), shape_error);
  fs::remove_all(dir);
}

// Checkpoints fine-tuned and saved by transformers (scripts/golden/finetune.py: a tiny
// BERT, 3 AdamW steps): shopml loads them and gives the same logits.
template <class Model>
void check_transformers_checkpoint(const std::string& name, bool per_token, const std::vector<std::string>& labels) {
  const fs::path dir = shopml::test::golden::path("finetune") / name;
  const auto expected = io::read_json(dir / "expected.json");
  const auto model = Model::from_pretrained(dir);
  CHECK(model.labels() == labels);
  nn::token_batch batch;
  std::vector<float> want;
  for (std::size_t r = 0; r < expected["input_ids"].size(); ++r) {
    std::vector<std::int64_t> ids, types;
    for (std::size_t t = 0; t < expected["input_ids"][r].size(); ++t) {
      if (expected["attention_mask"][r][t] == 0) continue;
      ids.push_back(expected["input_ids"][r][t]);
      types.push_back(expected["token_type_ids"][r][t]);
    }
    batch.add(ids, types);
    const auto& rows = expected["logits"][r];
    if (per_token)
      for (std::size_t t = 0; t < ids.size(); ++t)
        for (const auto& v : rows[t]) want.push_back(v.get<float>());
    else
      for (const auto& v : rows) want.push_back(v.get<float>());
  }
  const auto got = model.logits(batch, 2);
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::abs(got[i] - want[i])));
  CHECK(worst <= 1e-5);
}

TEST_CASE("a checkpoint fine-tuned by transformers loads and predicts the same") {
  check_transformers_checkpoint<nn::bert_for_sequence_classification<>>("tiny_seqcls", false,
                                                                        {"negative", "neutral", "positive"});
  check_transformers_checkpoint<nn::bert_for_token_classification<>>("tiny_tokcls", true, {"WORD", "NUM", "OTHER"});
}

// A classifier of mean-pooled tokens saved by sentence-transformers (scripts/golden/finetune.py:
// Transformer, Pooling(mean), Dense(identity), 3 AdamW steps, SentenceTransformer.save with the
// new file formats of sentence-transformers 6): shopml loads it as such, predicts the same, and
// saves it back in the form sentence-transformers reads (legacy module names and pooling flags,
// which every version reads), bit for bit the same model.
TEST_CASE("a sentence-transformers classifier (mean pooling, Dense head) loads, predicts and saves back") {
  const fs::path dir = shopml::test::golden::path("finetune") / "tiny_meancls";
  check_transformers_checkpoint<seq_model>("tiny_meancls", false, {"negative", "neutral", "positive"});
  const auto model = seq_model::from_pretrained(dir);
  CHECK(model.pooling() == nn::sequence_pooling::mean);
  CHECK(!model.parameters().contains("bert.pooler.dense.weight"));

  const auto saved = temp_dir("saved_mean");
  model.save_pretrained(saved);
  const auto theirs = nn::sentence_transformers_config::from_directory(dir);
  const auto ours = nn::sentence_transformers_config::from_directory(saved);
  CHECK(ours.pooling.mean_tokens);
  CHECK(ours.pooling.modes() == 1);
  CHECK(theirs.pooling.mean_tokens);
  CHECK(theirs.pooling.modes() == 1);
  REQUIRE(ours.dense.has_value());
  CHECK(ours.dense->in_features == theirs.dense->in_features);
  CHECK(ours.dense->out_features == theirs.dense->out_features);
  CHECK(ours.dense->activation_function == theirs.dense->activation_function);
  CHECK(!ours.normalize);
  // The tensors sentence-transformers wrote, names, shapes and values, in both files; less only
  // BertModel's pooler, which sentence-transformers keeps but never runs.
  for (const auto* file : {"model.safetensors", "2_Dense/model.safetensors"}) {
    CAPTURE(file);
    const auto a = io::safetensors_file::open(saved / file), b = io::safetensors_file::open(dir / file);
    for (const auto& name : b.keys()) CHECK((a.contains(name) || name.rfind("pooler.", 0) == 0));
    for (const auto& name : a.keys()) {
      CAPTURE(name);
      REQUIRE(b.contains(name));
      CHECK(a.info(name).shape == b.info(name).shape);
      const auto x = a.as_f32(name), y = b.as_f32(name);
      CHECK(std::equal(x.values().begin(), x.values().end(), y.values().begin(), y.values().end()));
    }
  }
  CHECK(io::read_json(saved / "config.json")["architectures"][0] == "BertModel");
  CHECK(io::read_json(saved / "config.json")["id2label"]["2"] == "positive");
  const auto reloaded = seq_model::from_pretrained(saved);
  CHECK(reloaded.pooling() == nn::sequence_pooling::mean);
  nn::token_batch batch;
  batch.add(std::vector<std::int64_t>{4, 17, 33, 5});
  batch.add(std::vector<std::int64_t>{4, 60, 5, 9, 5}, std::vector<std::int64_t>{0, 0, 0, 1, 1});
  CHECK(reloaded.logits(batch) == model.logits(batch));

  // It is not a sentence encoder, and not a model with HF's pooler.
  CHECK_THROWS_WITH_AS(seq_model::from_pretrained(saved, {.pooling = nn::sequence_pooling::pooler}),
                       doctest::Contains("pooler was asked for"), value_error);
  CHECK_THROWS_WITH_AS(nn::sentence_embedder<>::from_directory(saved), doctest::Contains("Dense module"), value_error);
  // Saving a pooler model over it would leave modules.json shadowing it: refused, nothing changed.
  const auto before = io::read_json(saved / "config.json");
  auto pooler_model = seq_model::from_pretrained(shopml::test::golden::path("finetune") / "tiny_seqcls");
  CHECK_THROWS_WITH_AS(pooler_model.save_pretrained(saved), doctest::Contains("Dense module"), value_error);
  CHECK(io::read_json(saved / "config.json") == before);
  // Pooling is for sequence classification.
  CHECK_THROWS_WITH_AS(
      nn::bert_for_token_classification<>::from_pretrained(model_dir, {.num_labels = 2, .pooling = nn::sequence_pooling::mean}),
      doctest::Contains("sequence classification only"), value_error);
  fs::remove_all(saved);
}

TEST_CASE("sentence-transformers pooling configurations, old and new format") {
  const auto dir = temp_dir("pooling_config");
  fs::create_directories(dir);
  const auto parse = [&](const nlohmann::json& j) {
    io::write_json(dir / "config.json", j);
    return nn::pooling_config::from_file(dir / "config.json");
  };
  const auto both = parse({{"embedding_dimension", 8}, {"pooling_mode", {"cls", "mean"}}});
  CHECK(both.cls_token);
  CHECK(both.mean_tokens);
  CHECK(both.modes() == 2);
  CHECK(parse({{"pooling_mode", "max"}}).max_tokens);
  CHECK(parse({{"pooling_mode_mean_sqrt_len_tokens", true}}).mean_sqrt_len_tokens);
  CHECK_THROWS_WITH_AS(parse({{"pooling_mode", {"mean", "cls"}}}), doctest::Contains("another order"), value_error);
  CHECK_THROWS_WITH_AS(parse({{"pooling_mode", "lasttoken"}}), doctest::Contains("'lasttoken' is not supported"), value_error);
  CHECK_THROWS_WITH_AS(parse({{"pooling_mode", nlohmann::json::array()}}), doctest::Contains("no pooling mode"), value_error);
  fs::remove_all(dir);
}

TEST_CASE("resize_token_embeddings: new rows at the mean of the old ones, saved with the new vocab_size") {
  auto model = seq_model::from_pretrained(model_dir, {.num_labels = 2});
  const std::size_t h = model.config().hidden_size, old = model.config().vocab_size;
  const auto& p = model.parameters();
  std::vector<double> mean(h, 0.0);
  const float* word = p.value("bert.embeddings.word_embeddings.weight");
  for (std::size_t r = 0; r < old; ++r)
    for (std::size_t j = 0; j < h; ++j) mean[j] += word[r * h + j] / double(old);
  const std::vector<float> first_row(word, word + h);
  model.resize_token_embeddings(old + 3, 1);
  CHECK(model.config().vocab_size == old + 3);
  const float* resized = model.parameters().value("bert.embeddings.word_embeddings.weight");
  CHECK(std::equal(first_row.begin(), first_row.end(), resized));
  double worst = 0;
  for (std::size_t r = old; r < old + 3; ++r)
    for (std::size_t j = 0; j < h; ++j) worst = std::max(worst, std::abs(resized[r * h + j] - mean[j]));
  CHECK(worst < 1e-3);  // 1e-9 × covariance: draws within a hair of the mean
  nn::token_batch batch;
  batch.add(std::vector<std::int64_t>{101, static_cast<std::int64_t>(old + 2), 102});
  CHECK(model.logits(batch).size() == 2);
  CHECK(model.hf_config()["vocab_size"] == old + 3);
}

TEST_CASE("a warning through the log callback when most tokens are [UNK]") {
  const auto tok = minilm_tokenizer();
  std::vector<std::string> messages;
  set_log_callback([&](const std::string& m) { messages.push_back(m); });
  train::encode_texts(tok, texts, labels, 64);
  CHECK(messages.empty());  // English: no [UNK]
  const std::vector<std::string> chinese{"做父母一定要有刘墉这样的心态，不断地学习，不断地进步", "房间很干净，服务也很好"};
  CHECK(train::unknown_rate(tok, train::encode_texts(tok, chinese, std::vector<std::int64_t>{1, 1}, 64)) > 0.3);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].find("[UNK]") != std::string::npos);
  CHECK(messages[0].find("add_tokens") != std::string::npos);
  set_log_callback({});
}

TEST_CASE("bad input: a clear error, nothing changed") {
  const auto tok = minilm_tokenizer();
  CHECK_THROWS_WITH_AS(seq_model::from_pretrained(model_dir, {.num_labels = 0}), doctest::Contains("num_labels"), value_error);
  auto model = seq_model::from_pretrained(model_dir, {.num_labels = 2});
  const auto before = values_of(model);
  const std::vector<std::string> names{"negative", "positive"};
  const std::vector<std::string> bad{"negative", "neutral"};
  CHECK_THROWS_WITH_AS(train::label_ids(bad, names), doctest::Contains("row 1: label 'neutral'"), value_error);
  CHECK_THROWS_WITH_AS(train::encode_texts(tok, texts, std::vector<std::int64_t>{0, 1}, 128),
                       doctest::Contains("12 texts but 2 labels"), value_error);
  CHECK_THROWS_AS(train::encode_texts(tok, std::vector<std::string>{}, std::vector<std::int64_t>{}, 128), value_error);
  CHECK_THROWS_AS(train::fit(model, std::vector<train::example>{}, {}, small_run()), value_error);
  auto ex = train::encode_texts(tok, texts, labels, 64);
  ex[3].classes = {7};
  CHECK_THROWS_WITH_AS(train::fit(model, ex, {}, small_run()), doctest::Contains("label 7"), value_error);
  CHECK(values_of(model) == before);

  // A non-finite loss stops training before the update, naming the step and batch.
  model.parameters().value("classifier.bias")[0] = std::numeric_limits<float>::quiet_NaN();
  ex[3].classes = {1};
  CHECK_THROWS_WITH_AS(train::fit(model, ex, {}, small_run()), doctest::Contains("at step 1 (epoch 1, batch 0)"), value_error);
  // A safetensors file that is not a BERT checkpoint.
  const auto dir = temp_dir("not_bert");
  fs::create_directories(dir);
  fs::copy_file(model_dir / "config.json", dir / "config.json");
  const std::vector<float> x{1.0f, 2.0f};
  io::save_safetensors(dir / "model.safetensors", {io::tensor_view("x", {2}, x)});
  CHECK_THROWS_WITH_AS(seq_model::from_pretrained(dir), doctest::Contains("not a BERT checkpoint"), parse_error);
  fs::remove_all(dir);
}
