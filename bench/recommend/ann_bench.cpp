// The shopml side of bench/peers/ann.sh (a plain program, not a Google Benchmark).
//
//   ann_bench data    --out DIR --n N [--queries Q] [--seed S]   the default vectors (below)
//   ann_bench run     --dir DIR [--threads T] [--M 16] [--efc 200] [--ef 10,20,...] [--storage f32,i8]
//   ann_bench summary --dir DIR --chart FILE.svg                 RESULT line and chart
//
// data: the English review texts of ../shared/data/reviews-en (women's clothing reviews,
// Amazon, Yelp and IMDb sentences) embedded by shopml's all-MiniLM-L6-v2, then N − Q − (those)
// more vectors on the unit sphere around them: each a real embedding plus Gaussian noise,
// renormalised (seeded), so the set keeps the real embeddings' shape at catalogue size; the
// last Q rows are held out as queries. Writes DIR/vectors.npy and DIR/queries.npy.
// run: exact top-10 with embedding_index (the ground truth, also written as DIR/truth.npy
// for the peers), then per storage type the index built on T threads, the ef sweep on one
// thread (queries one by one: qps_1t), and filtered recall at 1 % and 10 % of items;
// one JSON object a line on stdout (DIR/shopml.jsonl when run by ann.sh).
// summary: reads DIR/*.jsonl (shopml's and the peers'), interpolates each engine's
// queries/s at recall@10 = 0.95, prints the RESULT line and writes the chart.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../../examples/svg_chart.hpp"
#include "../linear_model/npy.hpp"
#include "shopml/io/csv.hpp"
#include "shopml/nn/sentence_encoder.hpp"
#include "shopml/recommend/embedding_index.hpp"
#include "shopml/recommend/hnsw_index.hpp"

namespace fs = std::filesystem;
using namespace shopml;
using namespace shopml::recommend;

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

void write_npy(const fs::path& path, const void* data, std::size_t rows, std::size_t cols, const char* descr, std::size_t width) {
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': (" + std::to_string(rows) +
                       ", " + std::to_string(cols) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&len), 2);
  out << header;
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(rows * cols * width));
  if (!out) throw io_error("cannot write '" + path.string() + "'");
}

std::vector<std::string> review_texts(const fs::path& data) {
  std::vector<std::string> texts;
  const auto csv = io::read_csv(data / "reviews-en/womens_clothing_reviews_sample.csv");
  const std::size_t col = csv.column("Review Text");
  for (const auto& row : csv.rows)
    if (!row[col].empty()) texts.push_back(row[col]);
  for (const char* name : {"amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"}) {
    std::ifstream in(data / "reviews-en" / name);
    if (!in) throw io_error("cannot open '" + (data / "reviews-en" / name).string() + "'");
    for (std::string line; std::getline(in, line);)
      if (const auto tab = line.rfind('\t'); tab != std::string::npos && tab > 0) texts.push_back(line.substr(0, tab));
  }
  return texts;
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) out.push_back(part);
  return out;
}

