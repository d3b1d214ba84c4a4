#pragma once
// Where the library's warnings go: by default one "[shopml.warning] ..." line on stderr;
// set_log_callback routes them to the application's logger instead (an empty callback
// silences them). Warnings say something the caller may want to act on (e.g. most of
// the training texts' tokens are [UNK]); errors are exceptions, never log lines.

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

namespace shopml {

using log_callback = std::function<void(const std::string& message)>;

namespace detail {
struct log_sink {
  std::mutex lock;
  bool custom = false;
  log_callback callback;
};
inline log_sink& log_state() {
  static log_sink sink;
  return sink;
}
}  // namespace detail

// Routes warnings to `callback` (called under a lock, so never concurrently).
inline void set_log_callback(log_callback callback) {
  auto& s = detail::log_state();
  const std::lock_guard<std::mutex> hold(s.lock);
  s.custom = true;
  s.callback = std::move(callback);
}

inline void log_warning(const std::string& message) {
  auto& s = detail::log_state();
  const std::lock_guard<std::mutex> hold(s.lock);
  if (!s.custom)
    std::fprintf(stderr, "[shopml.warning] %s\n", message.c_str());
  else if (s.callback)
    s.callback(message);
}

}  // namespace shopml
