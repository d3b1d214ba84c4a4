// One value+gradient pass of the logistic loss (the unit of work of every L-BFGS
// iteration) and a whole fit, on real review embeddings (the committed golden features,
// all-MiniLM-L6-v2 of 2,000 Chinese reviews, tiled 16× so X does not fit in cache).

#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "shopml/io/safetensors.hpp"
#include "shopml/linear_model/logistic_loss.hpp"
#include "shopml/linear_model/logistic_regression.hpp"

namespace {

using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct data {
  row_matrix X;
  std::vector<int> category, sentiment;
};

const data& shop() {
  static const data d = [] {
    const auto dir = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "tests" / "golden" / "linear_model";
    const auto file = shopml::io::safetensors_file::open(dir / "features.safetensors");
    const auto values = file.to_f32("shop_X");
    const auto rows = static_cast<Eigen::Index>(file.info("shop_X").shape[0]),
               cols = static_cast<Eigen::Index>(file.info("shop_X").shape[1]);
    const Eigen::Map<const row_matrix> one(values.data(), rows, cols);
    data out;
    constexpr int tiles = 16;
    out.X.resize(rows * tiles, cols);
    for (int t = 0; t < tiles; ++t) out.X.middleRows(t * rows, rows) = one;
    for (Eigen::Index i = 0; i < out.X.rows(); ++i) {
      out.category.push_back(static_cast<int>(i % 10));  // the pass costs the same for any labels
      out.sentiment.push_back(static_cast<int>(i % 2));
    }
    return out;
  }();
  return d;
}

void loss_gradient(benchmark::State& state, int classes) {
  const auto& d = shop();
  const auto threads = static_cast<int>(state.range(0));
  const std::vector<double> weight(static_cast<std::size_t>(d.X.rows()), 1.0);
  const auto& target = classes == 2 ? d.sentiment : d.category;
  const shopml::linear_model::logistic_loss<float> loss(
      shopml::linear_model::logistic_loss<float>::row_map(d.X.data(), d.X.rows(), d.X.cols(), Eigen::OuterStride<>(d.X.cols())),
      target, weight, classes, true, 1.0, threads);
  Eigen::VectorXd theta = Eigen::VectorXd::Constant(loss.n_parameters(), 0.01), grad;
  for (auto _ : state) benchmark::DoNotOptimize(loss(theta, grad));
  state.SetBytesProcessed(state.iterations() * d.X.size() * static_cast<std::int64_t>(sizeof(float)));
  state.counters["rows"] = static_cast<double>(d.X.rows());
  state.counters["threads"] = threads;
}

void BM_loss_gradient_binary(benchmark::State& state) { loss_gradient(state, 2); }
void BM_loss_gradient_10_classes(benchmark::State& state) { loss_gradient(state, 10); }

void BM_fit_binary(benchmark::State& state) {
  const auto& d = shop();
  const auto threads = static_cast<int>(state.range(0));
  int n_iter = 0;
  for (auto _ : state) {
    shopml::linear_model::logistic_regression<float, int> model({.max_iter = 1000, .threads = threads});
    model.fit(d.X, std::span<const int>(d.sentiment));
    n_iter = model.n_iter();
  }
  state.counters["n_iter"] = n_iter;
  state.counters["threads"] = threads;
}

}  // namespace

BENCHMARK(BM_loss_gradient_binary)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_loss_gradient_10_classes)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fit_binary)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