int make_data(int argc, char** argv) {
  const fs::path dir = arg(argc, argv, "--out", "build/ann-data");
  const std::size_t n = std::stoul(arg(argc, argv, "--n", "1000000")),
                    n_queries = std::stoul(arg(argc, argv, "--queries", "1000"));
  const unsigned seed = static_cast<unsigned>(std::stoul(arg(argc, argv, "--seed", "42")));
  fs::create_directories(dir);
  // The review embeddings are cached in DIR/reviews.npy (another N reuses them).
  nn::embedding_matrix real;
  if (fs::exists(dir / "reviews.npy")) {
    real = shopml_bench::read_npy_f32(dir / "reviews.npy");
  } else {
    const auto texts = review_texts(arg(argc, argv, "--data", SHOPML_DATA_DIR));
    const auto model = nn::sentence_encoder<>::from_directory(arg(argc, argv, "--model", SHOPML_MODEL_DIR));
    const auto t0 = clock_type::now();
    real = model.encode(texts, {.batch_size = 32});
    std::cerr << "embedded " << texts.size() << " reviews in " << seconds_since(t0) << " s\n";
    write_npy(dir / "reviews.npy", real.data(), static_cast<std::size_t>(real.rows()), static_cast<std::size_t>(real.cols()),
              "<f4", 4);
  }
  const std::size_t dim = static_cast<std::size_t>(real.cols()), n_real = static_cast<std::size_t>(real.rows());
  if (n < n_real + n_queries) throw value_error("--n must be at least " + std::to_string(n_real + n_queries));
  std::vector<float> all(n * dim);
  std::copy(real.data(), real.data() + n_real * dim, all.begin());
  // Each generated vector is a real review's plus Gaussian noise of a scale drawn per
  // vector from 0.005..0.04 per dimension (cosine ≈ 0.995 down to ≈ 0.8 to its source):
  // close variants and looser relatives of real reviews, as product variants are.
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> unit(0.0f, 1.0f);
  std::uniform_real_distribution<float> spread(0.005f, 0.04f);
  for (std::size_t r = n_real; r < n; ++r) {
    const std::size_t source = rng() % n_real;
    const float sigma = spread(rng);
    const auto normal = [&](std::mt19937_64& g) { return sigma * unit(g); };
    float* x = all.data() + r * dim;
    double norm = 0;
    for (std::size_t d = 0; d < dim; ++d) {
      x[d] = real(static_cast<Eigen::Index>(source), static_cast<Eigen::Index>(d)) + normal(rng);
      norm += double(x[d]) * x[d];
    }
    for (std::size_t d = 0; d < dim; ++d) x[d] = static_cast<float>(x[d] / std::sqrt(norm));
  }
  // Queries: generated rows taken out of the catalogue (the real reviews stay in it).
  write_npy(dir / "vectors.npy", all.data(), n - n_queries, dim, "<f4", 4);
  write_npy(dir / "queries.npy", all.data() + (n - n_queries) * dim, n_queries, dim, "<f4", 4);
  std::cerr << "wrote " << (n - n_queries) << " vectors and " << n_queries << " queries of dim " << dim << " to " << dir << '\n';
  return 0;
}

double recall_at(const knn_result& got, const knn_result& truth) {
  double sum = 0;
  for (std::size_t q = 0; q < truth.queries(); ++q) {
    std::size_t found = 0, total = 0;
    for (auto e : truth.ids_of(q)) {
      if (e < 0) continue;
      ++total;
      for (auto g : got.ids_of(q)) found += g == e;
    }
    sum += total ? double(found) / double(total) : 1.0;
  }
  return sum / double(truth.queries());
}

// Queries one at a time on one thread (what a serving thread does): queries per second.
template <class Search>
std::pair<knn_result, double> timed_one_by_one(const std::vector<float>& queries, std::size_t dim, Search&& search) {
  const std::size_t n = queries.size() / dim;
  knn_result all;
  all.k = 10;
  all.ids.resize(n * 10);
  all.scores.resize(n * 10);
  const auto t0 = clock_type::now();
  for (std::size_t q = 0; q < n; ++q) {
    const knn_result one = search(std::span<const float>(queries).subspan(q * dim, dim));
    std::copy(one.ids.begin(), one.ids.end(), all.ids.begin() + static_cast<std::ptrdiff_t>(q * 10));
    std::copy(one.scores.begin(), one.scores.end(), all.scores.begin() + static_cast<std::ptrdiff_t>(q * 10));
  }
  return {all, double(n) / seconds_since(t0)};
}

