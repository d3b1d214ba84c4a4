// Unit tests of the tokenizer pieces and of bad input.

#include <doctest/doctest.h>

#include <filesystem>

#include "shopml/tokenize/tokenizer.hpp"

namespace tk = shopml::tokenize;

TEST_CASE("utf8: invalid input is rejected with its byte offset") {
  CHECK(tk::utf8::find_invalid("abc") == std::string_view::npos);
  CHECK(tk::utf8::find_invalid("ab\xC3") == 2);
  CHECK(tk::utf8::find_invalid("\xED\xA0\x80") == 0);  // a lone surrogate, CESU style
  CHECK(tk::utf8::find_invalid("a\xC0\xAF") == 1);     // overlong '/'
  CHECK(tk::utf8::find_invalid("\xF4\x90\x80\x80") == 0);
  CHECK_THROWS_AS(tk::utf8::validate("ok\xFF"), shopml::value_error);
}
