#pragma once
// A progress report for long calls (sentence_encoder::encode of a corpus, ...): a user
// callback, and a one-line bar on stderr when stderr is a terminal.
//
//   shopml::progress_bar bar("encode", n_texts, show);   // show: nullopt = automatic
//   bar.advance(k);                                       // k more done (thread-safe)
//
// Automatic means: stderr is a terminal and the call has run for more than a second;
// short calls and redirected output stay silent. The bar is redrawn at most 10 times a
// second and ends with a newline when it was drawn.

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

namespace shopml {

// Called with (done, total) after each step of a long call; calls are serialised and
// `done` never decreases. It may run on a worker thread. An exception it throws stops
// the call and propagates from it.
using progress_callback = std::function<void(std::size_t done, std::size_t total)>;

inline bool stderr_is_terminal() {
#if defined(_WIN32)
  return _isatty(_fileno(stderr)) != 0;
#else
  return ::isatty(::fileno(stderr)) != 0;
#endif
}

class progress_bar {
 public:
  progress_bar(std::string what, std::size_t total, std::optional<bool> show = std::nullopt, progress_callback callback = {})
      : what_(std::move(what)),
        total_(total),
        bar_(show.value_or(true) && (show.has_value() || stderr_is_terminal())),
        automatic_(!show.has_value()),
        callback_(std::move(callback)),
        start_(clock::now()) {}
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;
  ~progress_bar() {
    if (drawn_) std::fputc('\n', stderr);
  }

  // `count` more steps are done.
  void advance(std::size_t count) {
    const std::lock_guard<std::mutex> hold(lock_);
    done_ += count;
    if (callback_) callback_(done_, total_);
    if (!bar_) return;
    const auto now = clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (automatic_ && elapsed < 1.0) return;
    if (drawn_ && done_ < total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    draw(elapsed);
  }

 private:
  using clock = std::chrono::steady_clock;

  void draw(double elapsed) {
    constexpr int width = 30;
    const double share = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
    const int filled = static_cast<int>(share * width);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>' + std::string(static_cast<std::size_t>(width - filled - 1), ' ');
    const double left = share > 0 ? elapsed / share - elapsed : 0.0;
    std::fprintf(stderr, "\r[shopml] %s %zu/%zu [%s] %3d%% %.1f s, ~%.0f s left ", what_.c_str(), done_, total_, bar.c_str(),
                 static_cast<int>(share * 100), elapsed, left);
    std::fflush(stderr);
    drawn_ = true;
  }

  std::string what_;
  std::size_t total_;
  bool bar_, automatic_;
  progress_callback callback_;
  clock::time_point start_, last_{};
  std::size_t done_ = 0;
  bool drawn_ = false;
  std::mutex lock_;
};

}  // namespace shopml