int run(int argc, char** argv) {
  const fs::path dir = arg(argc, argv, "--dir", "build/ann-data");
  const int threads = std::stoi(arg(argc, argv, "--threads", "2"));
  const std::size_t M = std::stoul(arg(argc, argv, "--M", "16")), efc = std::stoul(arg(argc, argv, "--efc", "200"));
  auto data_m = shopml_bench::read_npy_f32(dir / "vectors.npy");
  const auto queries_m = shopml_bench::read_npy_f32(dir / "queries.npy");
  const std::size_t n = static_cast<std::size_t>(data_m.rows()), dim = static_cast<std::size_t>(data_m.cols());
  const std::vector<float> data(data_m.data(), data_m.data() + data_m.size());
  const std::vector<float> queries(queries_m.data(), queries_m.data() + queries_m.size());
  data_m.resize(0, 0);

  auto t0 = clock_type::now();
  const embedding_index<> exact(data, dim, embedding_metric::cosine, threads);
  const knn_result truth = exact.search(queries, 10, threads);
  const double exact_s = seconds_since(t0);
  write_npy(dir / "truth.npy", truth.ids.data(), truth.queries(), 10, "<i4", 4);
  const auto [exact_one, exact_qps] = timed_one_by_one(std::vector<float>(queries.begin(), queries.begin() + 20 * dim), dim,
                                                       [&](std::span<const float> q) { return exact.search(q, 10, 1); });
  std::cout << nlohmann::json{{"engine", "shopml exact"},      {"n", n}, {"dim", dim}, {"recall", 1.0}, {"qps", exact_qps},
                              {"batch_s_all_threads", exact_s}}
                   .dump()
            << std::endl;

  std::vector<std::int32_t> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<std::int32_t>(i);
  for (const auto& storage_name : split(arg(argc, argv, "--storage", "f32,i8"))) {
    const vector_storage storage = storage_name == "f32"   ? vector_storage::f32
                                   : storage_name == "f16" ? vector_storage::f16
                                                           : vector_storage::i8;
    hnsw_index<> index(dim, {.M = M, .ef_construction = efc, .storage = storage});
    t0 = clock_type::now();
    index.add(ids, data, {.threads = threads, .show_progress = std::nullopt});
    const double build_s = seconds_since(t0);
    const std::string engine = "shopml hnsw " + storage_name;
    for (const auto& ef_text : split(arg(argc, argv, "--ef", "10,16,24,32,48,64,96,128,192,256"))) {
      const std::size_t ef = std::stoul(ef_text);
      const auto [got, qps] =
          timed_one_by_one(queries, dim, [&](std::span<const float> q) { return index.search(q, 10, {.ef = ef, .threads = 1}); });
      std::cout << nlohmann::json{{"engine", engine},
                                  {"n", n},
                                  {"dim", dim},
                                  {"param", "ef=" + ef_text},
                                  {"recall", recall_at(got, truth)},
                                  {"qps", qps},
                                  {"build_s", build_s},
                                  {"threads", threads},
                                  {"bytes_per_item", index.bytes_per_item()}}
                       .dump()
                << std::endl;
    }
    // Filtered: items whose id % 100 == 7 (1 %) and % 10 == 7 (10 %): "in stock in this category".
    for (const int every : {100, 10}) {
      const auto pass = [&](std::int32_t id) { return id % every == 7; };
      std::vector<float> kept;
      std::vector<std::int32_t> kept_ids;
      for (std::size_t r = 0; r < n; ++r)
        if (pass(static_cast<std::int32_t>(r))) {
          kept.insert(kept.end(), data.begin() + static_cast<std::ptrdiff_t>(r * dim),
                      data.begin() + static_cast<std::ptrdiff_t>((r + 1) * dim));
          kept_ids.push_back(static_cast<std::int32_t>(r));
        }
      knn_result want = embedding_index<>(kept, dim, embedding_metric::cosine, threads).search(queries, 10, threads);
      for (auto& id : want.ids) id = id < 0 ? -1 : kept_ids[static_cast<std::size_t>(id)];
      const auto allowed = index.filter(pass);
      const auto [got, qps] = timed_one_by_one(
          queries, dim, [&](std::span<const float> q) { return index.search(q, 10, allowed, {.ef = 64, .threads = 1}); });
      std::cout << nlohmann::json{{"engine", engine},
                                  {"filter_pct", 100 / every},
                                  {"param", "ef=64"},
                                  {"recall", recall_at(got, want)},
                                  {"qps", qps}}
                       .dump()
                << std::endl;
    }
  }
  return 0;
}

// queries/s at recall 0.95 along an engine's sweep: linear between the two points that
// straddle it (0 when no point reaches it).
double qps_at(std::vector<std::pair<double, double>> points, double recall) {
  std::sort(points.begin(), points.end());  // by recall
  double best = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].first >= recall) best = std::max(best, points[i].second);
    if (i > 0 && points[i - 1].first < recall && points[i].first >= recall) {
      const auto [r0, q0] = points[i - 1];
      const auto [r1, q1] = points[i];
      best = std::max(best, q0 + (q1 - q0) * (recall - r0) / (r1 - r0));
    }
  }
  return best;
}

