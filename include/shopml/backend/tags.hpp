#pragma once
// Backends are tag types chosen at compile time. Components take one as a template
// parameter (`nn::bert_encoder<shopml::cpu>`); the kernels each backend provides are
// the specialisation `kernels<Tag>` (backend/kernels.hpp). Implementation namespaces
// are `simd` and `gpu`, since the tag `shopml::cuda` takes the name `cuda`.

#include <concepts>

namespace shopml {

struct cpu {};

struct cuda {
  int device = 0;
  void* stream = nullptr;  // cudaStream_t; void* keeps CUDA headers out of host code
};

template <class T>
concept backend = std::same_as<T, cpu> || std::same_as<T, cuda>;

}  // namespace shopml
