#pragma once
// Limited-memory BFGS for smooth unconstrained minimisation, following the choices of
// L-BFGS-B (Byrd, Lu, Nocedal, Zhu 1995) as scipy.optimize.minimize(method="L-BFGS-B")
// runs it for scikit-learn: 10 correction pairs, the first step 1/||g|| along -g and 1
// afterwards, Moré–Thuente line search (ftol 1e-3, gtol 0.9, xtol 0.1), and the stopping
// tests  max_i |g_i| <= gtol  or  (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol.

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/linear_model/line_search.hpp"

namespace shopml::linear_model {

struct lbfgs_options {
  int max_iter = 100;
  double gtol = 1e-4;                                         // on max |gradient component|
  double ftol = 64 * std::numeric_limits<double>::epsilon();  // relative reduction of f
  int memory = 10;                                            // correction pairs kept
  int max_line_search = 50;                                   // evaluations per line search
};

enum class lbfgs_status {
  gradient_small,   // max |g_i| <= gtol
  reduction_small,  // relative reduction of f <= ftol
  max_iter_reached,
  line_search_failed,  // no acceptable step even along -g (rounding noise dominates)
};

inline const char* to_string(lbfgs_status s) {
  switch (s) {
    case lbfgs_status::gradient_small:
      return "converged: projected gradient <= gtol";
    case lbfgs_status::reduction_small:
      return "converged: relative reduction of f <= ftol";
    case lbfgs_status::max_iter_reached:
      return "stopped: maximum number of iterations reached";
    case lbfgs_status::line_search_failed:
      return "stopped: the line search found no acceptable step";
  }
  return "?";
}

struct lbfgs_result {
  double f = 0.0;
  int n_iter = 0;
  int n_evaluations = 0;
  lbfgs_status status = lbfgs_status::max_iter_reached;
  bool converged() const { return status == lbfgs_status::gradient_small || status == lbfgs_status::reduction_small; }
};

// Minimises f from x (updated in place). `fg(x, g)` returns f(x) and writes its gradient
// to g (same size as x). A non-finite f or gradient is an error of the objective.
template <class Objective>
lbfgs_result lbfgs_minimize(Objective&& fg, Eigen::VectorXd& x, const lbfgs_options& opt = {}) {
  using vec = Eigen::VectorXd;
  const Eigen::Index n = x.size();
  lbfgs_result res;
  auto evaluate = [&](const vec& at, vec& grad) {
    const double value = fg(at, grad);
    ++res.n_evaluations;
    if (!std::isfinite(value) || !grad.allFinite())
      throw value_error("lbfgs: the objective or its gradient is not finite after " + std::to_string(res.n_iter) + " iterations");
    return value;
  };

  vec g(n), g_new(n), x_new(n), d(n);
  double f = evaluate(x, g);
  res.f = f;
  if (n == 0 || g.lpNorm<Eigen::Infinity>() <= opt.gtol) {
    res.status = lbfgs_status::gradient_small;
    return res;
  }

  struct pair {
    vec s, y;
    double rho;
  };
  std::deque<pair> memory;
  std::vector<double> alpha;

  while (res.n_iter < opt.max_iter) {
    // Two-loop recursion: d = -H g with H0 = (s'y / y'y) I from the newest pair.
    d = -g;
    alpha.assign(memory.size(), 0.0);
    for (std::size_t k = memory.size(); k-- > 0;) {
      alpha[k] = memory[k].rho * memory[k].s.dot(d);
      d.noalias() -= alpha[k] * memory[k].y;
    }
    if (!memory.empty()) d *= 1.0 / (memory.back().rho * memory.back().y.squaredNorm());
    for (std::size_t k = 0; k < memory.size(); ++k) {
      const double beta = memory[k].rho * memory[k].y.dot(d);
      d.noalias() += (alpha[k] - beta) * memory[k].s;
    }
    double dphi0 = g.dot(d);
    if (!(dphi0 < 0.0)) {  // not a descent direction (curvature info gone bad): restart
      memory.clear();
      d = -g;
      dphi0 = -g.squaredNorm();
    }

    // Line search along d; on failure restart once from steepest descent.
    double stp = 0.0, f_new = f;
    bool accepted = false;
    for (int attempt = 0; attempt < 2 && !accepted; ++attempt) {
      if (attempt == 1) {
        if (memory.empty()) break;  // already steepest descent: give up
        memory.clear();
        d = -g;
        dphi0 = -g.squaredNorm();
      }
      const double first = memory.empty() ? std::min(1.0 / d.norm(), line_search_options{}.stpmax) : 1.0;
      more_thuente_search search(f, dphi0, first);
      for (int evals = 0; evals < opt.max_line_search; ++evals) {
        stp = search.step();
        x_new = x + stp * d;
        f_new = evaluate(x_new, g_new);
        if (search.next(f_new, g_new.dot(d)) != more_thuente_search::state::evaluate) {
          accepted = true;
          break;
        }
      }
    }
    if (!accepted) {
      res.status = lbfgs_status::line_search_failed;
      return res;
    }

    ++res.n_iter;
    pair p{x_new - x, g_new - g, 0.0};
    const double sy = p.s.dot(p.y);
    // Skip pairs without positive curvature (L-BFGS-B: dr <= eps * ddum).
    if (sy > std::numeric_limits<double>::epsilon() * (-dphi0 * stp)) {
      p.rho = 1.0 / sy;
      memory.push_back(std::move(p));
      if (static_cast<int>(memory.size()) > opt.memory) memory.pop_front();
    }
    const double f_old = f;
    x.swap(x_new);
    g.swap(g_new);
    f = f_new;
    res.f = f;

    if (g.lpNorm<Eigen::Infinity>() <= opt.gtol) {
      res.status = lbfgs_status::gradient_small;
      return res;
    }
    if ((f_old - f) / std::max({std::abs(f_old), std::abs(f), 1.0}) <= opt.ftol) {
      res.status = lbfgs_status::reduction_small;
      return res;
    }
  }
  res.status = lbfgs_status::max_iter_reached;
  return res;
}

}  // namespace shopml::linear_model