int summary(int argc, char** argv) {
  const fs::path dir = arg(argc, argv, "--dir", "build/ann-data");
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  std::map<std::string, double> build_s, bytes;
  double filtered[2] = {0, 0}, exact_qps = 0;
  std::size_t n = 0, dim = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".jsonl") continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] != '{') continue;
      const auto j = nlohmann::json::parse(line);
      const std::string engine = j.at("engine");
      if (engine == "shopml exact") {
        exact_qps = j.at("qps");
        n = j.at("n");
        dim = j.at("dim");
        continue;
      }
      if (j.contains("filter_pct")) {
        if (engine == "shopml hnsw i8") filtered[j.at("filter_pct").get<int>() == 1 ? 0 : 1] = j.at("recall");
        continue;
      }
      curves[engine].push_back({j.at("recall"), j.at("qps")});
      if (j.contains("build_s")) build_s[engine] = j.at("build_s");
      if (j.contains("bytes_per_item")) bytes[engine] = j.at("bytes_per_item");
    }
  }
  const auto best_of = [&](const std::string& prefix) {
    double best = 0;
    for (const auto& [engine, points] : curves)
      if (engine.rfind(prefix, 0) == 0) best = std::max(best, qps_at(points, 0.95));
    return best;
  };
  std::cout << "queries/s at recall@10 = 0.95 (one thread, one query at a time; exact search: " << exact_qps << "):\n";
  for (const auto& [engine, points] : curves)
    std::cout << "  " << engine << ": " << qps_at(points, 0.95)
              << (build_s.count(engine) ? "  build " + std::to_string(build_s[engine]) + " s" : "") << '\n';
  const double shopml = best_of("shopml hnsw"), hnswlib = best_of("hnswlib"), faiss = best_of("faiss");
  std::map<std::string, double> max_recall;
  for (const auto& [engine, points] : curves)
    for (const auto& p : points) max_recall[engine] = std::max(max_recall[engine], p.first);
  double shopml_recall = 0;
  for (const auto& [engine, points] : curves)
    if (engine.rfind("shopml hnsw", 0) == 0) shopml_recall = std::max(shopml_recall, max_recall[engine]);
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  std::printf(
      "RESULT n=%zu dim=%zu recall_at_10=%.4f qps_1t=%.0f vs_hnswlib_qps_at_recall=%.2f vs_faiss_qps_at_recall=%.2f "
      "build_s_2t=%.1f "
      "bytes_per_item_int8=%.0f filtered_recall_at_10_1pct=%.4f filtered_recall_at_10_10pct=%.4f\n",
      n, dim, shopml_recall, shopml, ratio(shopml, hnswlib), ratio(shopml, faiss), build_s["shopml hnsw f32"],
      bytes["shopml hnsw i8"], filtered[0], filtered[1]);

  const char* colours[] = {"#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"};
  std::vector<example::series> lines;
  std::size_t c = 0;
  for (auto [engine, points] : curves) {
    std::sort(points.begin(), points.end());
    for (auto& p : points) p.second = std::log10(p.second);
    lines.push_back(
        {engine, colours[c++ % 8], points, true, engine.rfind("shopml", 0) != 0, engine.rfind("shopml", 0) == 0 ? 2.4 : 1.4});
  }
  example::write_svg_chart(arg(argc, argv, "--chart", (dir / "ann.svg").string()),
                           "recall@10 vs queries/s, " + std::to_string(n) + " x " + std::to_string(dim) + ", 1 thread",
                           "recall@10", "log10 queries/s", lines);
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "data") return make_data(argc, argv);
  if (command == "run") return run(argc, argv);
  if (command == "summary") return summary(argc, argv);
  std::cerr << "usage: ann_bench data|run|summary ... (see the comment at the top of bench/recommend/ann_bench.cpp)\n";
  return 2;
} catch (const std::exception& e) {
  std::cerr << "ann_bench: " << e.what() << '\n';
  return 1;
}
