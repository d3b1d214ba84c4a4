#pragma once
// Writing a whole file so that readers never see half of it: the bytes go to a
// ".partial" file beside `path`, which is renamed into place once complete; on failure
// the partial file is removed and `path` is left as it was.

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

#include "shopml/error.hpp"
#include "shopml/io/open_file.hpp"

namespace shopml::io {

// `write` streams the contents (a file larger than memory need not be built in it first);
// an exception it throws leaves `path` as it was.
inline void write_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write) {
  auto partial = path;
  partial += ".partial";
  std::error_code ec;
  {
    errno = 0;
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw_io_error("cannot open", partial, errno, " for writing");
    try {
      write(out);
    } catch (...) {
      out.close();
      std::filesystem::remove(partial, ec);
      throw;
    }
    out.close();
    if (!out) {
      const int err = errno;
      std::filesystem::remove(partial, ec);
      throw_io_error("cannot write", partial, err);
    }
  }
  std::filesystem::rename(partial, path, ec);
  if (ec) {
    const std::string reason = ec.message();
    std::filesystem::remove(partial, ec);
    throw io_error("cannot move '" + partial.string() + "' to '" + path.string() + "': " + reason);
  }
}

inline void write_atomically(const std::filesystem::path& path, std::string_view bytes) {
  write_atomically(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace shopml::io
