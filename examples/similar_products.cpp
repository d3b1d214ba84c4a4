// "Similar products" with no interaction data (cold start): each product of the shared
// women's-clothing reviews sample is described by the text of its reviews (the sample has
// no user ids, so collaborative filtering has nothing to work with), embedded with
// all-MiniLM-L6-v2 and searched exactly by cosine with recommend::embedding_index.
//
//   similar_products [--model DIR] [--csv FILE] [--top K] [CLOTHING_ID ...]
//
// Without ids, the five most reviewed products are shown.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "shopml/nn/sentence_encoder.hpp"
#include "shopml/recommend/embedding_index.hpp"

namespace {

// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw shopml::io_error("cannot open '" + path + "'");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += text[++i];
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (quoted) throw shopml::parse_error("'" + path + "': unterminated quoted field");
  if (!field.empty() || !rows.back().empty()) rows.back().push_back(field);
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

struct product {
  std::string id, department, class_name, text;
  int reviews = 0;
};

}  // namespace

int main(int argc, char** argv) try {
  std::string model_dir = SHOPML_MODEL_DIR, csv = std::string(SHOPML_DATA_DIR) + "/reviews-en/womens_clothing_reviews_sample.csv";
  std::size_t top = 5;
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--model" || arg == "--csv" || arg == "--top") && i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--model") model_dir = value;
      else if (arg == "--csv") csv = value;
      else top = static_cast<std::size_t>(std::max(1L, std::atol(value.c_str())));
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: similar_products [--model DIR] [--csv FILE] [--top K] [CLOTHING_ID ...]\n";
      return 0;
    } else {
      wanted.push_back(arg);
    }
  }

  // Columns: index, Clothing ID, Age, Title, Review Text, Rating, Recommended IND,
  // Positive Feedback Count, Division Name, Department Name, Class Name.
  const auto rows = read_csv(csv);
  std::map<std::string, product> by_id;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& f = rows[r];
    if (f.size() != 11) throw shopml::parse_error("'" + csv + "' record " + std::to_string(r) + ": expected 11 fields, found " + std::to_string(f.size()));
    product& p = by_id[f[1]];
    p.id = f[1];
    p.department = f[9];
    p.class_name = f[10];
    p.text += (p.text.empty() ? f[10] + ". " : std::string(" ")) + f[3] + (f[3].empty() ? "" : ". ") + f[4];
    ++p.reviews;
  }
  std::vector<product> products;
  for (auto& [id, p] : by_id) products.push_back(std::move(p));
  std::vector<std::string> texts;
  for (const auto& p : products) texts.push_back(p.text);

  std::cout << products.size() << " products from " << rows.size() - 1 << " reviews; embedding their review text...\n";
  const auto model = shopml::nn::sentence_encoder<>::from_directory(model_dir);
  const auto embeddings = model.encode(texts, {.batch_size = 16});
  const shopml::recommend::embedding_index<> index(std::span<const float>(embeddings.data(), static_cast<std::size_t>(embeddings.size())),
                                                   model.dimension(), shopml::recommend::embedding_metric::cosine);

  std::vector<std::size_t> queries;
  if (wanted.empty()) {
    std::vector<std::size_t> order(products.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return products[a].reviews > products[b].reviews; });
    queries.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(5, order.size())));
  }
  for (const auto& id : wanted) {
    const auto it = std::find_if(products.begin(), products.end(), [&](const product& p) { return p.id == id; });
    if (it == products.end()) throw shopml::value_error("no product with Clothing ID '" + id + "' in " + csv);
    queries.push_back(static_cast<std::size_t>(it - products.begin()));
  }

  for (const std::size_t q : queries) {
    const auto hits = index.search(index.vector(q), top + 1);
    const auto& p = products[q];
    std::cout << "\nproduct " << p.id << " (" << p.department << " / " << p.class_name << ", " << p.reviews << " reviews): \""
              << p.text.substr(0, 80) << "...\"\n";
    for (std::size_t i = 0; i < hits.k; ++i) {
      const auto j = static_cast<std::size_t>(hits.ids_of(0)[i]);
      if (j == q) continue;
      const auto& s = products[j];
      std::cout << "  " << std::fixed << std::setprecision(3) << hits.scores_of(0)[i] << "  " << std::setw(5) << s.id << "  "
                << s.department << " / " << s.class_name << ": \"" << s.text.substr(0, 70) << "...\"\n";
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << '\n';
  return 1;
}
