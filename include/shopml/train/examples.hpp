#pragma once
// Training examples: texts (or text pairs, or words) tokenised once, with their targets,
// and the seeded, length-bucketed batches a trainer draws from them.
//
//   auto train = train::encode_texts(tok, texts, labels, label_ids, 128);
//   auto batches = train::make_batches(train, 16, seed, epoch);

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/log.hpp"
#include "shopml/nn/bert_for_classification.hpp"
#include "shopml/nn/token_batch.hpp"
#include "shopml/texts.hpp"
#include "shopml/tokenize/tokenizer.hpp"

namespace shopml::train {

struct example {
  std::vector<std::int64_t> ids, type_ids;
  std::vector<std::int64_t> classes;  // one (sequence) or one per token (-100: none)
  float value = 0.0f;                 // regression target
};

// Label name → class id, for the label set of a model (value_error names the row of a
// label outside it).
inline std::vector<std::int64_t> label_ids(std::span<const std::string> labels, std::span<const std::string> names) {
  std::unordered_map<std::string_view, std::int64_t> id;
  for (std::size_t i = 0; i < names.size(); ++i) id.emplace(names[i], static_cast<std::int64_t>(i));
  std::vector<std::int64_t> out;
  out.reserve(labels.size());
  for (std::size_t r = 0; r < labels.size(); ++r) {
    const auto it = id.find(labels[r]);
    if (it == id.end())
      throw value_error("row " + std::to_string(r) + ": label '" + labels[r] + "' is not one of the model's " +
                        std::to_string(names.size()) + " labels");
    out.push_back(it->second);
  }
  return out;
}

// The share of `unk` ("[UNK]") among the tokens of `examples`, special tokens included
// (0 when the tokenizer has no such token).
inline double unknown_rate(const tokenize::tokenizer& tok, std::span<const example> examples, std::string_view unk = "[UNK]") {
  const auto id = tok.token_to_id(unk);
  std::size_t tokens = 0, unknown = 0;
  for (const auto& ex : examples) {
    tokens += ex.ids.size();
    if (id) unknown += static_cast<std::size_t>(std::count(ex.ids.begin(), ex.ids.end(), static_cast<std::int64_t>(*id)));
  }
  return tokens ? static_cast<double>(unknown) / static_cast<double>(tokens) : 0.0;
}

namespace detail {
// Warns (shopml/log.hpp) when more than 5 % of the tokens are [UNK]: the model then sees
// little of the text, and adding the missing tokens (add_tokens + resize_token_embeddings)
// usually pays.
inline void warn_if_unknown(const tokenize::tokenizer& tok, std::span<const example> examples) {
  const double rate = unknown_rate(tok, examples);
  if (rate <= 0.05) return;
  char text[256];
  std::snprintf(text, sizeof text,
                "%.1f %% of the tokens of these %zu texts are [UNK]: the vocabulary lacks their characters "
                "(tokenizer::add_tokens + resize_token_embeddings add them)",
                100 * rate, examples.size());
  log_warning(text);
}

inline tokenize::tokenizer truncating(const tokenize::tokenizer& tok, std::size_t max_length) {
  if (max_length < 3) throw value_error("max_length " + std::to_string(max_length) + " leaves no room for a text");
  tokenize::tokenizer t = tok;
  t.enable_truncation(max_length);
  t.no_padding();
  return t;
}
inline void take_ids(const tokenize::encoding& e, example& ex) {
  ex.ids.assign(e.ids.begin(), e.ids.end());
  ex.type_ids.assign(e.type_ids.begin(), e.type_ids.end());
}
// Examples from encodings with class ids, or regression targets when `classes` is empty.
inline std::vector<example> examples_of(const tokenize::tokenizer& tok, const std::vector<tokenize::encoding>& encodings,
                                        std::span<const std::int64_t> classes, std::span<const float> values) {
  std::vector<example> out(encodings.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    take_ids(encodings[i], out[i]);
    if (classes.empty())
      out[i].value = values[i];
    else
      out[i].classes = {classes[i]};
  }
  warn_if_unknown(tok, out);
  return out;
}
inline void check_rows(std::size_t texts, std::size_t targets, const char* what) {
  if (texts == 0) throw value_error("no texts to train or evaluate on");
  if (texts != targets) throw value_error(std::to_string(texts) + " texts but " + std::to_string(targets) + " " + what);
}
inline void check_pairs(texts_view first, texts_view second) {
  if (first.size() != second.size())
    throw value_error(std::to_string(first.size()) + " first texts but " + std::to_string(second.size()) + " second texts");
}
// The encodings of texts, or of text pairs when `second` is not empty (truncated
// longest-first, as HF), cut to max_length tokens.
inline std::vector<tokenize::encoding> encode_truncated(const tokenize::tokenizer& tok, texts_view first, texts_view second,
                                                        std::size_t max_length, int threads) {
  const auto t = truncating(tok, max_length);
  if (second.empty()) return t.encode_batch(first, true, threads);
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(first.size());
  for (std::size_t i = 0; i < first.size(); ++i) pairs.emplace_back(first[i], second[i]);
  return t.encode_batch(std::span<const std::pair<std::string, std::string>>(pairs), true, threads);
}
}  // namespace detail

// Single texts with class ids (sequence classification), truncated to max_length tokens.
inline std::vector<example> encode_texts(const tokenize::tokenizer& tok, texts_view texts, std::span<const std::int64_t> classes,
                                         std::size_t max_length, int threads = 0) {
  detail::check_rows(texts.size(), classes.size(), "labels");
  return detail::examples_of(tok, detail::truncating(tok, max_length).encode_batch(texts, true, threads), classes, {});
}

// Text pairs (text_a, text_b) with class ids, or with regression targets when `values` is
// given instead (classes empty); truncated longest-first to max_length, as HF.
inline std::vector<example> encode_pairs(const tokenize::tokenizer& tok, texts_view first, texts_view second,
                                         std::span<const std::int64_t> classes, std::span<const float> values,
                                         std::size_t max_length, int threads = 0) {
  detail::check_pairs(first, second);
  detail::check_rows(first.size(), classes.empty() ? values.size() : classes.size(), classes.empty() ? "targets" : "labels");
  return detail::examples_of(tok, detail::encode_truncated(tok, first, second, max_length, threads), classes, values);
}

// Single texts with regression targets.
inline std::vector<example> encode_texts(const tokenize::tokenizer& tok, texts_view texts, std::span<const float> values,
                                         std::size_t max_length, int threads = 0) {
  detail::check_rows(texts.size(), values.size(), "targets");
  return detail::examples_of(tok, detail::truncating(tok, max_length).encode_batch(texts, true, threads), {}, values);
}

// The model inputs of texts, or of text pairs when `second` is not empty, truncated to
// max_length exactly as the training examples are: one packed batch, for predict,
// predict_proba or logits.
inline nn::token_batch encode_inputs(const tokenize::tokenizer& tok, texts_view first, texts_view second, std::size_t max_length,
                                     int threads = 0) {
  if (!second.empty()) detail::check_pairs(first, second);
  nn::token_batch batch;
  for (const auto& e : detail::encode_truncated(tok, first, second, max_length, threads)) batch.add(e.ids, e.type_ids);
  return batch;
}

// Token labels from word labels, as HF's token-classification recipe aligns them: the
// words are joined with spaces and tokenised; the first token of each word takes the
// word's label, its other tokens and the special tokens -100. A word the tokenizer drops
// entirely (e.g. only control characters) simply has no token.
inline example encode_words(const tokenize::tokenizer& tok, std::span<const std::string> words,
                            std::span<const std::int64_t> word_classes, std::size_t max_length) {
  if (words.size() != word_classes.size())
    throw value_error(std::to_string(words.size()) + " words but " + std::to_string(word_classes.size()) + " labels");
  std::string text;
  std::vector<std::size_t> starts;  // byte where each word begins in `text`
  for (const auto& w : words) {
    if (!text.empty()) text += ' ';
    starts.push_back(text.size());
    text += w;
  }
  const auto e = detail::truncating(tok, max_length).encode(text);
  example ex;
  detail::take_ids(e, ex);
  ex.classes.assign(e.ids.size(), -100);
  std::size_t labelled_word = words.size();  // the word whose first token was seen last
  for (std::size_t t = 0; t < e.ids.size(); ++t) {
    if (e.special_tokens_mask[t]) continue;
    const std::size_t byte = e.offsets[t].first;
    const std::size_t word = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), byte) - starts.begin()) - 1;
    if (word != labelled_word) ex.classes[t] = word_classes[word];
    labelled_word = word;
  }
  return ex;
}

