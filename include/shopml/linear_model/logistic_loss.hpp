#pragma once
// The penalised logistic loss scikit-learn's LogisticRegression(solver="lbfgs") minimises
// (sklearn/linear_model/_linear_loss.py, LinearModelLoss with HalfBinomialLoss or
// HalfMultinomialLoss), with s_i the sample weights already multiplied by the class
// weights and S = sum_i s_i:
//
//   f(W, b) = 1/S * sum_i s_i * loss_i(x_i W^T + b) + 1/(2 C S) * ||W||_F^2
//
// which has the minimiser of  sum_i s_i loss_i + 1/(2C) ||W||^2  (the objective of the
// docs) and sklearn's scale, so tolerances mean the same. The intercept is unpenalised.
//   binary (2 classes):  one row w, loss = log(1 + exp(r)) - y r with y in {0, 1}
//   K > 2 classes:       K rows (the symmetric, over-parametrised softmax; the penalty
//                        makes it identifiable), loss = logsumexp(r) - r_y
//
// Value and gradient come from ONE pass over X: each block of rows is multiplied by W
// while it sits in cache, turned into residuals, and multiplied back into the gradient,
// instead of the two passes (X w, then X^T g) of a BLAS formulation. The pass is split
// over OpenMP threads with private gradient accumulators. float features go through the
// library kernels (kernels<cpu>: dot, binary_logistic and gemv_t for one output, dot_rows and
// gemm for several); double through Eigen. A pass streams X from memory once, so on a large X its
// time is mostly memory bandwidth; scikit-learn's X @ w and X.T @ g stream it twice.

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "shopml/backend/cpu.hpp"
#include "shopml/parallel.hpp"

namespace shopml::linear_model {

template <class Scalar>
class logistic_loss {
 public:
  using row_matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  // Rows may be strided (a block of a larger row-major matrix).
  using row_map = Eigen::Map<const row_matrix, 0, Eigen::OuterStride<>>;

  // `X`, `target` (class index per row in [0, n_classes)) and `weight` must outlive the loss.
  logistic_loss(row_map X, std::span<const int> target, std::span<const double> weight, int n_classes, bool fit_intercept,
                double C, int threads)
      : X_(X),
        target_(target),
        weight_(weight),
        n_outputs_(n_classes == 2 ? 1 : n_classes),
        fit_intercept_(fit_intercept),
        threads_(threads) {
    double total = 0.0;
    for (double w : weight) total += w;
    inv_weight_sum_ = 1.0 / total;
    l2_ = std::isinf(C) ? 0.0 : 1.0 / (C * total);
  }

  int n_outputs() const { return n_outputs_; }
  Eigen::Index n_features() const { return X_.cols(); }
  // Layout of the parameter vector: W row-major (n_outputs × n_features), then the intercepts.
  Eigen::Index n_parameters() const { return n_outputs_ * (X_.cols() + (fit_intercept_ ? 1 : 0)); }

  double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& grad) const {
    const Eigen::Index d = X_.cols(), k = n_outputs_;
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> W(theta.data(), k, d);
    const row_matrix Ws = W.template cast<Scalar>();
    Eigen::VectorXd b = Eigen::VectorXd::Zero(k);
    if (fit_intercept_) b = theta.segment(k * d, k);

    const Eigen::Index n = X_.rows();
    const Eigen::Index n_blocks = (n + block_rows - 1) / block_rows;
    // Threads only where each gets enough work to repay waking it (~128k multiply-adds).
    const Eigen::Index useful = std::max<Eigen::Index>(1, std::min(n_blocks, n * d * k / (Eigen::Index{1} << 17)));
    const int nt = static_cast<int>(std::min<Eigen::Index>(num_threads(threads_), useful));
    std::vector<partial> parts(static_cast<std::size_t>(nt), partial(k, d));

    // Every other pass walks the blocks backwards, so that it starts on the rows the pass
    // before ended on, still in the last-level cache when X is larger than that cache.
    const bool backwards = passes_.fetch_add(1, std::memory_order_relaxed) % 2 == 1;
    auto run = [&](int t) {
      partial& acc = parts[static_cast<std::size_t>(t)];
      block_buffers buf(k, d);
      for (Eigen::Index step = t; step < n_blocks; step += nt) {
        const Eigen::Index blk = backwards ? n_blocks - 1 - step : step;
        const Eigen::Index begin = blk * block_rows, rows = std::min(block_rows, n - begin);
        const auto Xb = X_.middleRows(begin, rows);
        scores(Xb, Ws, buf.R);
        acc.loss += residuals(buf, begin, rows, b);
        residual_times_rows(buf.G, Xb, rows, buf.block_grad);
        acc.grad += buf.block_grad.template cast<double>();
        acc.intercept += buf.G.leftCols(rows).template cast<double>().rowwise().sum();
      }
    };
#if defined(_OPENMP)
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
      run(omp_get_thread_num());
    } else {
      run(0);
    }
#else
    run(0);
#endif

