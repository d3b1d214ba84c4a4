#pragma once
// transformers' get_linear_schedule_with_warmup as a LambdaLR: the factor of scheduler
// step s is s / max(1, W) while s < W, then max(0, (S − s) / max(1, S − W)). The
// optimiser's t-th step (counting from 1) runs at lr · factor(t − 1), so with warm-up
// the first step has learning rate 0, as in PyTorch.

#include <algorithm>
#include <cstddef>

namespace shopml::optim {

struct linear_schedule_with_warmup {
  std::size_t warmup_steps = 0;
  std::size_t total_steps = 0;

  double factor(std::size_t s) const {
    if (s < warmup_steps) return static_cast<double>(s) / static_cast<double>(std::max<std::size_t>(1, warmup_steps));
    const double left = static_cast<double>(total_steps) - static_cast<double>(s);
    return std::max(0.0, left / static_cast<double>(std::max<std::size_t>(1, total_steps - std::min(total_steps, warmup_steps))));
  }
  // The learning rate of optimiser step t (t = 1, 2, ...).
  double lr(double base_lr, std::size_t t) const { return base_lr * factor(t == 0 ? 0 : t - 1); }
};

}  // namespace shopml::optim
