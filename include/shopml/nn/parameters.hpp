#pragma once
// The trainable tensors of a model in one flat buffer, and their gradients in a second
// buffer of the same layout (llm.c's design): the optimiser is one pass over each
// group, gradients are cleared with one fill, and a tensor is an offset. Tensors keep
// their Hugging Face names, so saving and loading go by name.
//
// Two groups, each contiguous: tensors that take weight decay (Linear and embedding
// weights) first, then those that do not (biases and LayerNorm parameters, as HF's
// Trainer groups them). Within a group tensors keep the order they were declared in,
// so tensors declared one after another (attention's query, key, value) are adjacent
// and can be used as one stacked matrix.

#include <cstddef>
#include <map>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/nn/buffer.hpp"

namespace shopml::nn {

struct parameter_info {
  std::string name;                // Hugging Face name, e.g. "bert.encoder.layer.0.attention.self.query.weight"
  std::vector<std::size_t> shape;  // as torch has it
  bool decay = true;               // in the weight-decay group
  std::size_t offset = 0;          // into the flat buffers
  std::size_t size() const { return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>()); }
};

// The declaration of a model's tensors, before any memory exists.
class parameter_layout {
 public:
  void add(std::string name, std::vector<std::size_t> shape, bool decay) {
    if (index_.count(name)) throw value_error("parameter '" + name + "' declared twice");
    index_[name] = tensors_.size();
    tensors_.push_back({std::move(name), std::move(shape), decay, 0});
  }
  // HF's rule: no decay for biases and LayerNorm parameters.
  void add_weight(std::string name, std::vector<std::size_t> shape) { add(std::move(name), std::move(shape), true); }
  void add_no_decay(std::string name, std::vector<std::size_t> shape) { add(std::move(name), std::move(shape), false); }

  // Assigns offsets: the decay group, then the rest.
  std::vector<parameter_info> finish() const {
    std::vector<parameter_info> out = tensors_;
    std::size_t offset = 0;
    for (bool group : {true, false})
      for (auto& t : out)
        if (t.decay == group) {
          t.offset = offset;
          offset += t.size();
        }
    return out;
  }

 private:
  std::vector<parameter_info> tensors_;
  std::map<std::string, std::size_t> index_;
};

template <class Backend>
class parameter_set {
 public:
  parameter_set() = default;
  parameter_set(const Backend& backend, const parameter_layout& layout) : tensors_(layout.finish()) {
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      index_[tensors_[i].name] = i;
      (tensors_[i].decay ? decay_size_ : no_decay_size_) += tensors_[i].size();
    }
    values_ = buffer<Backend>(backend, size());
    grads_ = buffer<Backend>(backend, size());
  }

  std::size_t size() const { return decay_size_ + no_decay_size_; }
  // Elements [0, decay_size()) take weight decay, [decay_size(), size()) do not.
  std::size_t decay_size() const { return decay_size_; }
  const std::vector<parameter_info>& tensors() const { return tensors_; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const parameter_info& info(const std::string& name) const {
    const auto it = index_.find(name);
    if (it == index_.end()) throw value_error("the model has no parameter '" + name + "'");
    return tensors_[it->second];
  }

  float* values() { return values_.data(); }
  const float* values() const { return values_.data(); }
  float* grads() { return grads_.data(); }
  const float* grads() const { return grads_.data(); }
  float* value(const std::string& name) { return values() + info(name).offset; }
  const float* value(const std::string& name) const { return values() + info(name).offset; }
  float* grad(const std::string& name) { return grads() + info(name).offset; }
  const float* grad(const std::string& name) const { return grads() + info(name).offset; }

  buffer<Backend>& value_buffer() { return values_; }
  const buffer<Backend>& value_buffer() const { return values_; }
  buffer<Backend>& grad_buffer() { return grads_; }
  const buffer<Backend>& grad_buffer() const { return grads_; }

 private:
  std::vector<parameter_info> tensors_;
  std::map<std::string, std::size_t> index_;
  std::size_t decay_size_ = 0, no_decay_size_ = 0;
  buffer<Backend> values_, grads_;
};

}  // namespace shopml::nn
