// The CUDA suite's own main: without a usable GPU it says why and returns 77, which
// CTest reports as "Skipped" (SKIP_RETURN_CODE), before doctest runs anything.
#define DOCTEST_CONFIG_IMPLEMENT
#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <cstdio>

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::printf("test_cuda: skipped, no usable CUDA device (%s)\n",
                status != cudaSuccess ? cudaGetErrorString(status) : "no devices");
    return 77;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
    std::printf("test_cuda: device 0 is %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  doctest::Context context(argc, argv);
  return context.run();
}
