// Nearest neighbours among product titles by all-MiniLM-L6-v2 sentence embeddings.
//
//   similar_titles [--model DIR] [--file TITLES.txt] [--top K] [QUERY ...]
//
// The catalogue is TITLES.txt (one title per line) or, by default, the 1,682 MovieLens
// item titles of the shared data. Each QUERY (by default a few catalogue titles) is
// embedded and its K most similar catalogue titles are printed with their cosine.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "shopml/nn/sentence_encoder.hpp"

namespace {

// MovieLens u.item is '|'-separated Latin-1; the title is the second field.
std::vector<std::string> movielens_titles(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw shopml::io_error("cannot open '" + path + "'");
  std::vector<std::string> titles;
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find('|'), b = line.find('|', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string utf8;
    for (unsigned char c : line.substr(a + 1, b - a - 1)) {
      if (c < 0x80) {
        utf8 += static_cast<char>(c);
      } else {
        utf8 += static_cast<char>(0xc0 | (c >> 6));
        utf8 += static_cast<char>(0x80 | (c & 0x3f));
      }
    }
    titles.push_back(utf8);
  }
  return titles;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw shopml::io_error("cannot open '" + path + "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string model_dir = SHOPML_MODEL_DIR, file;
  std::size_t top = 5;
  std::vector<std::string> queries;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--model" || arg == "--file" || arg == "--top") && i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--model")
        model_dir = value;
      else if (arg == "--file")
        file = value;
      else
        top = static_cast<std::size_t>(std::max(1L, std::atol(value.c_str())));
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: similar_titles [--model DIR] [--file TITLES.txt] [--top K] [QUERY ...]\n";
      return 0;
    } else {
      queries.push_back(arg);
    }
  }
  const auto catalogue =
      file.empty() ? movielens_titles(std::string(SHOPML_DATA_DIR) + "/movielens-100k/u.item") : lines_of(file);
  if (catalogue.empty()) throw shopml::value_error("the catalogue is empty");
  if (queries.empty())
    for (std::size_t i : {0, 49, 55, 120, 171}) queries.push_back(catalogue[i % catalogue.size()]);

  const auto model = shopml::nn::sentence_encoder<>::from_directory(model_dir);
  const auto items = model.encode(catalogue, {.normalize = true});
  const auto asked = model.encode(queries, {.normalize = true});
  const Eigen::MatrixXf scores = asked * items.transpose();  // cosines: rows are unit length

  std::cout << "catalogue: " << catalogue.size() << " titles, " << model.dimension() << "-d embeddings\n";
  for (Eigen::Index q = 0; q < scores.rows(); ++q) {
    std::vector<std::size_t> order(catalogue.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const std::size_t k = std::min(top + 1, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        return scores(q, static_cast<Eigen::Index>(a)) > scores(q, static_cast<Eigen::Index>(b));
                      });
    std::cout << "\n" << queries[static_cast<std::size_t>(q)] << "\n";
    std::size_t shown = 0;
    for (std::size_t r = 0; r < k && shown < top; ++r) {
      if (catalogue[order[r]] == queries[static_cast<std::size_t>(q)]) continue;  // the query itself
      std::cout << "  " << std::fixed << std::setprecision(3) << scores(q, static_cast<Eigen::Index>(order[r])) << "  "
                << catalogue[order[r]] << "\n";
      ++shown;
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "similar_titles: " << e.what() << "\n";
  return 1;
}
