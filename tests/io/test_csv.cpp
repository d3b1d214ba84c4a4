#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "shopml/io/csv.hpp"

namespace io = shopml::io;
namespace fs = std::filesystem;

namespace {

using rows_t = std::vector<std::vector<std::string>>;

template <class Error>
std::string failure(const std::string& text, char delimiter = ',') {
  try {
    io::parse_csv(text, "t.csv", delimiter);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

fs::path write_temp(const std::string& name, const std::string& bytes) {
  const fs::path path = fs::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

}  // namespace

TEST_CASE("csv: header and rows, LF, CRLF, CR and no final line break") {
  for (const std::string eol : {"\n", "\r\n", "\r"}) {
    CAPTURE(eol.size());
    const auto t = io::parse_csv("cat,label,review" + eol + "书籍,1,好" + eol + "水果,0," + eol + ",,x");
    CHECK(t.header == std::vector<std::string>{"cat", "label", "review"});
    CHECK(t.rows == rows_t{{"书籍", "1", "好"}, {"水果", "0", ""}, {"", "", "x"}});
    CHECK(io::parse_csv("a,b" + eol + "1,2" + eol).rows == rows_t{{"1", "2"}});
  }
}

TEST_CASE("csv: quoted fields hold delimiters, doubled quotes and line breaks") {
  const auto t = io::parse_csv(
      "label,review\r\n"
      "1,\"soft, warm\"\r\n"
      "0,\"he said \"\"no\"\"\"\r\n"
      "1,\"two\nlines\r\nkept\"\r\n"
      "\"\",\"\"\n"
      "\"1\",\"\"\"\"\n");
  CHECK(t.header == std::vector<std::string>{"label", "review"});
  CHECK(t.rows == rows_t{{"1", "soft, warm"}, {"0", "he said \"no\""}, {"1", "two\nlines\r\nkept"}, {"", ""}, {"1", "\""}});
  // A quote inside an unquoted field is data, as Python's csv keeps it.
  CHECK(io::parse_csv("a,b\n5\" screen,ok\n").rows == rows_t{{"5\" screen", "ok"}});
  // Spaces are kept; a space before a quote makes the field unquoted.
  CHECK(io::parse_csv("a,b\n x , \"y\"\n").rows == rows_t{{" x ", " \"y\""}});
}

TEST_CASE("csv: a byte-order mark is dropped at the start of the text only") {
  const auto t = io::parse_csv(
      "\xEF\xBB\xBF"
      "label,review\n1,\xEF\xBB\xBF"
      "ok\n");
  CHECK(t.header == std::vector<std::string>{"label", "review"});
  CHECK(t.column("label") == 0);
  CHECK(t.rows == rows_t{{"1",
                          "\xEF\xBB\xBF"
                          "ok"}});
}

TEST_CASE("csv: empty lines are skipped, a one-column file keeps quoted empty values") {
  CHECK(io::parse_csv("a,b\n\n1,2\r\n\r\n\n3,4\n\n").rows == rows_t{{"1", "2"}, {"3", "4"}});
  CHECK(io::parse_csv("\n\na\n\"\"\nx\n").rows == rows_t{{""}, {"x"}});
  CHECK(io::parse_csv("a,b").rows.empty());
}

TEST_CASE("csv: other delimiters") {
  const auto t = io::parse_csv("label\treview\n1\t\"a\tb, c\"\n", "<memory>", '\t');
  CHECK(t.rows == rows_t{{"1", "a\tb, c"}});
  CHECK(io::parse_csv("a;b\n1;2,5\n", "<memory>", ';').rows == rows_t{{"1", "2,5"}});
  CHECK(contains(failure<shopml::value_error>("a\"b", '"'), "delimiter"));
}

TEST_CASE("csv: column() finds a header field or lists the header") {
  const auto t = io::parse_csv("cat,label,review\n");
  CHECK(t.column("review") == 2);
  CHECK(t.column("cat") == 0);
  try {
    (void)t.column("text");
    FAIL("no error");
  } catch (const shopml::value_error& e) {
    CHECK(std::string(e.what()) == "[shopml.value] csv: no column 'text'; the header has 'cat', 'label', 'review'");
  }
}

TEST_CASE("csv: parse errors name the source and the 1-based line") {
  // Wrong number of fields: the line where the record starts, counting line breaks inside quotes.
  CHECK(failure<shopml::parse_error>("a,b,c\n1,2,3\n4,5\n") ==
        "[shopml.parse] 't.csv' line 3: a record with 2 fields, the header has 3");
  CHECK(failure<shopml::parse_error>("a,b\r\n\"x\r\ny\",1\r\n\r\n1,2,3\r\n") ==
        "[shopml.parse] 't.csv' line 5: a record with 3 fields, the header has 2");
  CHECK(failure<shopml::parse_error>("a,b\n1\n") == "[shopml.parse] 't.csv' line 2: a record with 1 field, the header has 2");
  // Unterminated quote: the line where the quoted field opened.
  CHECK(failure<shopml::parse_error>("a,b\n1,2\n3,\"never\nclosed\n") ==
        "[shopml.parse] 't.csv' line 3: unterminated quoted field (the quote opened here never closes)");
  CHECK(contains(failure<shopml::parse_error>("a,b\n1,\"x\"y\n"),
                 "'t.csv' line 2: unexpected character 'y' after the closing quote"));
  CHECK(failure<shopml::parse_error>("") == "[shopml.parse] 't.csv' line 1: no header record (the text is empty)");
  CHECK(failure<shopml::parse_error>("\xEF\xBB\xBF\r\n\n") ==
        "[shopml.parse] 't.csv' line 1: no header record (the text is empty)");
  // parse_csv's default source name.
  try {
    io::parse_csv("a\n\"");
    FAIL("no error");
  } catch (const shopml::parse_error& e) {
    CHECK(std::string(e.what()) ==
          "[shopml.parse] '<memory>' line 2: unterminated quoted field (the quote opened here never closes)");
  }
}

TEST_CASE("csv: read_csv reads a file, io_error quotes the path and the system's reason") {
  const auto path = write_temp("shopml_test_csv.csv",
                               "\xEF\xBB\xBF"
                               "label,review\r\n1,\"a\r\nb\"\r\n");
  const auto t = io::read_csv(path);
  CHECK(t.rows == rows_t{{"1", "a\r\nb"}});
  fs::remove(path);
  const auto bad = write_temp("shopml_test_csv_bad.csv", "a,b\n1,2\n3\n");
  try {
    io::read_csv(bad);
    FAIL("no error");
  } catch (const shopml::parse_error& e) {
    CHECK(std::string(e.what()) == "[shopml.parse] '" + bad.string() + "' line 3: a record with 1 field, the header has 2");
  }
  fs::remove(bad);

  const fs::path missing = fs::temp_directory_path() / "shopml_no_such_dir" / "reviews.csv";
  try {
    io::read_csv(missing);
    FAIL("no error");
  } catch (const shopml::io_error& e) {
    CHECK(std::string(e.what()) == "[shopml.io] cannot open '" + missing.string() + "': No such file or directory");
  }
  try {
    io::read_csv(fs::temp_directory_path());
    FAIL("no error");
  } catch (const shopml::io_error& e) {
    CHECK(std::string(e.what()) == "[shopml.io] cannot open '" + fs::temp_directory_path().string() + "': Is a directory");
  }
}

TEST_CASE("csv: the real review corpora (reviews-zh), quickly") {
  const fs::path dir = fs::path(SHOPML_DATA_DIR) / "reviews-zh";
  if (!fs::exists(dir / "online_shopping_10_cats.csv")) {
    MESSAGE("skipped: no " << (dir / "online_shopping_10_cats.csv"));
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto shop = io::read_csv(dir / "online_shopping_10_cats.csv");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("online_shopping_10_cats.csv read in " << seconds << " s");
  CHECK(seconds < 1.0);
  CHECK(shop.header == std::vector<std::string>{"cat", "label", "review"});
  REQUIRE(shop.rows.size() == 62774);  // as PROVENANCE.md and Python's csv module count them
  std::size_t positive = 0, books = 0, with_bom = 0;
  for (const auto& row : shop.rows) {
    positive += row[shop.column("label")] == "1";
    books += row[0] == "书籍";
    with_bom += row[2].starts_with("\xEF\xBB\xBF");
  }
  CHECK(positive == 31728);
  CHECK(books == 3851);
  CHECK(with_bom == 20);  // reviews that start with a byte-order mark keep it (Python's csv agrees)
  CHECK(shop.rows[0][0] == "书籍");
  CHECK(
      shop.rows[0][2].starts_with("\xEF\xBB\xBF"
                                  "做父母一定要有刘墉这样的心态"));

  const auto waimai = io::read_csv(dir / "waimai_10k.csv");
  CHECK(waimai.header == std::vector<std::string>{"label", "review"});
  REQUIRE(waimai.rows.size() == 11987);
  std::size_t waimai_positive = 0;
  for (const auto& row : waimai.rows) waimai_positive += row[0] == "1";
  CHECK(waimai_positive == 4000);
  CHECK(waimai.rows[0][1] == "很快，好吃，味道足，量大");
}
