// Texts -> sentence embeddings throughput of nn::sentence_encoder, the shopml side of
// bench/peers/encoder.sh. Prints one JSON line (wall-clock seconds per run, and the process's
// CPU seconds per run, which at one thread hardly depend on what else runs on the machine);
// --out writes the embeddings (float32 little-endian [texts × dim]) so the script can check
// them against the reference.
//
//   encoder_throughput --model DIR --texts FILE [--threads N] [--batch B] [--runs R] [--out FILE]
//                      [--precision fp32|bf16|int8]

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "shopml/nn/sentence_encoder.hpp"

int main(int argc, char** argv) try {
  std::string model_dir = SHOPML_MODEL_DIR, texts_file, out_file;
  int threads = 1, runs = 3;
  std::size_t batch = 32;
  shopml::nn::precision precision = shopml::nn::precision::fp32;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--model")
      model_dir = value;
    else if (key == "--texts")
      texts_file = value;
    else if (key == "--threads")
      threads = std::atoi(value.c_str());
    else if (key == "--batch")
      batch = static_cast<std::size_t>(std::atol(value.c_str()));
    else if (key == "--runs")
      runs = std::max(1, std::atoi(value.c_str()));
    else if (key == "--out")
      out_file = value;
    else if (key == "--precision" && (value == "fp32" || value == "bf16" || value == "int8"))
      precision = value == "bf16"   ? shopml::nn::precision::bf16
                  : value == "int8" ? shopml::nn::precision::int8
                                    : shopml::nn::precision::fp32;
    else
      throw shopml::value_error("unknown option " + key);
  }
  std::ifstream in(texts_file);
  if (!in) throw shopml::io_error("cannot open --texts '" + texts_file + "'");
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);) texts.push_back(line);

  const auto model = shopml::nn::sentence_encoder<>::from_directory(model_dir, {.precision = precision});
  const auto cpu_seconds_now = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  };
  std::vector<double> seconds, cpu_seconds;
  shopml::nn::embedding_matrix embeddings;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds_now();
    embeddings = model.encode(texts, {.batch_size = batch, .threads = threads});
    cpu_seconds.push_back(cpu_seconds_now() - cpu_start);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  if (!out_file.empty()) {
    std::ofstream out(out_file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(embeddings.data()), static_cast<std::streamsize>(embeddings.size() * sizeof(float)));
  }
  std::printf("{\"engine\": \"shopml\", \"precision\": \"%s\", \"threads\": %d, \"batch\": %zu, \"texts\": %zu, \"runs\": [",
              shopml::nn::to_string(precision), threads, batch, texts.size());
  for (std::size_t r = 0; r < seconds.size(); ++r) std::printf("%s%.4f", r ? ", " : "", seconds[r]);
  std::printf("], \"cpu_runs\": [");
  for (std::size_t r = 0; r < cpu_seconds.size(); ++r) std::printf("%s%.4f", r ? ", " : "", cpu_seconds[r]);
  // The instruction set the dense layers ran: AMX tiles for bf16 where the CPU has them, the
  // int8 GEMM's road (amx_int8, avx2_int8) for int8, else the fp32 kernels' ISA.
  const char* isa =
      precision == shopml::nn::precision::bf16 && shopml::simd::bf16::amx_bf16_usable() ? "amx_bf16"
      : precision == shopml::nn::precision::int8 && shopml::simd::int8::best_road() != shopml::simd::int8::road::fp32
          ? shopml::simd::int8::road_name(shopml::simd::int8::best_road())
          : shopml::simd::active_arch_name();
  std::printf("], \"median_s\": %.4f, \"texts_per_s\": %.2f, \"peak_rss_mb\": %.1f, \"isa\": \"%s\"}\n", median,
              static_cast<double>(texts.size()) / median, static_cast<double>(usage.ru_maxrss) / 1024.0, isa);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "encoder_throughput: " << e.what() << "\n";
  return 1;
}
