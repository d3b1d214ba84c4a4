// Uses the installed CUDA backend end to end: a gemm with bias on the GPU through
// kernels<cuda>, in a scope on a stream of its own. Returns 77 without a GPU.
#include <cuda_runtime.h>

#include <cstdio>
#include <shopml/backend/cuda.cuh>
#include <vector>

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("shopml cuda consumer: built and linked; no usable GPU to run on\n");
    return 77;
  }
  cudaStream_t stream = nullptr;
  shopml::gpu::check(cudaStreamCreate(&stream), "cudaStreamCreate");
  float result[2] = {};
  {
    shopml::gpu::backend_scope scope(shopml::cuda{.device = 0, .stream = stream});
    const std::vector<float> a = {1, 2, 3, 4};  // 1×4
    const std::vector<float> w = {1, 1, 1, 1,   // 2×4, nn.Linear layout
                                  1, 0, 1, 0};
    const std::vector<float> bias = {0.5f, -1};
    const shopml::gpu::device_buffer<float> da{std::span<const float>(a)};
    const shopml::gpu::device_buffer<float> dw{std::span<const float>(w)};
    const shopml::gpu::device_buffer<float> dbias{std::span<const float>(bias)};
    shopml::gpu::device_buffer<float> dy(2);
    shopml::kernels<shopml::cuda>::gemm(true, 1, 2, 4, 1.0f, da.data(), 4, dw.data(), 4, 0.0f, dy.data(), 2, dbias.data(), 0);
    const std::vector<float> y = dy.download();
    result[0] = y[0];
    result[1] = y[1];
  }
  shopml::gpu::check(cudaStreamDestroy(stream), "cudaStreamDestroy");
  std::printf("shopml cuda consumer: y = [%g, %g]\n", result[0], result[1]);
  return result[0] == 10.5f && result[1] == 3.0f ? 0 : 1;
}
