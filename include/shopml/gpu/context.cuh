#pragma once
// Which device and stream kernels<cuda> runs on. The kernel_set boundary is a set of
// static functions, so the `shopml::cuda` tag reaches them per thread: a component
// holding a tag opens a `gpu::backend_scope` around its kernel calls. Outside any
// scope, kernels run on the thread's current CUDA device and its default stream.

#include <cuda_runtime.h>

#include <optional>

#include "shopml/backend/tags.hpp"
#include "shopml/gpu/check.cuh"

namespace shopml::gpu {

namespace detail {
inline std::optional<cuda>& active_backend() {
  thread_local std::optional<cuda> backend;
  return backend;
}
}  // namespace detail

// Makes `backend` the calling thread's device and stream until the scope ends; scopes nest.
class backend_scope {
 public:
  explicit backend_scope(const cuda& backend) : previous_(detail::active_backend()) {
    check(cudaGetDevice(&previous_device_), "cudaGetDevice");
    check(cudaSetDevice(backend.device), "cudaSetDevice(" + std::to_string(backend.device) + ")");
    detail::active_backend() = backend;
  }
  ~backend_scope() {
    detail::active_backend() = previous_;
    cudaSetDevice(previous_device_);  // a destructor cannot throw; the device existed before
  }
  backend_scope(const backend_scope&) = delete;
  backend_scope& operator=(const backend_scope&) = delete;

 private:
  std::optional<cuda> previous_;
  int previous_device_ = 0;
};

struct target {
  int device;
  cudaStream_t stream;
};

// The device and stream for a kernel call on this thread; makes that device current.
inline target current_target() {
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  const std::optional<cuda>& active = detail::active_backend();
  if (!active) return {device, nullptr};
  if (device != active->device) check(cudaSetDevice(active->device), "cudaSetDevice(" + std::to_string(active->device) + ")");
  return {active->device, static_cast<cudaStream_t>(active->stream)};
}

}  // namespace shopml::gpu
