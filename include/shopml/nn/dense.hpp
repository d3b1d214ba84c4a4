#pragma once
// nn.Linear layers as the encoder runs them: y[T × out] = x[T × in] · Wᵀ + b. Several
// Linear layers reading the same input (attention's query, key and value) form one
// dense op whose outputs sit side by side in each row of y. On backends that pack
// weights (packs_weights<kernels<B>>), the stacked weights are packed once at load and
// each call is a single gemm_packed; elsewhere each part is one gemm on the weight as stored.
// At precision bf16 / int8 the stacked weights are packed as bf16 / quantised to s8
// (packs_weights_bf16 / packs_weights_int8) and each call is one gemm_packed_bf16 /
// gemm_packed_int8; a backend without them refuses that precision at load.

#include <cstddef>
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "shopml/backend/kernels.hpp"
#include "shopml/error.hpp"
#include "shopml/nn/bert_weights.hpp"
#include "shopml/nn/buffer.hpp"
#include "shopml/nn/precision.hpp"

namespace shopml::nn {

namespace detail {
// K's packed-matrix type named by Member (an alias template), or an empty stand-in for
// backends that lack it, so that dense can hold one of each unconditionally.
template <template <class> class Member, class K, class = void>
struct member_or_empty {
  struct type {};
};
template <template <class> class Member, class K>
struct member_or_empty<Member, K, std::void_t<Member<K>>> {
  using type = Member<K>;
};
template <class K>
using packed_fp32 = typename K::packed_matrix;
template <class K>
using packed_bf16 = typename K::packed_matrix_bf16;
template <class K>
using packed_int8 = typename K::packed_matrix_int8;
}  // namespace detail

template <class Backend>
class dense {
  using K = kernels<Backend>;

 public:
  static constexpr bool packed = packs_weights<K>;

  // Parts with weights [out_i × in] and biases [out_i]; they stay alive with the weights' owner.
  dense(const Backend& backend, std::initializer_list<const linear_weights<Backend>*> parts, std::size_t in,
        precision format = precision::fp32)
      : in_(in), format_(format) {
    for (const auto* p : parts) {
      parts_.push_back({p->w.data(), p->b.data(), p->b.size()});
      out_ += p->b.size();
    }
    if (format_ == precision::bf16) {
      if constexpr (packs_weights_bf16<K>) {
        packed_bf16_ = K::pack_b_bf16(true, in_, out_, stack(backend).data(), in_);
      } else {
        throw value_error("precision bf16: this backend has no bf16 GEMM (packs_weights_bf16)");
      }
    } else if (format_ == precision::int8) {
      if constexpr (packs_weights_int8<K>) {
        packed_int8_ = K::pack_b_int8(true, in_, out_, stack(backend).data(), in_);
      } else {
        throw value_error("precision int8: this backend has no int8 GEMM (packs_weights_int8)");
      }
    } else if constexpr (packed) {
      packed_ = K::pack_b(true, in_, out_, stack(backend).data(), in_);
    }
  }

  std::size_t in() const { return in_; }
  std::size_t out() const { return out_; }

  // y rows have stride ldy >= out().
  void forward(std::size_t tokens, const float* x, float* y, std::size_t ldy, int threads) const {
    if constexpr (packs_weights_bf16<K>) {
      if (format_ == precision::bf16)
        return K::gemm_packed_bf16(tokens, 1.0f, x, in_, packed_bf16_, 0.0f, y, ldy, bias_.data(), threads);
    }
    if constexpr (packs_weights_int8<K>) {
      if (format_ == precision::int8)
        return K::gemm_packed_int8(tokens, 1.0f, x, in_, packed_int8_, 0.0f, y, ldy, bias_.data(), threads);
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
  // The parts' weights stacked ([out × in], the backend's memory) for packing, and their
  // biases into bias_; the parts are then dropped, since the packed copy is all forward reads.
  buffer<Backend> stack(const Backend& backend) {
    buffer<Backend> stacked(backend, out_ * in_);
    bias_ = buffer<Backend>(backend, out_);
    std::size_t row = 0;
    for (const auto& p : parts_) {
      buffer<Backend>::copy(stacked.data() + row * in_, p.w, p.out * in_);
      buffer<Backend>::copy(bias_.data() + row, p.b, p.out);
      row += p.out;
    }
    parts_.clear();
    return stacked;
  }

  struct part {
    const float* w;
    const float* b;
    std::size_t out;
  };
  std::size_t in_ = 0, out_ = 0;
  precision format_ = precision::fp32;
  std::vector<part> parts_;
  buffer<Backend> bias_;
  typename detail::member_or_empty<detail::packed_fp32, K>::type packed_;
  typename detail::member_or_empty<detail::packed_bf16, K>::type packed_bf16_;
  typename detail::member_or_empty<detail::packed_int8, K>::type packed_int8_;
};

}  // namespace shopml::nn
