#pragma once
// Where the encoder keeps its numbers: `buffer<Backend>` is an owning float array in
// the backend's memory, `weight<Backend>` a parameter tensor. The algorithm code only
// takes their pointers and hands them to kernels<Backend>, so a backend supplies just
// these two types and its kernels. On the CPU a weight is the mapped file itself
// (zero-copy) and a buffer is 64-byte aligned host memory.

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <utility>
#include <vector>

#include "shopml/backend/tags.hpp"
#include "shopml/io/safetensors.hpp"

namespace shopml::nn {

template <class Backend>
class buffer;  // specialised per backend: buffer(const Backend&, n), data(), size(), copy, upload, to_host

template <class Backend>
class weight;  // specialised per backend: weight(const Backend&, io::f32_tensor), data(), size()

template <>
class buffer<cpu> {
 public:
  buffer() = default;
  buffer(const cpu&, std::size_t n) : size_(n) {
    if (n > 0) {
      const std::size_t bytes = (n * sizeof(float) + 63) / 64 * 64;  // aligned_alloc wants a multiple
      data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      if (!data_) throw std::bad_alloc();
    }
  }

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

  // dst[0..n) = src[0..n), both in this backend's memory.
  static void copy(float* dst, const float* src, std::size_t n) {
    if (n > 0) std::memcpy(dst, src, n * sizeof(float));
  }
  // dst[0..n) = 0.
  static void fill_zero(float* dst, std::size_t n) {
    if (n > 0) std::memset(dst, 0, n * sizeof(float));
  }
  // Host values into this backend's memory at dst.
  static void upload(float* dst, std::span<const float> host) { copy(dst, host.data(), host.size()); }
  // Host memory [0, n) from this backend's memory at src.
  static void download(std::span<float> host, const float* src) { copy(host.data(), src, host.size()); }
  // The first n values, readable on the host (a view on the CPU, no copy).
  std::span<const float> to_host(std::size_t n) const { return {data_.get(), n}; }

 private:
  struct free_deleter {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, free_deleter> data_;
  std::size_t size_ = 0;
};

template <>
class weight<cpu> {
 public:
  weight(const cpu&, io::f32_tensor values) : values_(std::move(values)) {}
  const float* data() const { return values_.data(); }
  std::size_t size() const { return values_.size(); }

 private:
  io::f32_tensor values_;  // a view of the mapped file when stored as F32, else converted once
};

}  // namespace shopml::nn
