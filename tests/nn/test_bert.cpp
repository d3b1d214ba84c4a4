#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "golden.hpp"
#include "shopml/io/json_file.hpp"
#include "shopml/nn/sentence_embedder.hpp"

namespace nn = shopml::nn;
namespace io = shopml::io;

namespace {

const std::filesystem::path tiny_dir = shopml::test::golden_dir() / "tiny_bert";

float max_abs_diff(const float* got, const std::vector<float>& want) {
  float worst = 0.0f;
  for (std::size_t j = 0; j < want.size(); ++j) worst = std::max(worst, std::abs(got[j] - want[j]));
  return worst;
}

// The tiny model with config.json rewritten by `edit`, in a temporary directory.
std::filesystem::path tiny_copy_with(const std::string& name, void (*edit)(nlohmann::json&)) {
  const auto dir = std::filesystem::temp_directory_path() / ("shopml_tiny_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::copy(tiny_dir, dir, std::filesystem::copy_options::recursive);
  auto config = io::read_json(dir / "config.json");
  edit(config);
  std::ofstream(dir / "config.json") << config.dump();
  return dir;
}

}  // namespace

TEST_CASE("bert: tiny BF16 model with bert. prefix and gelu_new matches transformers, packed or padded") {
  const auto expected = io::read_json(tiny_dir / "expected.json");
  const auto bert = nn::bert_encoder<>::from_directory(tiny_dir);
  CHECK(bert.config().hidden_act == shopml::gelu_form::tanh);
  const std::size_t h = bert.hidden_size();
  const auto& ids = expected["input_ids"];
  const auto& masks = expected["attention_mask"];

  nn::token_batch packed, padded;
  for (std::size_t s = 0; s < ids.size(); ++s) {
    std::vector<int> seq_ids, seq_types, seq_mask;
    for (std::size_t t = 0; t < ids[s].size(); ++t) {
      seq_ids.push_back(ids[s][t]);
      seq_types.push_back(expected["token_type_ids"][s][t]);
      seq_mask.push_back(masks[s][t]);
    }
    padded.add(seq_ids, seq_types, seq_mask);  // HF's padded row, masked
    const std::size_t n = expected["last_hidden_state"][s].size();
    seq_ids.resize(n);
    seq_types.resize(n);
    packed.add(seq_ids, seq_types);
  }
  const auto out_packed = bert.forward(packed);
  const auto out_padded = bert.forward(padded, 2);
  for (std::size_t s = 0; s < ids.size(); ++s) {
    const auto& want = expected["last_hidden_state"][s];
    for (std::size_t t = 0; t < want.size(); ++t) {
      const auto row = want[t].get<std::vector<float>>();
      CAPTURE(s);
      CAPTURE(t);
      CHECK(max_abs_diff(out_packed.data() + (packed.begin(s) + t) * h, row) < 2e-5f);
      CHECK(max_abs_diff(out_padded.data() + (padded.begin(s) + t) * h, row) < 2e-5f);
    }
  }

  SUBCASE("pooling: cls, mean, max, and all concatenated") {
    const auto hidden = out_packed.to_host(packed.tokens() * h);
    for (auto [mode, key] : {std::pair{0, "cls"}, {1, "mean"}, {2, "max"}}) {
      nn::pooling_config c{mode == 0, mode == 2, mode == 1, false};
      std::vector<float> pooled(packed.size() * h);
      nn::pool(c, packed, hidden, h, pooled.data());
      for (std::size_t s = 0; s < packed.size(); ++s)
        CHECK(max_abs_diff(pooled.data() + s * h, expected[key][s].get<std::vector<float>>()) < 2e-5f);
    }
    nn::pooling_config all{true, true, true, true};
    std::vector<float> pooled(packed.size() * 4 * h);
    nn::pool(all, packed, hidden, h, pooled.data());
    const auto mean = expected["mean"][2].get<std::vector<float>>();
    const float* row = pooled.data() + 2 * 4 * h;
    CHECK(max_abs_diff(row + 2 * h, mean) < 2e-5f);
    const float root = std::sqrt(static_cast<float>(packed.length(2)));
    for (std::size_t j = 0; j < h; ++j) CHECK(row[3 * h + j] == doctest::Approx(mean[j] * root).epsilon(1e-5));
  }

  SUBCASE("sentence_embedder reads modules.json: CLS pooling, no normalisation") {
    const auto embedder = nn::sentence_embedder<>::from_directory(tiny_dir);
    CHECK(embedder.dimension() == h);
    CHECK(embedder.max_seq_length() == 40);
    struct enc {
      std::vector<int> ids, type_ids, attention_mask;
    };
    std::vector<enc> encodings;
    for (std::size_t s = 0; s < packed.size(); ++s)
      encodings.push_back(
          {std::vector<int>(packed.ids.begin() + packed.begin(s), packed.ids.begin() + packed.begin(s + 1)),
           std::vector<int>(packed.type_ids.begin() + packed.begin(s), packed.type_ids.begin() + packed.begin(s + 1)),
           {}});
    for (std::size_t batch : {1, 3, 32}) {
      const auto emb = embedder.encode_tokens(std::span<const enc>(encodings), batch);
      REQUIRE(emb.rows() == 4);
      for (std::size_t s = 0; s < packed.size(); ++s)
        CHECK(max_abs_diff(emb.row(static_cast<Eigen::Index>(s)).data(), expected["cls"][s].get<std::vector<float>>()) < 2e-5f);
      const auto unit = embedder.encode_tokens(std::span<const enc>(encodings), batch, true);
      CHECK(unit.row(1).norm() == doctest::Approx(1.0f));
    }
    // const and thread-safe: concurrent calls on one object give the same rows.
    const auto reference = embedder.encode_tokens(std::span<const enc>(encodings), 2, false, 1);
    std::vector<nn::embedding_matrix> results(4);
    std::vector<std::thread> workers;
    for (std::size_t w = 0; w < results.size(); ++w)
      workers.emplace_back([&, w] { results[w] = embedder.encode_tokens(std::span<const enc>(encodings), 2, false, 1); });
    for (auto& w : workers) w.join();
    for (const auto& r : results) CHECK(r == reference);

    encodings[0].ids.resize(41, 1);
    encodings[0].type_ids.clear();
    CHECK_THROWS_WITH_AS(embedder.encode_tokens(std::span<const enc>(encodings)), doctest::Contains("sequence 0 has 41 tokens"),
                         shopml::value_error);
  }
}

TEST_CASE("bert: bad inputs and inconsistent files are clear errors") {
  const auto bert = nn::bert_encoder<>::from_directory(tiny_dir);
  nn::token_batch batch;
  batch.add(std::vector<int>{1, 2, 97});
  CHECK_THROWS_WITH_AS(bert.forward(batch), doctest::Contains("sequence 0, token 2: id 97 is outside the vocabulary"),
                       shopml::value_error);
  nn::token_batch types;
  types.add(std::vector<int>{1, 2}, std::vector<int>{0, 2});
  CHECK_THROWS_WITH_AS(bert.forward(types), doctest::Contains("token type 2"), shopml::value_error);
  nn::token_batch too_long;
  too_long.add(std::vector<int>(41, 1));
  CHECK_THROWS_WITH_AS(bert.forward(too_long), doctest::Contains("more than max_position_embeddings 40"), shopml::value_error);
  CHECK_THROWS_AS(batch.add(std::vector<int>{1, 2}, std::vector<int>{0}), shopml::shape_error);
  CHECK(bert.forward(nn::token_batch{}).size() == 0);

  const auto wide = tiny_copy_with("wide", [](nlohmann::json& c) { c["intermediate_size"] = 128; });
  CHECK_THROWS_WITH_AS(
      nn::bert_encoder<>::from_directory(wide),
      doctest::Contains("tensor 'bert.encoder.layer.0.intermediate.dense.weight' has shape [64,32], config.json needs [128,32]"),
      shopml::shape_error);
  const auto deep = tiny_copy_with("deep", [](nlohmann::json& c) { c["num_hidden_layers"] = 3; });
  CHECK_THROWS_WITH_AS(nn::bert_encoder<>::from_directory(deep),
                       doctest::Contains("bert.encoder.layer.2.attention.self.query.weight"), shopml::parse_error);
  const auto heads = tiny_copy_with("heads", [](nlohmann::json& c) { c["num_attention_heads"] = 5; });
  CHECK_THROWS_WITH_AS(nn::bert_encoder<>::from_directory(heads), doctest::Contains("not a multiple of num_attention_heads"),
                       shopml::value_error);
  const auto act = tiny_copy_with("act", [](nlohmann::json& c) { c["hidden_act"] = "swish"; });
  CHECK_THROWS_WITH_AS(nn::bert_encoder<>::from_directory(act), doctest::Contains("hidden_act 'swish'"), shopml::value_error);
  const auto missing = tiny_copy_with("missing", [](nlohmann::json& c) { c.erase("hidden_size"); });
  CHECK_THROWS_WITH_AS(nn::bert_encoder<>::from_directory(missing), doctest::Contains("missing key 'hidden_size'"),
                       shopml::parse_error);
  for (const char* name : {"wide", "deep", "heads", "act", "missing"})
    std::filesystem::remove_all(std::filesystem::temp_directory_path() / (std::string("shopml_tiny_") + name));
}

TEST_CASE("sentence-transformers config of all-MiniLM-L6-v2: mean pooling, Normalize, 256 tokens") {
  const auto c = nn::sentence_transformers_config::from_directory(SHOPML_MODEL_DIR);
  CHECK(c.pooling.mean_tokens);
  CHECK(c.pooling.modes() == 1);
  CHECK(c.normalize);
  CHECK(c.max_seq_length == 256);
  const auto bert = nn::bert_config::from_file(std::filesystem::path(SHOPML_MODEL_DIR) / "config.json");
  CHECK(bert.hidden_size == 384);
  CHECK(bert.num_hidden_layers == 6);
  CHECK(bert.head_dim() == 32);
  CHECK(bert.hidden_act == shopml::gelu_form::erf);
}
