// Saving and loading logistic-regression heads (safetensors + validated metadata).

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "golden.hpp"
#include "shopml/linear_model/saved_head.hpp"

namespace lm = shopml::linear_model;

namespace golden = shopml::test::golden;

namespace {

template <class Scalar, class Label>
lm::logistic_regression<Scalar, Label> fitted(const std::string& features, const std::string& labels) {
  const auto X = golden::get().X(features).cast<Scalar>().eval();
  const auto y = golden::labels<Label>(labels);
  lm::logistic_regression<Scalar, Label> model({.C = 0.5});
  model.fit(X, std::span<const Label>(y));
  return model;
}

// A head file's bytes with its JSON header edited by `edit`.
std::vector<std::byte> with_header(const std::vector<std::byte>& bytes, const std::function<void(nlohmann::json&)>& edit) {
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  auto header = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(bytes.data()) + 8, n));
  edit(header);
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<std::byte> out(8 + text.size());
  const std::uint64_t len = text.size();
  std::memcpy(out.data(), &len, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  out.insert(out.end(), bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n), bytes.end());
  return out;
}

}  // namespace

TEST_CASE("a saved head reloads with identical predictions (string labels, float32, multinomial)") {
  const auto model = fitted<float, std::string>("shop_X", "shop_category");
  const auto path = std::filesystem::temp_directory_path() / "shopml_test_head.safetensors";
  lm::save_head(model, path);
  const auto loaded = lm::load_head<float, std::string>(path);
  std::filesystem::remove(path);
  const auto X = golden::get().X("shop_X").cast<float>().eval();
  CHECK(loaded.classes() == model.classes());
  CHECK(loaded.coef() == model.coef());
  CHECK(loaded.intercept() == model.intercept());
  CHECK(loaded.predict(X) == model.predict(X));
  CHECK(loaded.predict_proba(X) == model.predict_proba(X));
  CHECK(loaded.get_params().C == 0.5);
  CHECK(loaded.n_iter() == model.n_iter());
}

TEST_CASE("integer labels, float64, binary, a float64 head loads as float32") {
  const auto model = fitted<double, std::int64_t>("en_X", "en_sentiment");
  const auto bytes = lm::head_to_bytes(model);
  const auto same = lm::load_head_from_bytes<double, std::int64_t>(bytes);
  CHECK(same.coef() == model.coef());
  const auto X = golden::get().X("en_X");
  CHECK(same.predict(X) == model.predict(X));
  const auto narrowed = lm::load_head_from_bytes<float, std::int64_t>(bytes);
  CHECK((narrowed.coef().cast<double>() - model.coef()).norm() <= 1e-6 * model.coef().norm());
  const auto as_int = lm::load_head_from_bytes<double, int>(bytes);
  CHECK(as_int.classes() == std::vector<int>{0, 1});
}

TEST_CASE("corrupt or mismatched head files raise parse_error naming the field") {
  const auto model = fitted<double, std::int64_t>("en_X", "en_sentiment");
  const auto bytes = lm::head_to_bytes(model);
  auto load = [](const std::vector<std::byte>& b) { return lm::load_head_from_bytes<double, std::int64_t>(b, "head.st"); };
  auto rejects = [&](const std::vector<std::byte>& b, const char* needle) {
    CAPTURE(needle);
    CHECK_THROWS_WITH_AS(load(b), doctest::Contains(needle), shopml::parse_error);
  };

  CHECK_THROWS_WITH_AS((lm::load_head_from_bytes<double, std::string>(bytes)), doctest::Contains("int64"), shopml::parse_error);
  CHECK_THROWS_AS(load(std::vector<std::byte>(bytes.begin(), bytes.begin() + 40)), shopml::parse_error);
  CHECK_THROWS_AS(load(std::vector<std::byte>(bytes.begin(), bytes.end() - 8)), shopml::parse_error);
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"]["format"] = "other"; }), "format");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"]["format_version"] = "2"; }), "format_version");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"].erase("classes"); }), "classes");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"]["classes"] = "[1, 0]"; }), "sorted");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"]["classes"] = "[0, 1, 2]"; }), "coef");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"]["classes"] = "[0,"; }), "JSON");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"]["n_features"] = "383"; }), "shape");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"]["C"] = "-1"; }), "C must be");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"]["scalar"] = "int8"; }), "scalar");
  rejects(with_header(bytes, [](auto& h) { h["__metadata__"].erase("converged"); }), "converged");

  // A NaN coefficient.
  auto nan_bytes = bytes;
  const auto file = shopml::io::safetensors_file::from_bytes(bytes);
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  const std::size_t offset = 8 + header_len + file.info("coef").begin;
  const double nan = std::nan("");
  std::memcpy(nan_bytes.data() + offset, &nan, sizeof nan);
  rejects(nan_bytes, "not finite");
}

TEST_CASE("head metadata: C and tol round-trip exactly, +inf included, and NaN is refused") {
  const auto model = fitted<double, std::int64_t>("en_X", "en_sentiment");
  const auto bytes = lm::head_to_bytes(model);
  auto load = [](const std::vector<std::byte>& b) { return lm::load_head_from_bytes<double, std::int64_t>(b, "head.st"); };
  // +inf is a valid C (no penalty) and tol: it is written "inf" and read back as +inf.
  const auto unpenalised = load(with_header(bytes, [](auto& h) {
    h["__metadata__"]["C"] = "inf";
    h["__metadata__"]["tol"] = "inf";
  }));
  CHECK(unpenalised.get_params().C == std::numeric_limits<double>::infinity());
  CHECK(unpenalised.get_params().tol == std::numeric_limits<double>::infinity());
  const auto again = shopml::io::safetensors_file::from_bytes(lm::head_to_bytes(unpenalised));
  CHECK(again.metadata().at("C") == "inf");
  CHECK(load(lm::head_to_bytes(unpenalised)).get_params().C == std::numeric_limits<double>::infinity());
  // Finite values: the shortest text that reads back bit for bit.
  CHECK(shopml::io::safetensors_file::from_bytes(bytes).metadata().at("C") == "0.5");
  // -inf is read, then refused by the head's own rule; NaN is never stored.
  CHECK_THROWS_WITH_AS(load(with_header(bytes, [](auto& h) { h["__metadata__"]["C"] = "-inf"; })),
                       doctest::Contains("C must be > 0"), shopml::parse_error);
  CHECK_THROWS_WITH_AS(load(with_header(bytes, [](auto& h) { h["__metadata__"]["tol"] = "nan"; })),
                       "[shopml.parse] 'head.st': not a valid shopml.logistic_regression head: metadata 'tol' = 'nan' is NaN, "
                       "which a saved file cannot hold",
                       shopml::parse_error);
}