    double loss = 0.0;
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> G = W * l2_;
    Eigen::VectorXd g_intercept = Eigen::VectorXd::Zero(k);
    for (const auto& p : parts) {
      loss += p.loss;
      G += p.grad;
      g_intercept += p.intercept;
    }
    loss += 0.5 * l2_ * W.squaredNorm();
    grad.resize(theta.size());
    grad.head(k * d) = Eigen::Map<const Eigen::VectorXd>(G.data(), k * d);
    if (fit_intercept_) grad.tail(k) = g_intercept;
    return loss;
  }

 private:
  // 128 rows of 384 float features are 192 KiB: the block stays in L2 between its two uses.
  static constexpr Eigen::Index block_rows = 128;

  struct partial {
    partial(Eigen::Index k, Eigen::Index d)
        : grad(Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>::Zero(k, d)),
          intercept(Eigen::VectorXd::Zero(k)) {}
    double loss = 0.0;
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> grad;
    Eigen::VectorXd intercept;
  };

  using scratch = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  // Per-thread work space: R = scores and G = residuals, both transposed (k × rows, so
  // that G · X_block is a plain product), e = softmax scratch.
  struct block_buffers {
    block_buffers(Eigen::Index k, Eigen::Index d) : R(k, block_rows), G(k, block_rows), block_grad(k, d), e(k) {}
    scratch R, G, block_grad;
    Eigen::VectorXd e;
  };

  // R = W · X_blockᵀ.
  template <class Block>
  static void scores(const Block& Xb, const row_matrix& W, scratch& R) {
    const Eigen::Index rows = Xb.rows(), d = Xb.cols(), k = W.rows();
    if constexpr (std::is_same_v<Scalar, float>) {
      // float runs on the library kernels (xsimd, best ISA of the CPU when dispatched).
      using K = kernels<cpu>;
      const auto ld = static_cast<std::size_t>(Xb.outerStride());
      if (k == 1) {
        for (Eigen::Index i = 0; i < rows; ++i)
          R(0, i) = K::dot(Xb.data() + i * Xb.outerStride(), W.data(), static_cast<std::size_t>(d));
      } else {
        K::dot_rows(static_cast<std::size_t>(rows), static_cast<std::size_t>(d), Xb.data(), ld, static_cast<std::size_t>(k),
                    W.data(), static_cast<std::size_t>(d), R.data(), static_cast<std::size_t>(R.cols()));
      }
    } else {
      R.leftCols(rows).noalias() = W * Xb.transpose();
    }
  }

  // out = G[:, :rows] · X_block (k × d).
  template <class Block>
  static void residual_times_rows(const scratch& G, const Block& Xb, Eigen::Index rows, scratch& out) {
    const Eigen::Index d = Xb.cols(), k = G.rows();
    if constexpr (std::is_same_v<Scalar, float>) {
      using K = kernels<cpu>;
      if (k == 1) {
        out.setZero();
        K::gemv_t(static_cast<std::size_t>(rows), static_cast<std::size_t>(d), Xb.data(),
                  static_cast<std::size_t>(Xb.outerStride()), G.data(), out.data());
      } else {
        K::gemm(false, static_cast<std::size_t>(k), static_cast<std::size_t>(d), static_cast<std::size_t>(rows), 1.0f, G.data(),
                static_cast<std::size_t>(G.cols()), Xb.data(), static_cast<std::size_t>(Xb.outerStride()), 0.0f, out.data(),
                static_cast<std::size_t>(d), nullptr, 1);
      }
    } else {
      out.noalias() = G.leftCols(rows) * Xb;
    }
  }

  // The weighted loss of rows [begin, begin + rows) from their scores in buf.R; their
  // residuals go to buf.G.
  double residuals(block_buffers& buf, Eigen::Index begin, Eigen::Index rows, const Eigen::VectorXd& b) const {
    const auto first = static_cast<std::size_t>(begin);
    if constexpr (std::is_same_v<Scalar, float>) {
      // float: the vectorised kernels (exp and log dominate a scalar loop).
      const auto n = static_cast<std::size_t>(rows);
      if (n_outputs_ == 1)
        return kernels<cpu>::binary_logistic(n, buf.R.data(), b[0], target_.data() + first, weight_.data() + first,
                                             inv_weight_sum_, buf.G.data());
      return kernels<cpu>::multinomial_logistic(n, static_cast<std::size_t>(n_outputs_), buf.R.data(),
                                                static_cast<std::size_t>(buf.R.cols()), b.data(), target_.data() + first,
                                                weight_.data() + first, inv_weight_sum_, buf.G.data());
    }
    double loss = 0.0;
    for (Eigen::Index i = 0; i < rows; ++i) {
      const std::size_t row = first + static_cast<std::size_t>(i);
      const double s = weight_[row] * inv_weight_sum_;
      loss += s * (n_outputs_ == 1 ? binary_residual(buf.R, buf.G, i, b, target_[row], s)
                                   : softmax_residual(buf.R, buf.G, i, b, target_[row], s, buf.e));
    }
    return loss;
  }

  // Half binomial loss log(1 + e^r) - y r and its residual s (sigmoid(r) - y), from one exp.
  static double binary_residual(const scratch& R, scratch& G, Eigen::Index i, const Eigen::VectorXd& b, int y, double s) {
    const double r = static_cast<double>(R(0, i)) + b[0];
    const double e = std::exp(-std::abs(r));
    const double p = r >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    G(0, i) = static_cast<Scalar>(s * (p - y));
    return std::max(r, 0.0) + std::log1p(e) - y * r;
  }

  // Half multinomial loss logsumexp(r) - r_y and residuals s (softmax(r) - onehot(y)).
  // `e` is scratch of k doubles.
  static double softmax_residual(const scratch& R, scratch& G, Eigen::Index i, const Eigen::VectorXd& b, int y, double s,
                                 Eigen::VectorXd& e) {
    const Eigen::Index k = R.rows();
    for (Eigen::Index c = 0; c < k; ++c) e[c] = static_cast<double>(R(c, i)) + b[c];
    const double raw_y = e[y];
    const double top = e.maxCoeff();
    double sum = 0.0;
    for (Eigen::Index c = 0; c < k; ++c) {
      e[c] = std::exp(e[c] - top);
      sum += e[c];
    }
    for (Eigen::Index c = 0; c < k; ++c) G(c, i) = static_cast<Scalar>(s * (e[c] / sum - (c == y ? 1.0 : 0.0)));
    return top + std::log(sum) - raw_y;
  }

  row_map X_;
  std::span<const int> target_;
  std::span<const double> weight_;
  int n_outputs_;
  bool fit_intercept_;
  int threads_;
  double inv_weight_sum_ = 0.0;
  double l2_ = 0.0;
  mutable std::atomic<std::uint64_t> passes_{0};
};

}  // namespace shopml::linear_model
