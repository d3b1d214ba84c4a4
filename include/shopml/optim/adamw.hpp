#pragma once
// torch.optim.AdamW over a parameter_set: decoupled weight decay, bias correction, one
// fused pass per group (kernels<B>::adamw). The decay group takes `weight_decay`, the
// other group (biases, LayerNorm) `no_decay_weight_decay`, 0 by default as in HF's
// Trainer; set it to weight_decay for the raw-loop behaviour that decays everything.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shopml/backend/cpu.hpp"
#include "shopml/backend/kernels.hpp"
#include "shopml/error.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/parameters.hpp"

namespace shopml::optim {

struct adamw_options {
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
  double no_decay_weight_decay = 0.0;
};

template <class Backend = cpu>
class adamw {
 public:
  adamw() = default;
  adamw(const nn::parameter_set<Backend>& params, const adamw_options& options, const Backend& backend = {})
      : options_(options), size_(params.size()), m_(backend, params.size()), v_(backend, params.size()) {
    for (double b : {options.beta1, options.beta2})
      if (!(b >= 0.0f && b < 1.0f)) throw value_error("AdamW: betas must be in [0, 1), got " + std::to_string(b));
    if (!(options.eps >= 0.0f)) throw value_error("AdamW: eps must be non-negative");
    if (!(options.weight_decay >= 0.0f && options.no_decay_weight_decay >= 0.0f))
      throw value_error("AdamW: weight decay must be non-negative");
    nn::buffer<Backend>::fill_zero(m_.data(), size_);
    nn::buffer<Backend>::fill_zero(v_.data(), size_);
  }

  const adamw_options& options() const { return options_; }
  // Steps taken so far (torch's state["step"]).
  std::uint64_t steps() const { return steps_; }

  // One optimiser step with learning rate lr on params' gradients.
  void step(nn::parameter_set<Backend>& params, double lr, int threads = 0) {
    if (params.size() != size_) throw shape_error("AdamW: the model's parameters changed size; make a new optimiser");
    ++steps_;
    adamw_step s{lr,
                 options_.beta1,
                 options_.beta2,
                 options_.eps,
                 options_.weight_decay,
                 1.0 - std::pow(options_.beta1, static_cast<double>(steps_)),
                 1.0 - std::pow(options_.beta2, static_cast<double>(steps_))};
    using K = kernels<Backend>;
    const std::size_t d = params.decay_size();
    K::adamw(d, params.values(), params.grads(), m_.data(), v_.data(), s, threads);
    s.weight_decay = options_.no_decay_weight_decay;
    K::adamw(size_ - d, params.values() + d, params.grads() + d, m_.data() + d, v_.data() + d, s, threads);
  }

  // The moments, for checkpoints: m then v, each params.size() floats, on the host.
  std::vector<float> state() const {
    std::vector<float> out(2 * size_);
    nn::buffer<Backend>::download(std::span<float>(out.data(), size_), m_.data());
    nn::buffer<Backend>::download(std::span<float>(out.data() + size_, size_), v_.data());
    return out;
  }
  void load_state(std::span<const float> moments, std::uint64_t steps) {
    if (moments.size() != 2 * size_)
      throw shape_error("AdamW state of " + std::to_string(moments.size()) + " values for " + std::to_string(size_) +
                        " parameters");
    nn::buffer<Backend>::upload(m_.data(), moments.first(size_));
    nn::buffer<Backend>::upload(v_.data(), moments.subspan(size_));
    steps_ = steps;
  }

 private:
  adamw_options options_;
  std::size_t size_ = 0;
  nn::buffer<Backend> m_, v_;
  std::uint64_t steps_ = 0;
};

}  // namespace shopml::optim