// The batch of `examples` at `indices`, packed, with its targets.
inline std::pair<nn::token_batch, nn::batch_targets> collate(std::span<const example> examples,
                                                             std::span<const std::size_t> indices, bool regression) {
  nn::token_batch batch;
  nn::batch_targets targets;
  for (std::size_t i : indices) {
    const auto& ex = examples[i];
    batch.add(ex.ids, ex.type_ids);
    if (regression)
      targets.values.push_back(ex.value);
    else
      targets.classes.insert(targets.classes.end(), ex.classes.begin(), ex.classes.end());
  }
  return {std::move(batch), std::move(targets)};
}

// The batches of one epoch, as index lists: the examples shuffled with (seed, epoch), then
// in windows of 50 batches sorted by length and cut into batches (so a batch holds texts
// of similar length and packing wastes little), and the batches shuffled again. The same
// seed and epoch give the same batches.
inline std::vector<std::vector<std::size_t>> make_batches(std::span<const example> examples, std::size_t batch_size,
                                                          std::uint64_t seed, std::uint64_t epoch) {
  if (batch_size == 0) throw value_error("batch_size must be at least 1");
  std::vector<std::size_t> order(examples.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(nn::dropout_key(seed, epoch, 0xBA7C4));
  const auto shuffle = [&](auto& v) {  // Fisher–Yates with our own draws: identical on every platform
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<std::size_t>(rng() % i)]);
  };
  shuffle(order);
  const std::size_t window = 50 * batch_size;
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t w = 0; w < order.size(); w += window) {
    const auto begin = order.begin() + static_cast<std::ptrdiff_t>(w);
    const auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), w + window));
    std::stable_sort(begin, end, [&](std::size_t a, std::size_t b) { return examples[a].ids.size() < examples[b].ids.size(); });
    for (auto it = begin; it < end; it += static_cast<std::ptrdiff_t>(std::min<std::size_t>(batch_size, end - it)))
      batches.emplace_back(it, it + static_cast<std::ptrdiff_t>(std::min<std::size_t>(batch_size, end - it)));
  }
  shuffle(batches);
  return batches;
}

}  // namespace shopml::train
