#pragma once
// Opening and reading files with one wording for failures, everywhere in the library:
//   [shopml.io] cannot open '<path>': <the system's reason, strerror>
// (and "cannot read" / "cannot open '<path>' for writing" the same way).

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "shopml/error.hpp"

namespace shopml::io {

// io_error "<action> '<path>': <strerror(err)>"; err 0 (a stream that set no errno)
// reads "unknown reason".
[[noreturn]] inline void throw_io_error(std::string_view action, const std::filesystem::path& path, int err,
                                        std::string_view after_path = "") {
  throw io_error(std::string(action) + " '" + path.string() + "'" + std::string(after_path) + ": " +
                 (err ? std::strerror(err) : "unknown reason"));
}

// An input stream on `path`; io_error "cannot open '<path>': <reason>" when it cannot be
// opened or is a directory (which std::ifstream would open and then read as empty).
inline std::ifstream open_input(const std::filesystem::path& path, std::ios::openmode mode = std::ios::binary) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_io_error("cannot open", path, EISDIR);
  errno = 0;
  std::ifstream in(path, mode | std::ios::in);
  if (!in) {
    int err = errno;
    if (!err && !std::filesystem::exists(path, ec)) err = ENOENT;
    throw_io_error("cannot open", path, err);
  }
  return in;
}

// The whole file at `path`, as bytes.
inline std::string read_file(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw_io_error("cannot open", path, errno);
  std::string text;
  std::error_code ec;  // one allocation for a regular file (a directory opens, then fails to read)
  if (const auto size = std::filesystem::file_size(path, ec); !ec) text.reserve(static_cast<std::size_t>(size));
  char buffer[1 << 16];
  for (;;) {
    const std::size_t got = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, got);
    if (got < sizeof buffer) {
      if (std::ferror(file.get())) throw_io_error("cannot open", path, errno ? errno : EIO);  // a directory: EISDIR
      break;
    }
  }
  return text;
}

}  // namespace shopml::io
