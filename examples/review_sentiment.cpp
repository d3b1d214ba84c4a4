// Review sentiment end to end: the 2,838 labelled English review sentences of the shared
// data (Amazon, Yelp, IMDb; Kotzias et al. 2015) embedded with all-MiniLM-L6-v2
// (nn::sentence_encoder), a stratified 75/25 split, a logistic-regression head, the
// classification report on the held-out part, then the head saved, reloaded and checked
// to predict exactly the same.
//
//   review_sentiment [--model DIR] [--C 1.0] [--head PATH] [--threads N] [--precision fp32|bf16|int8]
//
// --precision bf16 / int8 runs the encoder's dense layers in bfloat16 / dynamically quantised
// int8 (nn/precision.hpp), to see what it changes in the head's accuracy.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/linear_model/saved_head.hpp"
#include "shopml/metrics/classification_report.hpp"
#include "shopml/metrics/log_loss.hpp"
#include "shopml/metrics/roc_auc.hpp"
#include "shopml/model_selection/train_test_split.hpp"
#include "shopml/nn/sentence_encoder.hpp"

namespace {

struct reviews {
  std::vector<std::string> text, label;
};

// "sentence<TAB>0|1" lines.
reviews read_labelled_sentences(const std::filesystem::path& dir) {
  reviews out;
  for (const char* name : {"amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"}) {
    std::ifstream in(dir / name);
    if (!in) throw shopml::io_error("cannot open '" + (dir / name).string() + "'");
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const auto tab = line.rfind('\t');
      const std::string flag = tab == std::string::npos ? "" : line.substr(tab + 1, 1);
      if (flag != "0" && flag != "1")
        throw shopml::parse_error("'" + (dir / name).string() + "' line " + std::to_string(number) +
                                  ": no 0/1 label after a tab");
      out.text.push_back(line.substr(0, tab));
      out.label.push_back(flag == "1" ? "positive" : "negative");
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  std::filesystem::path model_dir = SHOPML_MODEL_DIR;
  std::filesystem::path head_path = std::filesystem::temp_directory_path() / "review_sentiment_head.safetensors";
  double C = 1.0;
  int threads = 0;
  auto precision = shopml::nn::precision::fp32;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 < argc && arg == "--model")
      model_dir = argv[++i];
    else if (i + 1 < argc && arg == "--head")
      head_path = argv[++i];
    else if (i + 1 < argc && arg == "--C")
      C = std::stod(argv[++i]);
    else if (i + 1 < argc && arg == "--threads")
      threads = std::stoi(argv[++i]);
    else if (i + 1 < argc && arg == "--precision") {
      const std::string value = argv[++i];
      if (value != "fp32" && value != "bf16" && value != "int8") throw shopml::value_error("--precision: fp32, bf16 or int8");
      precision = value == "bf16"   ? shopml::nn::precision::bf16
                  : value == "int8" ? shopml::nn::precision::int8
                                    : shopml::nn::precision::fp32;
    } else {
      std::cout << "usage: review_sentiment [--model DIR] [--C 1.0] [--head PATH] [--threads N] [--precision fp32|bf16|int8]\n";
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }

  const auto data = read_labelled_sentences(std::filesystem::path(SHOPML_DATA_DIR) / "reviews-en");
  const auto encoder = shopml::nn::sentence_encoder<>::from_directory(model_dir, {.precision = precision});
  std::cout << "embedding " << data.text.size() << " reviews with " << model_dir.filename().string() << " ...\n";
  const auto X = encoder.encode(data.text, {.batch_size = 32, .normalize = true, .threads = threads});

  namespace ms = shopml::model_selection;
  const auto split = ms::train_test_split(data.label, 0.25, 42);
  const auto X_train = ms::take_rows(X, split.train), X_test = ms::take_rows(X, split.test);
  const auto y_train = ms::take(data.label, split.train);
  const auto y_test = ms::take(data.label, split.test);

  shopml::linear_model::logistic_regression<float, std::string> head({.C = C, .max_iter = 1000, .threads = threads});
  head.fit(X_train, y_train);
  std::cout << "fitted on " << split.train.size() << " reviews: " << head.n_iter() << " L-BFGS iterations, "
            << (head.converged() ? "converged" : "NOT converged") << "\n\n";

  const auto predicted = head.predict(X_test, threads);
  const auto proba = head.predict_proba(X_test, threads);
  std::vector<double> p_positive(static_cast<std::size_t>(proba.rows()));
  for (Eigen::Index i = 0; i < proba.rows(); ++i) p_positive[static_cast<std::size_t>(i)] = proba(i, 1);
  const std::span<const std::string> truth(y_test);
  std::cout << "held-out part (" << split.test.size() << " reviews):\n"
            << shopml::metrics::classification_report(y_test, predicted, {}, 3) << "\n"
            << "ROC-AUC  " << shopml::metrics::roc_auc_score(truth, std::span<const double>(p_positive)) << "\n"
            << "log-loss " << shopml::metrics::log_loss(truth, proba) << "\n\n";

  shopml::linear_model::save_head(head, head_path);
  const auto reloaded = shopml::linear_model::load_head<float, std::string>(head_path);
  const bool same = reloaded.predict(X_test, threads) == predicted && reloaded.predict_proba(X_test, threads) == proba;
  std::cout << "saved the head to " << head_path.string() << " (" << std::filesystem::file_size(head_path)
            << " bytes), reloaded: predictions " << (same ? "identical" : "DIFFERENT") << "\n";
  return same ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "review_sentiment: " << e.what() << "\n";
  return 1;
}
