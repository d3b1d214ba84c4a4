#pragma once
// Device memory: an owning array, with copies to and from host memory ordered on the
// current target's stream (context.cuh), so they see the kernels queued before them;
// and stream-ordered scratch space for a kernel's temporaries.

#include <cuda_runtime.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/gpu/check.cuh"
#include "shopml/gpu/context.cuh"

namespace shopml::gpu {

template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  explicit device_buffer(std::size_t size) : size_(size) {
    if (size_ > 0)
      check(cudaMalloc(reinterpret_cast<void**>(&data_), size_ * sizeof(T)),
            "cudaMalloc(" + std::to_string(size_ * sizeof(T)) + " bytes)");
  }
  explicit device_buffer(std::span<const T> host) : device_buffer(host.size()) { upload(host); }

  device_buffer(device_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  device_buffer& operator=(device_buffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~device_buffer() { cudaFree(data_); }  // cudaFree(nullptr) is a no-op

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }

  // Copies host[0..size()) in; host must hold exactly size() elements.
  void upload(std::span<const T> host) {
    if (host.size() != size_)
      throw shape_error("device_buffer::upload: " + std::to_string(host.size()) + " host elements for a buffer of " +
                        std::to_string(size_));
    if (size_ == 0) return;
    const target t = current_target();
    check(cudaMemcpyAsync(data_, host.data(), size_ * sizeof(T), cudaMemcpyHostToDevice, t.stream),
          "cudaMemcpyAsync(host to device)");
    check(cudaStreamSynchronize(t.stream), "cudaStreamSynchronize after upload");
  }

  std::vector<T> download() const {
    std::vector<T> host(size_);
    if (size_ == 0) return host;
    const target t = current_target();
    check(cudaMemcpyAsync(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost, t.stream),
          "cudaMemcpyAsync(device to host)");
    check(cudaStreamSynchronize(t.stream), "cudaStreamSynchronize after download");
    return host;
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// Stream-ordered scratch memory (cudaMallocAsync), released on the same stream.
class stream_scratch {
 public:
  stream_scratch(std::size_t bytes, cudaStream_t stream) : stream_(stream) {
    if (bytes > 0) check(cudaMallocAsync(&data_, bytes, stream), "cudaMallocAsync(" + std::to_string(bytes) + " bytes)");
  }
  ~stream_scratch() {
    if (data_) cudaFreeAsync(data_, stream_);
  }
  stream_scratch(const stream_scratch&) = delete;
  stream_scratch& operator=(const stream_scratch&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  cudaStream_t stream_;
};

}  // namespace shopml::gpu
