#pragma once
// torch.nn.utils.clip_grad_norm_: n = ‖all gradients‖₂, then every gradient is scaled
// by min(1, max_norm / (n + 1e-6)). Returns n (before clipping), as torch does.

#include <algorithm>
#include <cmath>

#include "shopml/backend/kernels.hpp"
#include "shopml/nn/parameters.hpp"

namespace shopml::optim {

template <class Backend>
double clip_grad_norm(nn::parameter_set<Backend>& params, double max_norm, int threads = 0) {
  using K = kernels<Backend>;
  const double norm = std::sqrt(K::sum_squares(params.grads(), params.size(), threads));
  const double coef = std::min(1.0, max_norm / (norm + 1e-6));
  if (std::isfinite(norm) && coef < 1.0) K::scale(params.grads(), params.size(), static_cast<float>(coef), threads);
  return norm;
}

}  // namespace shopml::optim
