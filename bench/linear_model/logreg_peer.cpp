// The shopml side of bench/peers/logreg.sh: fits logistic_regression<float> on rows of a
// cached embedding matrix, `repeats` times, and reports the median fit time, held-out
// accuracy and the coefficients (raw float64, row-major) for the side-by-side comparison
// with scikit-learn done by bench/peers/logreg_peer.py.
//
// usage: logreg_peer FEATURES.npy LABELS.txt TRAIN_IDX.txt TEST_IDX.txt C THREADS REPEATS MAX_ITER TOL COEF_OUT

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "npy.hpp"
#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/metrics/classification.hpp"
#include "shopml/model_selection/train_test_split.hpp"

namespace {

std::vector<std::size_t> read_indices(const std::string& path) {
  std::vector<std::size_t> out;
  for (const auto& line : shopml_bench::read_lines(path)) out.push_back(std::stoull(line));
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 11) {
    std::cerr
        << "usage: logreg_peer FEATURES.npy LABELS.txt TRAIN_IDX.txt TEST_IDX.txt C THREADS REPEATS MAX_ITER TOL COEF_OUT\n";
    return 2;
  }
  const auto X = shopml_bench::read_npy_f32(argv[1]);
  const auto labels = shopml_bench::read_lines(argv[2]);
  const auto train = read_indices(argv[3]), test = read_indices(argv[4]);
  const double C = std::stod(argv[5]);
  const int threads = std::stoi(argv[6]), repeats = std::stoi(argv[7]), max_iter = std::stoi(argv[8]);
  const double tol = std::stod(argv[9]);
  if (static_cast<std::size_t>(X.rows()) != labels.size())
    throw shopml::shape_error(std::string(argv[1]) + " has " + std::to_string(X.rows()) + " rows but " + argv[2] + " has " +
                              std::to_string(labels.size()) + " labels");

  namespace ms = shopml::model_selection;
  const auto X_train = ms::take_rows(X, train), X_test = ms::take_rows(X, test);
  const auto y_train = ms::take(std::span<const std::string>(labels), train);
  const auto y_test = ms::take(std::span<const std::string>(labels), test);

  using model_t = shopml::linear_model::logistic_regression<float, std::string>;
  std::vector<double> seconds;
  model_t model;
  for (int r = 0; r < repeats; ++r) {
    model = model_t({.C = C, .max_iter = max_iter, .tol = tol, .threads = threads});
    const auto start = std::chrono::steady_clock::now();
    model.fit(X_train, std::span<const std::string>(y_train));
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const auto predicted = model.predict(X_test, threads);
  const double accuracy =
      shopml::metrics::accuracy_score(std::span<const std::string>(y_test), std::span<const std::string>(predicted));

  // Coefficients with the intercept as a last column, as float64.
  std::ofstream out(argv[10], std::ios::binary);
  for (Eigen::Index k = 0; k < model.coef().rows(); ++k) {
    for (Eigen::Index j = 0; j < model.coef().cols(); ++j) {
      const double v = model.coef()(k, j);
      out.write(reinterpret_cast<const char*>(&v), sizeof v);
    }
    const double b = model.intercept()[k];
    out.write(reinterpret_cast<const char*>(&b), sizeof b);
  }
  std::printf("fit_seconds_median=%.6f accuracy=%.6f n_iter=%d converged=%d rows=%zu threads=%d\n", seconds[seconds.size() / 2],
              accuracy, model.n_iter(), model.converged() ? 1 : 0, train.size(), shopml::num_threads(threads));
  return 0;
} catch (const std::exception& e) {
  std::cerr << "logreg_peer: " << e.what() << "\n";
  return 1;
}
