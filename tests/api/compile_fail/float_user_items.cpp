// Must not compile: a float sparse matrix where the recommenders take csr_matrix (double).
// The build log must show shopml's message, not Eigen's YOU_MIXED_DIFFERENT_NUMERIC_TYPES.
#include <Eigen/SparseCore>

#include "shopml/recommend/item_item.hpp"

int main() {
  Eigen::SparseMatrix<float, Eigen::RowMajor> user_items(2, 2);
  auto cf = shopml::recommend::bm25_recommender(50);
  cf.fit(user_items);
}
