// shopml in one page: texts -> embeddings -> a sentiment head; interactions -> recommendations.
// Run: quickstart [MODEL_DIR]  (default ~/.cache/shopml/models/all-MiniLM-L6-v2, see scripts/fetch-model.sh)
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

// One header per component used (shopml/shopml.hpp has them all, at a compile-time cost).
#include <shopml/linear_model/logistic_regression.hpp>
#include <shopml/metrics/classification_report.hpp>
#include <shopml/model_selection/train_test_split.hpp>
#include <shopml/nn/sentence_encoder.hpp>
#include <shopml/recommend/interactions.hpp>
#include <shopml/recommend/item_item.hpp>
#include <shopml/tokenize/tokenizer.hpp>

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1
                                        ? std::filesystem::path(argv[1])
                                        : std::filesystem::path(std::getenv("HOME")) / ".cache/shopml/models/all-MiniLM-L6-v2";

  // Text -> tokens.
  auto tok = shopml::tokenize::tokenizer::from_file(dir / "tokenizer.json").no_padding();
  shopml::tokenize::encoding enc = tok.encode("Red cotton T-shirt, size M");  // ids, offsets, masks ...
  for (const std::string& token : enc.tokens) std::cout << token << ' ';
  std::cout << '\n';

  // Texts -> sentence embeddings, one row each.
  auto model = shopml::nn::sentence_encoder<>::from_directory(dir);  // shopml::cpu backend
  const std::vector<std::string> texts = {"Fits perfectly and the fabric is soft",
                                          "Great quality, I bought a second one",
                                          "Arrived quickly and works as described",
                                          "Lovely colour, exactly like the photo",
                                          "Comfortable shoes, I wear them every day",
                                          "Excellent value for the price",
                                          "Broke after two days of use",
                                          "The zipper fell off the first time",
                                          "Much smaller than the size chart says",
                                          "Cheap material, it tore in the wash",
                                          "Stopped charging after a week",
                                          "Arrived damaged and nobody answers"};
  const std::vector<std::string> labels = {"positive", "positive", "positive", "positive", "positive", "positive",
                                           "negative", "negative", "negative", "negative", "negative", "negative"};
  shopml::nn::embedding_matrix X = model.encode(texts, {.batch_size = 32, .normalize = true, .threads = 2});

  // Embeddings -> a logistic-regression head, on a stratified split.
  namespace ms = shopml::model_selection;
  ms::split_indices split = ms::train_test_split(labels, /*test_size=*/0.25, /*seed=*/42);
  auto X_train = ms::take_rows(X, split.train), X_test = ms::take_rows(X, split.test);
  shopml::linear_model::logistic_regression<float, std::string> head({.C = 10.0});
  head.fit(X_train, ms::take(labels, split.train));
  auto p = head.predict_proba(X_test);  // one row per test text, columns in head.classes() order
  std::cout << p.rows() << " x " << p.cols() << " probabilities\n"
            << shopml::metrics::classification_report(ms::take(labels, split.test), head.predict(X_test));

  // (user, item) interactions -> item-item collaborative filtering.
  const std::vector<std::pair<std::string, std::string>> bought = {{"ana", "tee"},   {"ana", "jeans"}, {"ben", "tee"},
                                                                   {"ben", "jeans"}, {"ben", "cap"},   {"cho", "jeans"},
                                                                   {"cho", "cap"},   {"dev", "tee"},   {"dev", "socks"}};
  shopml::recommend::interactions<std::string> log;
  for (const auto& [user, item] : bought) log.add(user, item);
  shopml::recommend::csr_matrix user_items = log.user_items();  // users x items
  auto cf = shopml::recommend::bm25_recommender(/*K=*/50);
  cf.fit(user_items);
  const std::int32_t user = log.users().index("ana");
  auto recs = cf.recommend(user, user_items, {.N = 2});
  for (const auto& r : recs) std::cout << "for ana: " << log.items().id(r.index) << " (" << r.score << ")\n";
  return recs.empty() ? 1 : 0;
}
