// "Similar products" with no interaction data (cold start): each product of the shared
// women's-clothing reviews sample is described by the text of its reviews (the sample has
// no user ids, so collaborative filtering has nothing to work with), embedded with
// all-MiniLM-L6-v2 and searched by cosine with recommend::hnsw_index, the approximate
// index of large catalogues (int8 storage here), beside the exact recommend::embedding_index
// as ground truth: each list marks the neighbours the exact search also finds, then the
// same query restricted to the product's own department (a filter predicate), and the
// approximate index's recall@K over every product closes the run.
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
#include "shopml/recommend/hnsw_index.hpp"

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
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        field += text[++i];
      else if (c == '"')
        quoted = false;
      else
        field += c;
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
      if (arg == "--model")
        model_dir = value;
      else if (arg == "--csv")
        csv = value;
      else
        top = static_cast<std::size_t>(std::max(1L, std::atol(value.c_str())));
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
    if (f.size() != 11)
      throw shopml::parse_error("'" + csv + "' record " + std::to_string(r) + ": expected 11 fields, found " +
                                std::to_string(f.size()));
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
  const shopml::recommend::embedding_index<> index(
      std::span<const float>(embeddings.data(), static_cast<std::size_t>(embeddings.size())), model.dimension(),
      shopml::recommend::embedding_metric::cosine);
  using shopml::recommend::hnsw_index;
  hnsw_index<> approximate(model.dimension(),
                           {.M = 16, .ef_construction = 200, .storage = shopml::recommend::vector_storage::i8});
  std::vector<std::int32_t> ids(products.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(i);
  approximate.add(ids, std::span<const float>(embeddings.data(), static_cast<std::size_t>(embeddings.size())),
                  {.show_progress = std::nullopt});
  std::cout << "approximate index: " << approximate.size() << " products, int8 storage, " << std::fixed << std::setprecision(0)
            << approximate.bytes_per_item() << " bytes per product\n";

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

  const std::size_t k = std::min(top + 1, products.size());
  const auto print = [&](const shopml::recommend::knn_result& hits, std::size_t q, const shopml::recommend::knn_result& exact) {
    for (std::size_t i = 0; i < hits.k; ++i) {
      if (hits.ids_of(0)[i] < 0) continue;
      const auto j = static_cast<std::size_t>(hits.ids_of(0)[i]);
      if (j == q) continue;
      const auto& s = products[j];
      const auto e = exact.ids_of(0);
      const bool also_exact = std::find(e.begin(), e.end(), hits.ids_of(0)[i]) != e.end();
      std::cout << "  " << (also_exact ? ' ' : '*') << std::fixed << std::setprecision(3) << hits.scores_of(0)[i] << "  "
                << std::setw(5) << s.id << "  " << s.department << " / " << s.class_name << ": \"" << s.text.substr(0, 66)
                << "...\"\n";
    }
  };
  for (const std::size_t q : queries) {
    const auto& p = products[q];
    const auto query = index.vector(q);
    const auto exact = index.search(query, k);
    std::cout << "\nproduct " << p.id << " (" << p.department << " / " << p.class_name << ", " << p.reviews << " reviews): \""
              << p.text.substr(0, 80) << "...\"\n";
    print(approximate.search(query, k), q, exact);
    const auto same_department =
        approximate.filter([&](std::int32_t j) { return products[static_cast<std::size_t>(j)].department == p.department; });
    std::cout << " in " << p.department << " only (" << same_department.count() << " products):\n";
    std::vector<float> kept;
    std::vector<std::int32_t> kept_ids;
    for (std::size_t j = 0; j < products.size(); ++j)
      if (products[j].department == p.department) {
        const auto v = index.vector(j);
        kept.insert(kept.end(), v.begin(), v.end());
        kept_ids.push_back(static_cast<std::int32_t>(j));
      }
    auto exact_filtered =
        shopml::recommend::embedding_index<>(kept, model.dimension()).search(query, std::min(k, kept_ids.size()));
    for (auto& j : exact_filtered.ids) j = kept_ids[static_cast<std::size_t>(j)];
    print(approximate.search(query, k, same_department), q, exact_filtered);
  }
  // Recall of the approximate top-K against the exact one, every product a query.
  std::vector<float> all(embeddings.data(), embeddings.data() + embeddings.size());
  const auto exact_all = index.search(all, k), approximate_all = approximate.search(all, k);
  double found = 0;
  for (std::size_t q = 0; q < products.size(); ++q)
    for (const auto j : approximate_all.ids_of(q)) {
      const auto e = exact_all.ids_of(q);
      found += std::find(e.begin(), e.end(), j) != e.end();
    }
  std::cout << "\n(* = not in the exact top " << k << ") recall@" << k << " of the approximate index over all " << products.size()
            << " products: " << std::setprecision(4) << found / static_cast<double>(products.size() * k) << '\n';
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << '\n';
  return 1;
}
