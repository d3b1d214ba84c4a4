// Item-item recommendations on MovieLens-100k: similar movies, recommendations for a few
// users, and offline evaluation (precision, MAP, NDCG, AUC, recall, hit rate, coverage at 10)
// on a per-user random split and a leave-last-out split by timestamp.
//
//   movielens_recommend [--data DIR] [--model cosine|tfidf|bm25] [--K NEIGHBOURS] [--user ID ...]

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "shopml/recommend/evaluation.hpp"
#include "shopml/recommend/item_item.hpp"
#include "shopml/recommend/split.hpp"

using namespace shopml;
using namespace shopml::recommend;

namespace {

// u.item: "id|title|release date|...", Latin-1; titles by MovieLens id, as UTF-8.
std::vector<std::string> titles(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("cannot open '" + path + "'");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find('|'), b = line.find('|', a + 1);
    if (a == std::string::npos || b == std::string::npos) throw parse_error("'" + path + "': no title in '" + line + "'");
    const auto id = static_cast<std::size_t>(std::stoul(line.substr(0, a)));
    if (out.size() <= id) out.resize(id + 1);
    for (unsigned char c : line.substr(a + 1, b - a - 1)) {
      if (c < 0x80) {
        out[id] += static_cast<char>(c);
      } else {
        out[id] += static_cast<char>(0xc0 | (c >> 6));
        out[id] += static_cast<char>(0x80 | (c & 0x3f));
      }
    }
  }
  return out;
}

void print_metrics(const std::string& name, const recommend::ranking_metrics& m) {
  std::cout << std::fixed << std::setprecision(4) << "  " << std::left << std::setw(16) << name << std::right << " precision "
            << m.precision << "  map " << m.map << "  ndcg " << m.ndcg << "  auc " << m.auc << "  recall " << m.recall
            << "  hit rate " << m.hit_rate << "  coverage " << m.coverage << "  (" << m.users << " users)\n";
}

}  // namespace

int main(int argc, char** argv) try {
  std::string data = std::string(SHOPML_DATA_DIR) + "/movielens-100k", measure = "bm25";
  std::int32_t K = 50;
  std::vector<std::string> users;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--data" || arg == "--model" || arg == "--K" || arg == "--user") && i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--data")
        data = value;
      else if (arg == "--model")
        measure = value;
      else if (arg == "--K")
        K = std::atoi(value.c_str());
      else
        users.push_back(value);
    } else {
      std::cout << "usage: movielens_recommend [--data DIR] [--model cosine|tfidf|bm25] [--K NEIGHBOURS] [--user ID ...]\n";
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (users.empty()) users = {"1", "42", "500"};

  const auto log = read_interactions(data + "/u.data", '\t', /*header=*/false);
  const auto title = titles(data + "/u.item");
  const auto title_of = [&](std::int32_t item) { return title.at(std::stoul(log.items().id(item))); };
  const csr_matrix user_items = log.user_items();
  std::cout << "MovieLens-100k: " << log.n_users() << " users, " << log.n_items() << " movies, " << user_items.nonZeros()
            << " ratings; model " << measure << ", K = " << K << "\n";

  item_item_recommender model({.measure = similarity_measure_from_string(measure), .K = K});
  model.fit(user_items);

  for (const std::string movie : {"1", "50", "127"}) {  // Toy Story, Star Wars, The Godfather
    const std::int32_t item = log.items().index(movie);
    std::cout << "\nmovies similar to " << title_of(item) << ":\n";
    for (const auto& s : model.similar_items(item, 6))
      if (s.index != item)
        std::cout << "  " << std::fixed << std::setprecision(3) << s.score << "  " << title_of(s.index) << "\n";
  }
  for (const auto& id : users) {
    const std::int32_t user = log.users().index(id);
    std::cout << "\nuser " << id << " rated " << user_items.outerIndexPtr()[user + 1] - user_items.outerIndexPtr()[user]
              << " movies; recommended:\n";
    for (const auto& s : model.recommend(user, user_items, {.N = 5}))
      std::cout << "  " << std::fixed << std::setprecision(2) << s.score << "  " << title_of(s.index) << "\n";
  }

  std::cout << "\nevaluation at 10 (training items filtered):\n";
  const auto random = per_user_split(user_items, 0.8, 42);
  const auto last = leave_last_out(log.records(), log.n_users(), log.n_items());
  for (const std::string m : {"cosine", "tfidf", "bm25"}) {
    item_item_recommender candidate({.measure = similarity_measure_from_string(m), .K = K});
    print_metrics(m + " random 80/20",
                  recommend::ranking_metrics_at_k(candidate.fit(random.train), random.train, random.test, 10));
    print_metrics(m + " leave-last-out", recommend::ranking_metrics_at_k(candidate.fit(last.train), last.train, last.test, 10));
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << '\n';
  return 1;
}
