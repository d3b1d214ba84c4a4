// sentence_encoder::encode with named options: the same numbers as the positional form,
// the progress callback, texts from any range, and the once-per-process ISA note.

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "shopml/isa.hpp"
#include "shopml/nn/sentence_encoder.hpp"

namespace {

const shopml::nn::sentence_encoder<>& model() {
  static const auto m = shopml::nn::sentence_encoder<>::from_directory(SHOPML_MODEL_DIR);
  return m;
}

std::vector<std::string> texts(std::size_t n) {
  const char* base[] = {"red cotton t-shirt", "blue denim jacket, slim fit", "wireless earbuds", "a mug",
                        "running shoes for trail and road, waterproof"};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(std::string(base[i % 5]) + " #" + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("encode options: named options give the positional form's numbers") {
  const auto t = texts(9);
  const auto named = model().encode(t, {.batch_size = 4, .normalize = true, .threads = 2});
  const auto tokens = model().tokenizer().encode_batch(t);
  const auto positional = model().embedder().encode_tokens(std::span(tokens), 4, true, 2);
  CHECK(named == positional);
  CHECK(named.rows() == 9);
  CHECK(std::abs(named.row(3).norm() - 1.0f) < 1e-5f);
  CHECK_THROWS_WITH_AS(model().encode(t, {.batch_size = 0}), doctest::Contains("batch_size must be positive"),
                       shopml::value_error);
}

TEST_CASE("encode options: texts as vector<string_view> and as a braced list") {
  const auto t = texts(3);
  const std::vector<std::string_view> views(t.begin(), t.end());
  const auto want = model().encode(t);
  CHECK(model().encode(views) == want);
  CHECK(model().encode({t[0], t[1], t[2]}) == want);
  CHECK(model().encode({"red cotton t-shirt #0"}).row(0) == want.row(0));
}

TEST_CASE("encode options: the progress callback sees every batch, in order, on one or many threads") {
  for (int threads : {1, 3}) {
    CAPTURE(threads);
    const auto t = texts(23);
    std::vector<std::size_t> done;
    std::size_t total = 0;
    const auto got = model().encode(t, {.batch_size = 5,
                                        .threads = threads,
                                        .progress =
                                            [&](std::size_t d, std::size_t n) {
                                              done.push_back(d);
                                              total = n;
                                            },
                                        .show_progress = false});
    CHECK(got.rows() == 23);
    CHECK(total == 23);
    REQUIRE(done.size() == 5);  // ceil(23 / 5) batches
    CHECK(std::is_sorted(done.begin(), done.end()));
    CHECK(done.back() == 23);
  }
}

TEST_CASE("encode options: an exception from the progress callback stops encode and propagates") {
  const auto t = texts(12);
  for (int threads : {1, 2}) {
    CHECK_THROWS_WITH_AS(model().encode(t, {.batch_size = 3,
                                            .threads = threads,
                                            .progress = [](std::size_t, std::size_t) { throw std::runtime_error("cancelled"); }}),
                         "cancelled", std::runtime_error);
  }
}

TEST_CASE("progress_bar: forced on, it draws on stderr and ends the line, the callback runs either way") {
  std::size_t calls = 0;
  {
    shopml::progress_bar bar("test", 4, true, [&](std::size_t, std::size_t) { ++calls; });
    bar.advance(1);
    bar.advance(3);
  }
  CHECK(calls == 2);
  shopml::progress_bar quiet("test", 4, false);
  quiet.advance(4);
}

TEST_CASE("ISA: with run-time dispatch (the default target) the kernels run the best ISA, so no note") {
  MESSAGE("kernels run with " << std::string(shopml::kernel_isa()) << ", best for this CPU: " << std::string(shopml::best_isa()));
#if defined(SHOPML_CPU_DISPATCH)
  CHECK(std::string(shopml::kernel_isa()) == shopml::best_isa());
  CHECK_FALSE(shopml::below_best_isa());
#endif
}

TEST_CASE("from_directory on a missing directory names it") {
  CHECK_THROWS_WITH_AS(shopml::nn::sentence_encoder<>::from_directory("/nonexistent/shopml-model"),
                       "[shopml.io] sentence_encoder: model directory '/nonexistent/shopml-model' does not exist",
                       shopml::io_error);
  CHECK_THROWS_WITH_AS(shopml::nn::sentence_embedder<>::from_directory("/nonexistent/shopml-model"),
                       "[shopml.io] sentence_embedder: model directory '/nonexistent/shopml-model' does not exist",
                       shopml::io_error);
}
