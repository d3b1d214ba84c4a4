// all-MiniLM-L6-v2 against sentence-transformers on real review texts (golden files by
// scripts/golden/encoder.py): every embedding's cosine to the reference >= 0.99999 and
// max |difference| <= 1e-4. From texts: all 2,257 golden texts; from the reference token
// ids (the encoder alone, whatever the tokenizer does): an even 200 of them. At precision
// bf16 (dense layers in bfloat16): cosine >= 0.999 to the same fp32 references; at int8
// (dynamic quantisation): >= 0.99.
// SHOPML_ENCODER_PARITY_TEXTS=<n> makes both check an even subset of n.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "golden.hpp"
#include "shopml/nn/sentence_encoder.hpp"

namespace {

struct token_ids {
  std::vector<std::int64_t> ids, type_ids, attention_mask;
};

// Checks every row of `got` against the golden row of its text (cosine >= min_cosine, every
// component within max_abs); prints the worst figures.
void check_parity(const shopml::nn::embedding_matrix& got, const std::vector<std::size_t>& picked, const char* what,
                  double min_cosine = 0.99999, double max_abs = 1e-4) {
  const auto golden = shopml::test::read_golden_embeddings();
  const std::size_t dim = 384;
  REQUIRE(golden.size() % dim == 0);
  REQUIRE(got.cols() == static_cast<Eigen::Index>(dim));
  double min_cos = 1.0, max_diff = 0.0;
  for (std::size_t k = 0; k < picked.size(); ++k) {
    const float* want = golden.data() + picked[k] * dim;
    const float* have = got.row(static_cast<Eigen::Index>(k)).data();
    double dot = 0, nw = 0, nh = 0, diff = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      dot += double(want[j]) * have[j];
      nw += double(want[j]) * want[j];
      nh += double(have[j]) * have[j];
      diff = std::max(diff, std::abs(double(want[j]) - have[j]));
    }
    const double cos = dot / std::sqrt(nw * nh);
    CAPTURE(picked[k]);
    CHECK(cos >= min_cosine);
    CHECK(diff <= max_abs);
    min_cos = std::min(min_cos, cos);
    max_diff = std::max(max_diff, diff);
  }
  std::printf("%s: %zu texts, min cosine %.9f, max abs diff %.3g\n", what, picked.size(), min_cos, max_diff);
}

}  // namespace

TEST_CASE("all-MiniLM-L6-v2 from reference token ids matches sentence-transformers") {
  const auto tokens = shopml::test::read_golden_tokens();
  const auto inputs = shopml::test::read_golden_inputs();
  REQUIRE(tokens.size() == inputs.size());
  REQUIRE(tokens.size() >= 2000);
  const auto picked = shopml::test::parity_subset(tokens.size(), 200);
  std::vector<token_ids> sequences;
  for (std::size_t i : picked) sequences.push_back({tokens[i], {}, {}});

  const auto embedder = shopml::nn::sentence_embedder<>::from_directory(SHOPML_MODEL_DIR);
  REQUIRE(embedder.dimension() == 384);
  const auto got = embedder.encode_tokens(std::span<const token_ids>(sequences), 32);
  check_parity(got, picked, "MiniLM from token ids");
}

TEST_CASE("all-MiniLM-L6-v2 from texts (tokenizer.json) matches sentence-transformers") {
  const auto inputs = shopml::test::read_golden_inputs();
  REQUIRE(inputs.size() >= 2000);
  const auto picked = shopml::test::parity_subset(inputs.size());
  std::vector<std::string> texts;
  for (std::size_t i : picked) texts.push_back(shopml::test::read_text(inputs[i]));

  const auto model = shopml::nn::sentence_encoder<>::from_directory(SHOPML_MODEL_DIR);
  CHECK(model.max_seq_length() == 256);
  const auto tokens = shopml::test::read_golden_tokens();
  for (std::size_t k = 0; k < picked.size(); ++k) {  // the tokenizer's part, checked on its own first
    const auto enc = model.tokenizer().encode(texts[k]);
    CAPTURE(picked[k]);
    REQUIRE(std::vector<std::int64_t>(enc.ids.begin(), enc.ids.end()) == tokens[picked[k]]);
  }
  const auto got = model.encode(texts);
  check_parity(got, picked, "MiniLM from texts");

  SUBCASE("batch size, thread count and input order do not change the result") {
    const std::vector<std::string> few(texts.begin(), texts.begin() + std::min<std::size_t>(texts.size(), 40));
    const auto one = model.encode(few, {.batch_size = 1, .threads = 1});
    const auto many = model.encode(few, {.batch_size = 7, .normalize = true, .threads = 2});
    CHECK((one - many).cwiseAbs().maxCoeff() < 1e-5f);
    CHECK((one - got.topRows(static_cast<Eigen::Index>(few.size()))).cwiseAbs().maxCoeff() < 1e-5f);
  }
}

TEST_CASE("all-MiniLM-L6-v2 at precision bf16 stays within cosine 0.999 of sentence-transformers' fp32") {
  const auto inputs = shopml::test::read_golden_inputs();
  const auto picked = shopml::test::parity_subset(inputs.size());
  std::vector<std::string> texts;
  for (std::size_t i : picked) texts.push_back(shopml::test::read_text(inputs[i]));
  const auto model = shopml::nn::sentence_encoder<>::from_directory(SHOPML_MODEL_DIR, {.precision = shopml::nn::precision::bf16});
  CHECK(model.embedder().model().precision() == shopml::nn::precision::bf16);
  std::printf("bf16 road: %s\n", shopml::simd::bf16::amx_bf16_usable() ? "AMX tiles" : "fp32 GEMM on rounded operands");
  check_parity(model.encode(texts), picked, "MiniLM bf16 from texts", 0.999, 0.01);
}

TEST_CASE("all-MiniLM-L6-v2 at precision int8 stays within cosine 0.99 of sentence-transformers' fp32") {
  const auto inputs = shopml::test::read_golden_inputs();
  const auto picked = shopml::test::parity_subset(inputs.size());
  std::vector<std::string> texts;
  for (std::size_t i : picked) texts.push_back(shopml::test::read_text(inputs[i]));
  const auto model = shopml::nn::sentence_encoder<>::from_directory(SHOPML_MODEL_DIR, {.precision = shopml::nn::precision::int8});
  CHECK(model.embedder().model().precision() == shopml::nn::precision::int8);
  std::printf("int8 road: %s\n", shopml::simd::int8::road_name(shopml::simd::int8::best_road()));
  check_parity(model.encode(texts), picked, "MiniLM int8 from texts", 0.99, 0.05);
}
