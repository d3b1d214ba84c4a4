#pragma once
// cuBLAS for the dense products: one handle per (device, stream), and the row-major
// trick: a row-major C = A·op(B) is the column-major Cᵀ = op(B)ᵀ·Aᵀ, so the operands
// are passed swapped and no data is transposed.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "shopml/gpu/check.cuh"
#include "shopml/gpu/context.cuh"

namespace shopml::gpu {

// The cuBLAS handle bound to t's device and stream, created on first use. The
// configuration (stream, host pointer mode) is set once at creation and never
// changed, which is what lets several threads share one handle (cuBLAS guide,
// "Thread safety"). The handles live until the process ends: destroying them from a
// static destructor can run after the CUDA runtime has shut down.
inline cublasHandle_t blas_handle(const target& t) {
  struct registry {
    std::mutex mutex;
    std::map<std::pair<int, cudaStream_t>, cublasHandle_t> handles;
  };
  static registry* const r = new registry;
  const std::lock_guard<std::mutex> lock(r->mutex);
  const auto found = r->handles.find({t.device, t.stream});
  if (found != r->handles.end()) return found->second;
  cublasHandle_t handle = nullptr;
  check(cublasCreate(&handle), "cublasCreate on device " + std::to_string(t.device));
  try {
    check(cublasSetStream(handle, t.stream), "cublasSetStream");
    check(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
  } catch (...) {
    cublasDestroy(handle);
    throw;
  }
  r->handles.emplace(std::pair{t.device, t.stream}, handle);
  return handle;
}

// cuBLAS takes int sizes.
inline int blas_int(std::size_t v, const char* what, const char* call) {
  if (v > static_cast<std::size_t>(INT_MAX))
    throw shape_error(std::string(call) + ": " + what + " = " + std::to_string(v) + " exceeds cuBLAS's int range");
  return static_cast<int>(v);
}

// A leading dimension for cuBLAS: with a single row (row-major) it is never used, and
// callers may pass anything, but cuBLAS still demands at least the row length.
inline std::size_t leading_dim(std::size_t ld, std::size_t rows, std::size_t row_length) {
  const std::size_t least = row_length > 0 ? row_length : 1;
  return rows <= 1 && ld < least ? least : ld;
}

// Row-major C[m×n] = alpha A[m×k] op(B) + beta C, op(B) = B[k×n] or, with trans_b, B[n×k]ᵀ.
// m, n, k > 0.
inline void gemm(cublasHandle_t handle, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  const char* call = "cublasSgemm";
  const std::size_t b_rows = trans_b ? n : k;
  const std::size_t b_cols = trans_b ? k : n;
  check(cublasSgemm(handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, blas_int(n, "n", call), blas_int(m, "m", call),
                    blas_int(k, "k", call), &alpha, b, blas_int(leading_dim(ldb, b_rows, b_cols), "ldb", call), a,
                    blas_int(leading_dim(lda, m, k), "lda", call), &beta, c, blas_int(leading_dim(ldc, m, n), "ldc", call)),
        std::string(call) + "(m=" + std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k) + ")");
}

// `batch` gemms at A + i*stride_a, B + i*stride_b, C + i*stride_c. batch, m, n, k > 0.
inline void gemm_strided_batched(cublasHandle_t handle, bool trans_b, std::size_t batch, std::size_t m, std::size_t n,
                                 std::size_t k, float alpha, const float* a, std::size_t lda, std::size_t stride_a,
                                 const float* b, std::size_t ldb, std::size_t stride_b, float beta, float* c, std::size_t ldc,
                                 std::size_t stride_c) {
  const char* call = "cublasSgemmStridedBatched";
  const std::size_t b_rows = trans_b ? n : k;
  const std::size_t b_cols = trans_b ? k : n;
  check(cublasSgemmStridedBatched(handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, blas_int(n, "n", call),
                                  blas_int(m, "m", call), blas_int(k, "k", call), &alpha, b,
                                  blas_int(leading_dim(ldb, b_rows, b_cols), "ldb", call), static_cast<long long>(stride_b), a,
                                  blas_int(leading_dim(lda, m, k), "lda", call), static_cast<long long>(stride_a), &beta, c,
                                  blas_int(leading_dim(ldc, m, n), "ldc", call), static_cast<long long>(stride_c),
                                  blas_int(batch, "batch", call)),
        std::string(call) + "(batch=" + std::to_string(batch) + ", m=" + std::to_string(m) + ", n=" + std::to_string(n) +
            ", k=" + std::to_string(k) + ")");
}

// Calls fn(offset, length) over [0, n) in pieces that fit cuBLAS's int lengths.
template <class Fn>
void for_int_chunks(std::size_t n, Fn fn) {
  for (std::size_t done = 0; done < n;) {
    const int len = static_cast<int>(n - done < INT_MAX ? n - done : INT_MAX);
    fn(done, len);
    done += static_cast<std::size_t>(len);
  }
}

// sum x[i] * y[i]; waits for the stream, since the result is a host value.
inline float dot(cublasHandle_t handle, const float* x, const float* y, std::size_t n) {
  float total = 0.0f;
  for_int_chunks(n, [&](std::size_t offset, int len) {
    float part = 0.0f;
    check(cublasSdot(handle, len, x + offset, 1, y + offset, 1, &part), "cublasSdot(n=" + std::to_string(len) + ")");
    total += part;
  });
  return total;
}

// y += a * x
inline void axpy(cublasHandle_t handle, std::size_t n, float a, const float* x, float* y) {
  for_int_chunks(n, [&](std::size_t offset, int len) {
    check(cublasSaxpy(handle, len, &a, x + offset, 1, y + offset, 1), "cublasSaxpy(n=" + std::to_string(len) + ")");
  });
}

}  // namespace shopml::gpu
