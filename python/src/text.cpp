// Tokenizer (in the manner of HF tokenizers) and SentenceEncoder (sentence-transformers).
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "shopml/error.hpp"
#include "shopml/nn/sentence_encoder.hpp"
#include "shopml/tokenize/tokenizer.hpp"

namespace shopml_python {

namespace tk = shopml::tokenize;
using encoder = shopml::nn::sentence_encoder<>;

namespace {

std::vector<std::int64_t> widened(const std::vector<std::uint32_t>& v) { return {v.begin(), v.end()}; }

shopml::nn::precision precision_named(const std::string& name) {
  for (auto p : {shopml::nn::precision::fp32, shopml::nn::precision::bf16, shopml::nn::precision::int8})
    if (name == shopml::nn::to_string(p)) return p;
  throw shopml::value_error("precision must be 'fp32', 'bf16' or 'int8', got '" + name + "'");
}

// encode_batch's arrays: every row as long as the longest (the tokenizer's own padding,
// when it has one, already made them equal), padded on the right with the pad id.
nb::dict padded_batch(const tk::tokenizer& tok, const std::vector<tk::encoding>& batch) {
  std::size_t width = 0;
  for (const auto& e : batch) width = std::max(width, e.size());
  const std::uint32_t pad_id = tok.padding() ? tok.padding()->pad_id : tok.token_to_id("[PAD]").value_or(0);
  const std::uint32_t pad_type = tok.padding() ? tok.padding()->pad_type_id : 0;
  std::vector<std::int64_t> ids(batch.size() * width, pad_id), types(batch.size() * width, pad_type),
      mask(batch.size() * width, 0);
  for (std::size_t r = 0; r < batch.size(); ++r)
    for (std::size_t c = 0; c < batch[r].size(); ++c) {
      ids[r * width + c] = batch[r].ids[c];
      types[r * width + c] = batch[r].type_ids[c];
      mask[r * width + c] = batch[r].attention_mask[c];
    }
  nb::dict out;
  out["input_ids"] = to_numpy(std::move(ids), {batch.size(), width});
  out["token_type_ids"] = to_numpy(std::move(types), {batch.size(), width});
  out["attention_mask"] = to_numpy(std::move(mask), {batch.size(), width});
  return out;
}

nb::ndarray<nb::numpy, float> embeddings_array(shopml::nn::embedding_matrix&& m) {
  const std::size_t rows = static_cast<std::size_t>(m.rows()), cols = static_cast<std::size_t>(m.cols());
  return owning_array<float>(std::move(m), +[](shopml::nn::embedding_matrix& e) { return e.data(); }, {rows, cols});
}

}  // namespace

void bind_text(nb::module_& m) {
  nb::class_<tk::encoding>(m, "Encoding", "One encoded text: token ids and what goes with them (HF tokenizers' Encoding).")
      .def_prop_ro(
          "ids", [](const tk::encoding& e) { return to_numpy(widened(e.ids), {e.size()}); }, nb::rv_policy::move)
      .def_prop_ro(
          "type_ids", [](const tk::encoding& e) { return to_numpy(widened(e.type_ids), {e.size()}); }, nb::rv_policy::move)
      .def_prop_ro(
          "attention_mask", [](const tk::encoding& e) { return to_numpy(widened(e.attention_mask), {e.size()}); },
          nb::rv_policy::move)
      .def_prop_ro(
          "special_tokens_mask", [](const tk::encoding& e) { return to_numpy(widened(e.special_tokens_mask), {e.size()}); },
          nb::rv_policy::move)
      .def_ro("tokens", &tk::encoding::tokens)
      .def_ro("offsets", &tk::encoding::char_offsets, "(start, end) in code points of the text, as HF Python reports them")
      .def_ro("word_ids", &tk::encoding::word_ids)
      .def("__len__", &tk::encoding::size);

  nb::class_<tk::tokenizer>(m, "Tokenizer", "A Hugging Face tokenizer.json, encoded exactly as HF tokenizers does.")
      .def_static("from_file", &tk::tokenizer::from_file, nb::arg("path"), "Reads a tokenizer.json.")
      .def_static(
          "from_pretrained", [](const std::filesystem::path& dir) { return tk::tokenizer::from_file(dir / "tokenizer.json"); },
          nb::arg("model_dir"), "Reads model_dir/tokenizer.json (a local directory: nothing is downloaded).")
      .def_static("from_str", &tk::tokenizer::from_json, nb::arg("json"))
      .def(
          "encode",
          [](const tk::tokenizer& t, const std::string& text, std::optional<std::string> pair, bool add_special_tokens) {
            nb::gil_scoped_release unlocked;
            return pair ? t.encode(text, *pair, add_special_tokens) : t.encode(text, add_special_tokens);
          },
          nb::arg("sequence"), nb::arg("pair") = nb::none(), nb::arg("add_special_tokens") = true)
      .def(
          "encode_batch",
          [](const tk::tokenizer& t, const std::vector<std::string>& texts, bool add_special_tokens, int threads) {
            std::vector<tk::encoding> batch;
            {
              nb::gil_scoped_release unlocked;
              batch = t.encode_batch(texts, add_special_tokens, threads);
            }
            return padded_batch(t, batch);
          },
          nb::arg("texts"), nb::arg("add_special_tokens") = true, nb::arg("threads") = 0,
          "Dict of int64 arrays [texts × longest]: input_ids, token_type_ids, attention_mask (padding on the right).")
      .def(
          "decode",
          [](const tk::tokenizer& t, const std::vector<std::uint32_t>& ids, bool skip_special_tokens) {
            return t.decode(ids, skip_special_tokens);
          },
          nb::arg("ids"), nb::arg("skip_special_tokens") = true)
      .def("token_to_id", &tk::tokenizer::token_to_id, nb::arg("token"))
      .def("id_to_token", &tk::tokenizer::id_to_token, nb::arg("id"))
      .def("get_vocab_size", &tk::tokenizer::vocab_size)
      .def(
          "enable_truncation",
          [](tk::tokenizer& t, std::size_t max_length, std::size_t stride) { t.enable_truncation(max_length, stride); },
          nb::arg("max_length"), nb::arg("stride") = 0)
      .def("no_truncation", [](tk::tokenizer& t) { t.no_truncation(); })
      .def(
          "enable_padding",
          [](tk::tokenizer& t, std::optional<std::size_t> length, std::uint32_t pad_id, std::uint32_t pad_type_id,
             std::string pad_token) {
            t.enable_padding(length, tk::padding_direction::right, std::nullopt, pad_id, pad_type_id, std::move(pad_token));
          },
          nb::arg("length") = nb::none(), nb::arg("pad_id") = 0, nb::arg("pad_type_id") = 0, nb::arg("pad_token") = "[PAD]",
          "Pads to `length`, or to the longest text of each batch when None.")
      .def("no_padding", [](tk::tokenizer& t) { t.no_padding(); })
      .def("save", &tk::tokenizer::save, nb::arg("path"))
      .def("to_str", &tk::tokenizer::to_json);

  nb::class_<encoder>(m, "SentenceEncoder", "Texts to sentence embeddings, as sentence-transformers' SentenceTransformer.encode.")
      .def_static(
          "from_pretrained",
          [](const std::filesystem::path& dir, const std::string& precision) {
            const auto p = precision_named(precision);
            nb::gil_scoped_release unlocked;
            return encoder::from_directory(dir, shopml::nn::load_options{.precision = p});
          },
          nb::arg("model_dir"), nb::arg("precision") = "fp32",
          "A local Hugging Face BERT directory (config.json, model.safetensors, tokenizer.json, ...); precision: fp32, bf16 or "
          "int8.")
      .def(
          "encode",
          [](const encoder& e, const std::vector<std::string>& sentences, std::size_t batch_size, bool normalize_embeddings,
             int threads) {
            shopml::nn::embedding_matrix out;
            {
              nb::gil_scoped_release unlocked;
              out = e.encode(
                  sentences,
                  {.batch_size = batch_size, .normalize = normalize_embeddings, .threads = threads, .show_progress = false});
            }
            return embeddings_array(std::move(out));
          },
          nb::arg("sentences"), nb::arg("batch_size") = 32, nb::arg("normalize_embeddings") = false, nb::arg("threads") = 0,
          "float32 array [len(sentences) × dimension], row i embedding sentences[i] (no copy on return).")
      .def_prop_ro("dimension", &encoder::dimension)
      .def("get_sentence_embedding_dimension", &encoder::dimension)
      .def_prop_rw("max_seq_length", &encoder::max_seq_length, &encoder::set_max_seq_length)
      .def_prop_ro("tokenizer", &encoder::tokenizer, nb::rv_policy::copy);
}

}  // namespace shopml_python
