#pragma once
// Reading labelled text files: CSV as RFC 4180 writes it, and as spreadsheets and pandas
// export it.
//
//   const auto csv = shopml::io::read_csv("reviews.csv");
//   const std::size_t review = csv.column("review");
//   for (const auto& row : csv.rows) use(row[review]);
//
// What the parser accepts:
// - the first record is the header; every later record must have as many fields
//   (parse_error naming the source and the 1-based line where the record starts);
// - records end at LF, CRLF or a lone CR; the last one may end without a line break;
//   empty lines (no character at all) are skipped, as pandas does;
// - a field that starts with '"' is quoted: it ends at the next '"' that is not doubled,
//   holds the delimiter, line breaks (kept as they are, CRLF included) and '""' (read
//   as one '"'); after the closing quote only the delimiter or the end of the record
//   may follow (parse_error otherwise), and a quote that never closes is a parse_error
//   naming the line where the field began;
// - a '"' inside an unquoted field is kept as it is (as Python's csv and pandas do);
// - a UTF-8 byte-order mark at the very start of the text is dropped; anywhere else it
//   is data and stays. Fields are bytes: no decoding, no trimming of spaces.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/open_file.hpp"

namespace shopml::io {

struct csv_table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  // The index of the first header field equal to `name`; value_error listing the
  // header when there is none.
  std::size_t column(std::string_view name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    std::string names;
    for (std::size_t i = 0; i < header.size(); ++i) names += (i ? ", '" : "'") + header[i] + "'";
    throw value_error("csv: no column '" + std::string(name) + "'; the header has " +
                      (header.empty() ? std::string("no columns") : names));
  }
};

namespace detail {

// One record at `pos` of `text`: its fields in `fields`, `pos` just past its line
// break, `line` the 1-based line the next record starts on.
class csv_parser {
 public:
  csv_parser(std::string_view text, const std::string& source, char delimiter) : text_(text), source_(source), delim_(delimiter) {
    if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
      throw value_error("csv: the delimiter cannot be a quote or a line break");
    if (text_.starts_with("\xEF\xBB\xBF")) text_.remove_prefix(3);
  }

  // False at the end of the text; otherwise fills `fields` with the next non-empty record.
  bool next(std::vector<std::string>& fields, std::size_t& record_line) {
    skip_empty_lines();
    if (pos_ >= text_.size()) return false;
    record_line = line_;
    fields.clear();
    for (;;) {
      fields.emplace_back();
      std::string& field = fields.back();
      if (pos_ < text_.size() && text_[pos_] == '"')
        quoted(field);
      else
        unquoted(field);
      if (pos_ >= text_.size()) return true;
      const char c = text_[pos_];
      if (c == delim_) {
        ++pos_;
        continue;
      }
      end_of_line();  // c is '\n' or '\r'
      return true;
    }
  }

  [[noreturn]] void fail(std::size_t line, const std::string& why) const {
    throw parse_error("'" + source_ + "' line " + std::to_string(line) + ": " + why);
  }

 private:
  void skip_empty_lines() {
    while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) end_of_line();
  }

  // At '\n' or '\r': steps over LF, CRLF or CR and counts one line.
  void end_of_line() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  void unquoted(std::string& field) {
    const std::size_t start = pos_;
    const char* p = text_.data();
    std::size_t i = pos_;
    const std::size_t n = text_.size();
    while (i < n) {
      const char c = p[i];
      if (c == delim_ || c == '\n' || c == '\r') break;
      ++i;
    }
    field.assign(p + start, i - start);
    pos_ = i;
  }

  void quoted(std::string& field) {
    const std::size_t open_line = line_;
    ++pos_;  // the opening quote
    for (;;) {
      const std::size_t close = text_.find('"', pos_);
      if (close == std::string_view::npos) fail(open_line, "unterminated quoted field (the quote opened here never closes)");
      const std::string_view chunk = text_.substr(pos_, close - pos_);
      for (std::size_t i = 0; i < chunk.size(); ++i)  // line breaks inside the field: \n, \r\n or a lone \r
        if (chunk[i] == '\n' || (chunk[i] == '\r' && (i + 1 >= chunk.size() || chunk[i + 1] != '\n'))) ++line_;
      field.append(chunk);
      pos_ = close + 1;
      if (pos_ < text_.size() && text_[pos_] == '"') {  // "" is one quote
        field.push_back('"');
        ++pos_;
        continue;
      }
      break;
    }
    if (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != delim_ && c != '\n' && c != '\r')
        fail(line_, std::string("unexpected character '") + c + "' after the closing quote of a field");
    }
  }

  std::string_view text_;
  const std::string& source_;
  char delim_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace detail

// Parses CSV `text` (see the header comment). `source` names it in errors (a file name).
inline csv_table parse_csv(std::string_view text, const std::string& source = "<memory>", char delimiter = ',') {
  detail::csv_parser parser(text, source, delimiter);
  csv_table table;
  std::size_t line = 1;
  if (!parser.next(table.header, line)) parser.fail(1, "no header record (the text is empty)");
  std::vector<std::string> fields;
  fields.reserve(table.header.size());
  while (parser.next(fields, line)) {
    if (fields.size() != table.header.size())
      parser.fail(line, "a record with " + std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s") +
                            ", the header has " + std::to_string(table.header.size()));
    table.rows.push_back(std::move(fields));
    fields = {};
    fields.reserve(table.header.size());
  }
  return table;
}

// Reads and parses the CSV file at `path`; io_error quoting the path and the system's
// reason when it cannot be read, parse_error naming it and the line otherwise.
inline csv_table read_csv(const std::filesystem::path& path, char delimiter = ',') {
  return parse_csv(read_file(path), path.string(), delimiter);
}

}  // namespace shopml::io
