#pragma once
// nn.Linear layers as the encoder runs them: y[T × out] = x[T × in] · Wᵀ + b. Several
// Linear layers reading the same input (attention's query, key and value) form one
// dense op whose outputs sit side by side in each row of y. On backends that pack
// weights (packs_weights<kernels<B>>), the stacked weights are packed once at load and
// each call is a single gemm_packed; elsewhere each part is one gemm on the weight as stored.
// At precision bf16 the stacked weights are packed as bf16 (packs_weights_bf16) and each call
// is one gemm_packed_bf16; a backend without it refuses bf16 at load.

#include <cstddef>
#include <initializer_list>
#include <span>
#include <vector>

#include "shopml/backend/kernels.hpp"
#include "shopml/error.hpp"
#include "shopml/nn/bert_weights.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/precision.hpp"

namespace shopml::nn {

namespace detail {
template <class K, bool = packs_weights<K>>
struct packed_matrix_of {
  struct type {};
};
template <class K>
struct packed_matrix_of<K, true> {
  using type = typename K::packed_matrix;
};
template <class K, bool = packs_weights_bf16<K>>
struct packed_bf16_matrix_of {
  struct type {};
};
template <class K>
struct packed_bf16_matrix_of<K, true> {
  using type = typename K::packed_matrix_bf16;
};
}  // namespace detail

template <class Backend>
class dense {
  using K = kernels<Backend>;

 public:
  static constexpr bool packed = packs_weights<K>;

  // Parts with weights [out_i × in] and biases [out_i]; they stay alive with the weights' owner.
  dense(const Backend& backend, std::initializer_list<const linear_weights<Backend>*> parts, std::size_t in,
        precision format = precision::fp32)
      : in_(in), bf16_(format == precision::bf16) {
    for (const auto* p : parts) {
      parts_.push_back({p->w.data(), p->b.data(), p->b.size()});
      out_ += p->b.size();
    }
    if (bf16_) {
      if constexpr (packs_weights_bf16<K>) {
        std::vector<float> stacked(out_ * in_);
        bias_ = buffer<Backend>(backend, out_);
        std::size_t row = 0;
        for (const auto& p : parts_) {
          buffer<Backend>::download(std::span<float>(stacked.data() + row * in_, p.out * in_), p.w);
          buffer<Backend>::copy(bias_.data() + row, p.b, p.out);
          row += p.out;
        }
        packed_bf16_ = K::pack_b_bf16(true, in_, out_, stacked.data(), in_);
        parts_.clear();
        return;
      } else {
        throw value_error("precision bf16: this backend has no bf16 GEMM (packs_weights_bf16)");
      }
    }
    if constexpr (packed) {
      buffer<Backend> stacked(backend, out_ * in_);
      bias_ = buffer<Backend>(backend, out_);
      std::size_t row = 0;
      for (const auto& p : parts_) {
        buffer<Backend>::copy(stacked.data() + row * in_, p.w, p.out * in_);
        buffer<Backend>::copy(bias_.data() + row, p.b, p.out);
        row += p.out;
      }
      packed_ = K::pack_b(true, in_, out_, stacked.data(), in_);
      parts_.clear();  // the packed copy is all forward reads
    }
  }

  std::size_t in() const { return in_; }
  std::size_t out() const { return out_; }

  // y rows have stride ldy >= out().
  void forward(std::size_t tokens, const float* x, float* y, std::size_t ldy, int threads) const {
    if constexpr (packs_weights_bf16<K>) {
      if (bf16_) return K::gemm_packed_bf16(tokens, 1.0f, x, in_, packed_bf16_, 0.0f, y, ldy, bias_.data(), threads);
    }
    if constexpr (packed) {
      K::gemm_packed(tokens, 1.0f, x, in_, packed_, 0.0f, y, ldy, bias_.data(), threads);
    } else {
      std::size_t column = 0;
      for (const auto& p : parts_) {
        K::gemm(true, tokens, p.out, in_, 1.0f, x, in_, p.w, in_, 0.0f, y + column, ldy, p.b, threads);
        column += p.out;
      }
    }
  }

 private:
  struct part {
    const float* w;
    const float* b;
    std::size_t out;
  };
  std::size_t in_ = 0, out_ = 0;
  bool bf16_ = false;
  std::vector<part> parts_;
  buffer<Backend> bias_;
  typename detail::packed_matrix_of<K>::type packed_;
  typename detail::packed_bf16_matrix_of<K>::type packed_bf16_;
};

}  // namespace shopml::nn
