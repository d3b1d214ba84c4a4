#pragma once
// The message of the exception a test expects, for comparing whole wordings.

#include <exception>
#include <string>

// What `fn` throws as an Error; "another exception: <what>" for any other std::exception,
// "no exception" when it returns.
template <class Error, class Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("another exception: ") + e.what();
  }
  return "no exception";
}
