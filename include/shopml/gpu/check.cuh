#pragma once
// Turns CUDA runtime and cuBLAS status codes into shopml::cuda_error, naming the
// call that failed (and, where the caller passes them, its arguments).

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "shopml/error.hpp"

namespace shopml::gpu {

inline void check(cudaError_t status, const std::string& call) {
  if (status == cudaSuccess) return;
  // The runtime also keeps this error as the thread's "last error"; clear it, or the
  // next check_launch would blame an unrelated kernel for it.
  cudaGetLastError();
  throw cuda_error(call + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

inline void check(cublasStatus_t status, const std::string& call) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw cuda_error(call + " failed: " + cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")");
}

// Right after a <<<...>>> launch: a bad launch configuration is reported here; faults
// inside the kernel surface at the next synchronising call, which names itself.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), std::string("launch of ") + kernel); }

}  // namespace shopml::gpu
