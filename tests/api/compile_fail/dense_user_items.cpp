// Must not compile: a dense matrix where the recommenders take a sparse csr_matrix.
#include <Eigen/Core>

#include "shopml/recommend/item_item.hpp"

int main() {
  Eigen::MatrixXd user_items(2, 2);
  auto cf = shopml::recommend::bm25_recommender(50);
  cf.fit(user_items);
}
