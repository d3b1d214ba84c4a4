#pragma once
// Saving and loading a matrix of embeddings (nn::embedding_matrix: row-major float,
// one row per text) in one call each, as a safetensors file with one F32 tensor
// "embeddings" of shape [rows, dimension]. Python reads it back with
//   safetensors.numpy.load_file("reviews.safetensors")["embeddings"]
// and a file written there with save_file({"embeddings": X}) loads here (F32, or F16,
// BF16 and F64 converted to float).
//
//   shopml::io::save_embeddings("reviews.safetensors", X, {{"model", "all-MiniLM-L6-v2"}});
//   shopml::nn::embedding_matrix X = shopml::io::load_embeddings("reviews.safetensors");

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/safetensors.hpp"

namespace shopml::io {

// The same type as nn::embedding_matrix (without including the encoder).
using embeddings_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline constexpr const char* embeddings_tensor_name = "embeddings";

// Writes `X` (any float matrix or block; column-major and strided ones are copied to rows
// first) as the tensor `name`, with `metadata` in the header; atomically, like save_safetensors.
inline void save_embeddings(const std::filesystem::path& path, const Eigen::Ref<const embeddings_matrix>& X,
                            const std::map<std::string, std::string>& metadata = {},
                            const std::string& name = embeddings_tensor_name) {
  const std::size_t rows = static_cast<std::size_t>(X.rows()), cols = static_cast<std::size_t>(X.cols());
  embeddings_matrix packed;
  const float* data = X.data();
  if (X.rows() > 1 && X.outerStride() != X.cols()) {  // a block of a wider matrix
    packed = X;
    data = packed.data();
  }
  const std::vector<tensor_view> tensors{tensor_view(name, {rows, cols}, std::span<const float>(data, rows * cols))};
  save_safetensors(path, tensors, metadata);
}

// The tensor `name` of the safetensors file at `path` as a row-major float matrix.
// io_error when the file cannot be opened; parse_error naming the file when it is not
// safetensors, has no such tensor (the message lists the tensors it has) or the tensor
// is not 2-D; value_error when its dtype has no float reading (F8).
inline embeddings_matrix load_embeddings(const std::filesystem::path& path, const std::string& name = embeddings_tensor_name) {
  const auto file = safetensors_file::open(path);
  if (!file.contains(name)) {
    std::string names;
    for (const auto& key : file.keys()) names += (names.empty() ? "'" : ", '") + key + "'";
    throw parse_error("'" + path.string() + "': no tensor named '" + name + "'; the file has " +
                      (names.empty() ? std::string("no tensors") : names));
  }
  const auto& info = file.info(name);
  if (info.shape.size() != 2) {
    std::string shape;
    for (std::size_t d : info.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    throw parse_error("'" + path.string() + "': tensor '" + name + "' has shape [" + shape + "], not [rows, dimension]");
  }
  const f32_tensor values = file.as_f32(name);
  embeddings_matrix X(static_cast<Eigen::Index>(info.shape[0]), static_cast<Eigen::Index>(info.shape[1]));
  if (values.size() != 0) std::copy(values.data(), values.data() + values.size(), X.data());
  return X;
}

}  // namespace shopml::io
