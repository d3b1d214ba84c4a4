#pragma once
// One exception hierarchy for the whole library. Every message starts with
// "[shopml.<kind>]" so logs can be grepped, then names the file, tensor, line or
// id at fault.

#include <stdexcept>
#include <string>
#include <utility>

namespace shopml {

class error : public std::runtime_error {
 public:
  error(const char* kind, const std::string& what) : std::runtime_error(std::string("[shopml.") + kind + "] " + what) {}
};

// A file or buffer that does not follow its format (tokenizer.json, safetensors, saved heads).
class parse_error : public error {
 public:
  explicit parse_error(const std::string& what) : error("parse", what) {}
};

// Tensor or matrix dimensions that do not fit together.
class shape_error : public error {
 public:
  explicit shape_error(const std::string& what) : error("shape", what) {}
};

// A file that cannot be opened, mapped or written.
class io_error : public error {
 public:
  explicit io_error(const std::string& what) : error("io", what) {}
};

// A value the caller passed that the operation cannot accept (NaN feature, unknown id, k = 0, ...).
class value_error : public error {
 public:
  explicit value_error(const std::string& what) : error("value", what) {}
};

// A failure reported by the CUDA runtime or cuBLAS.
class cuda_error : public error {
 public:
  explicit cuda_error(const std::string& what) : error("cuda", what) {}
};

}  // namespace shopml
