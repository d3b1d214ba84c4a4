// libFuzzer target: load a logistic-regression head from arbitrary bytes. Any input must
// either load into a usable model or throw a shopml::error; never crash, hang or leak.
//
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//     -I/usr/include/eigen3 fuzz/saved_head.cpp -o build/fuzz_saved_head
//   build/fuzz_saved_head fuzz/corpus/saved_head -max_total_time=60

#include "shopml/linear_model/saved_head.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace {

template <class Scalar, class Label>
void try_load(std::span<const std::byte> bytes) {
  try {
    const auto model = shopml::linear_model::load_head_from_bytes<Scalar, Label>(bytes, "fuzz");
    // A head that loads must also predict.
    const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X =
        Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>::Ones(2, model.n_features_in());
    (void)model.predict_proba(X);
    (void)model.predict(X);
  } catch (const shopml::error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try_load<float, std::string>(bytes);
  try_load<double, std::int64_t>(bytes);
  return 0;
}
