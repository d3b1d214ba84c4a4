// libFuzzer target for the CSV reader: any byte string either parses into a table whose
// every row has as many fields as the header, or throws shopml::parse_error; never a
// crash, a hang or an out-of-bounds read. A table that parses is written back with every
// field quoted and CRLF line ends, and must read back to the same table.
// The first byte is the delimiter when it is '\t', ';' or '|', else ','; the rest is the text.
//
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude fuzz/csv.cpp -o build/fuzz_csv
//   ./build/fuzz_csv -max_total_time=60 -max_len=4096 fuzz/corpus/csv

#include "shopml/io/csv.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void quote_into(std::string& out, const std::vector<std::string>& fields, char delimiter) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(delimiter);
    out.push_back('"');
    for (char c : fields[i]) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out += "\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const char first = static_cast<char>(data[0]);
  const char delimiter = first == '\t' || first == ';' || first == '|' ? first : ',';
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  shopml::io::csv_table table;
  try {
    table = shopml::io::parse_csv(text, "fuzz", delimiter);
  } catch (const shopml::parse_error&) {
    return 0;
  }
  if (table.header.empty()) std::abort();
  for (const auto& row : table.rows)
    if (row.size() != table.header.size()) std::abort();

  std::string again;
  quote_into(again, table.header, delimiter);
  for (const auto& row : table.rows) quote_into(again, row, delimiter);
  const auto back = shopml::io::parse_csv(again, "fuzz-again", delimiter);
  if (back.header != table.header || back.rows != table.rows) std::abort();
  return 0;
}
