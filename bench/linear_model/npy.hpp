#pragma once
// Reads the .npy files the peer benchmark shares with numpy: a 2-D little-endian
// float32 or float64 C-order array (format 1.0/2.0/3.0), e.g. cached embeddings.

#include <Eigen/Core>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "shopml/error.hpp"

namespace shopml_bench {

// The array as float32 (float64 files are converted), row-major.
inline Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> read_npy_f32(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw shopml::io_error("cannot open '" + path.string() + "'");
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw shopml::parse_error("'" + path.string() + "' is not a .npy file");
  std::uint32_t header_len = 0;
  if (magic[6] == 1) {
    std::uint16_t len16 = 0;
    in.read(reinterpret_cast<char*>(&len16), 2);
    header_len = len16;
  } else {
    in.read(reinterpret_cast<char*>(&header_len), 4);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (!in) throw shopml::parse_error("'" + path.string() + "': truncated .npy header");
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'<f([48])'")))
    throw shopml::parse_error("'" + path.string() + "': only little-endian float32/float64 arrays are supported: " + header);
  const int width = std::stoi(m[1]);
  if (!std::regex_search(header, std::regex("'fortran_order':\\s*False")))
    throw shopml::parse_error("'" + path.string() + "': Fortran-order arrays are not supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\((\\d+),\\s*(\\d+)\\)")))
    throw shopml::parse_error("'" + path.string() + "': not a 2-D array: " + header);
  const Eigen::Index rows = std::stoll(m[1]), cols = std::stoll(m[2]);
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> out(rows, cols);
  if (width == 4) {
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * 4));
  } else {
    std::vector<double> values(static_cast<std::size_t>(out.size()));
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * 8));
    for (std::size_t i = 0; i < values.size(); ++i) out.data()[i] = static_cast<float>(values[i]);
  }
  if (!in) throw shopml::parse_error("'" + path.string() + "': fewer values than the shape says");
  return out;
}

// One label per line.
inline std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw shopml::io_error("cannot open '" + path.string() + "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace shopml_bench
