#include <doctest/doctest.h>

#include <string>

#include "shopml/error.hpp"

TEST_CASE("errors carry their kind as a prefix and are catchable as shopml::error") {
  try {
    throw shopml::parse_error("tokenizer.json: missing field 'model'");
  } catch (const shopml::error& e) {
    CHECK(std::string(e.what()) == "[shopml.parse] tokenizer.json: missing field 'model'");
  }
  CHECK_THROWS_AS(throw shopml::shape_error("x"), std::runtime_error);
}
