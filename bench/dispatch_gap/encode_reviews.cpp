// Encodes N reviews of a CSV column, spread evenly over its rows, with a sentence encoder and
// prints one line: texts, encode seconds (loading excluded) and the ISA the kernels ran with.
// The consumer of bench/dispatch_gap.sh.
//
//   encode_reviews MODEL_DIR CSV COLUMN N THREADS
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <shopml/io/csv.hpp>
#include <shopml/isa.hpp>
#include <shopml/nn/sentence_encoder.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) try {
  if (argc != 6) {
    std::fprintf(stderr, "usage: encode_reviews MODEL_DIR CSV COLUMN N THREADS\n");
    return 2;
  }
  const auto table = shopml::io::read_csv(argv[2]);
  const std::size_t column = table.column(argv[3]);
  const std::size_t wanted = std::strtoul(argv[4], nullptr, 10);
  const int threads = std::atoi(argv[5]);
  if (wanted == 0 || wanted > table.rows.size())
    throw shopml::value_error("N must be in 1.." + std::to_string(table.rows.size()));
  // Every stride-th row, so that each product category of the file is in the sample.
  const std::size_t stride = table.rows.size() / wanted;
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < wanted; ++i) texts.push_back(table.rows[i * stride][column]);

  const auto model = shopml::nn::sentence_encoder<>::from_directory(argv[1]);
  const auto start = std::chrono::steady_clock::now();
  const auto embeddings = model.encode(texts, {.batch_size = 32, .threads = threads});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("texts=%zu dim=%td seconds=%.3f isa=%s\n", texts.size(), embeddings.cols(), seconds, shopml::kernel_isa());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
