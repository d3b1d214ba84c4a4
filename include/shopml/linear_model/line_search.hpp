#pragma once
// The Moré–Thuente line search (J. J. Moré, D. J. Thuente, "Line search algorithms with
// guaranteed sufficient decrease", ACM TOMS 20(3), 1994), the search L-BFGS-B and thus
// scikit-learn's lbfgs solver use. It finds a step satisfying the strong Wolfe conditions
//   phi(stp) <= phi(0) + ftol * stp * phi'(0)   and   |phi'(stp)| <= gtol * |phi'(0)|
// by safeguarded cubic/quadratic interpolation inside a shrinking bracket.
//
// It is written as a resumable state machine (like MINPACK-2's dcsrch) so the caller owns
// the function evaluations: construct it with phi(0), phi'(0) and a first step, evaluate
// phi at step(), call next(phi, dphi) until it reports done.

#include <algorithm>
#include <cmath>

namespace shopml::linear_model {

struct line_search_options {
  double ftol = 1e-3;  // sufficient decrease (Armijo) constant
  double gtol = 0.9;   // curvature constant
  double xtol = 0.1;   // relative width of the bracket below which the search stops
  double stpmin = 0.0;
  double stpmax = 1e10;
};

class more_thuente_search {
 public:
  enum class state { evaluate, converged, warning };

  // phi0 and dphi0 (< 0: a descent direction) at step 0; `first_step` is the first trial.
  more_thuente_search(double phi0, double dphi0, double first_step, line_search_options opt = {})
      : opt_(opt),
        finit_(phi0),
        ginit_(dphi0),
        gtest_(opt.ftol * dphi0),
        width_(opt.stpmax - opt.stpmin),
        width1_(2.0 * width_),
        fx_(phi0),
        gx_(dphi0),
        fy_(phi0),
        gy_(dphi0),
        stp_(std::clamp(first_step, opt.stpmin, opt.stpmax)),
        stmax_(stp_ + 4.0 * stp_) {}

  // The step to evaluate next (or, once done, the accepted one).
  double step() const { return stp_; }

  // Feeds phi(step()) and phi'(step()); returns whether to evaluate again.
  state next(double f, double g) {
    const double ftest = finit_ + stp_ * gtest_;
    if (stage_ == 1 && f <= ftest && g >= 0.0) stage_ = 2;

    // Warnings end the search with the current step (as dcsrch does).
    if (brackt_ && (stp_ <= stmin_ || stp_ >= stmax_)) return state::warning;  // rounding errors
    if (brackt_ && stmax_ - stmin_ <= opt_.xtol * stmax_) return state::warning;
    if (stp_ == opt_.stpmax && f <= ftest && g <= gtest_) return state::warning;
    if (stp_ == opt_.stpmin && (f > ftest || g >= gtest_)) return state::warning;
    if (f <= ftest && std::abs(g) <= opt_.gtol * (-ginit_)) return state::converged;

    // In stage 1, while the step has a function value no better than the best one but
    // above the Armijo line, interpolate the modified function psi = phi - stp * gtest.
    if (stage_ == 1 && f <= fx_ && f > ftest) {
      const double fm = f - stp_ * gtest_;
      double fxm = fx_ - stx_ * gtest_, fym = fy_ - sty_ * gtest_;
      double gxm = gx_ - gtest_, gym = gy_ - gtest_;
      step_interval(stx_, fxm, gxm, sty_, fym, gym, stp_, fm, g - gtest_);
      fx_ = fxm + stx_ * gtest_;
      fy_ = fym + sty_ * gtest_;
      gx_ = gxm + gtest_;
      gy_ = gym + gtest_;
    } else {
      step_interval(stx_, fx_, gx_, sty_, fy_, gy_, stp_, f, g);
    }

    // Force a sufficient shrink of the bracket, else bisect.
    if (brackt_) {
      if (std::abs(sty_ - stx_) >= 0.66 * width1_) stp_ = stx_ + 0.5 * (sty_ - stx_);
      width1_ = width_;
      width_ = std::abs(sty_ - stx_);
    }
    if (brackt_) {
      stmin_ = std::min(stx_, sty_);
      stmax_ = std::max(stx_, sty_);
    } else {
      stmin_ = stp_ + 1.1 * (stp_ - stx_);
      stmax_ = stp_ + 4.0 * (stp_ - stx_);
    }
    stp_ = std::clamp(stp_, opt_.stpmin, opt_.stpmax);
    // Without further progress possible, fall back to the best step so far.
    if ((brackt_ && (stp_ <= stmin_ || stp_ >= stmax_)) || (brackt_ && stmax_ - stmin_ <= opt_.xtol * stmax_)) stp_ = stx_;
    return state::evaluate;
  }

 private:
  // dcstep: updates the interval [stx, sty] holding a minimiser and proposes the next
  // trial step from the values at stx (best so far), sty and stp.
  void step_interval(double& stx, double& fx, double& dx, double& sty, double& fy, double& dy, double& stp, double fp,
                     double dp) {
    const double sgnd = dp * (dx / std::abs(dx));
    double stpf;
    if (fp > fx) {
      // Higher function value: the minimum is bracketed; take the cubic step if it is
      // closer to stx than the quadratic one, else their mean.
      const double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
      const double s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
      double gamma = s * std::sqrt(std::max(0.0, (theta / s) * (theta / s) - (dx / s) * (dp / s)));
      if (stp < stx) gamma = -gamma;
      const double p = (gamma - dx) + theta;
      const double q = ((gamma - dx) + gamma) + dp;
      const double stpc = stx + (p / q) * (stp - stx);
      const double stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
      stpf = std::abs(stpc - stx) < std::abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2.0;
      brackt_ = true;
    } else if (sgnd < 0.0) {
      // Derivatives of opposite sign: bracketed; the step farther from stp wins.
      const double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
      const double s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
      double gamma = s * std::sqrt(std::max(0.0, (theta / s) * (theta / s) - (dx / s) * (dp / s)));
      if (stp > stx) gamma = -gamma;
      const double p = (gamma - dp) + theta;
      const double q = ((gamma - dp) + gamma) + dx;
      const double stpc = stp + (p / q) * (stx - stp);
      const double stpq = stp + (dp / (dp - dx)) * (stx - stp);
      stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
      brackt_ = true;
    } else if (std::abs(dp) < std::abs(dx)) {
      // Same sign, derivative magnitude decreasing: the cubic step is used only when it
      // goes in the direction of the decrease.
      const double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
      const double s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
      double gamma = s * std::sqrt(std::max(0.0, (theta / s) * (theta / s) - (dx / s) * (dp / s)));
      if (stp > stx) gamma = -gamma;
      const double p = (gamma - dp) + theta;
      const double q = (gamma + (dx - dp)) + gamma;
      const double r = p / q;
      double stpc;
      if (r < 0.0 && gamma != 0.0)
        stpc = stp + r * (stx - stp);
      else
        stpc = stp > stx ? stmax_ : stmin_;
      const double stpq = stp + (dp / (dp - dx)) * (stx - stp);
      if (brackt_) {
        stpf = std::abs(stpc - stp) < std::abs(stpq - stp) ? stpc : stpq;
        stpf = stp > stx ? std::min(stp + 0.66 * (sty - stp), stpf) : std::max(stp + 0.66 * (sty - stp), stpf);
      } else {
        stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
        stpf = std::clamp(stpf, stmin_, stmax_);
      }
    } else {
      // Same sign, derivative not decreasing: extrapolate to the bound or use the cubic
      // through stp and sty.
      if (brackt_) {
        const double theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
        const double s = std::max({std::abs(theta), std::abs(dy), std::abs(dp)});
        double gamma = s * std::sqrt(std::max(0.0, (theta / s) * (theta / s) - (dy / s) * (dp / s)));
        if (stp > sty) gamma = -gamma;
        const double p = (gamma - dp) + theta;
        const double q = ((gamma - dp) + gamma) + dy;
        stpf = stp + (p / q) * (sty - stp);
      } else {
        stpf = stp > stx ? stmax_ : stmin_;
      }
    }
    if (fp > fx) {
      sty = stp;
      fy = fp;
      dy = dp;
    } else {
      if (sgnd < 0.0) {
        sty = stx;
        fy = fx;
        dy = dx;
      }
      stx = stp;
      fx = fp;
      dx = dp;
    }
    stp = stpf;
  }

  line_search_options opt_;
  double finit_, ginit_, gtest_, width_, width1_;
  double stx_ = 0.0, fx_, gx_;
  double sty_ = 0.0, fy_, gy_;
  double stp_, stmin_ = 0.0, stmax_;
  bool brackt_ = false;
  int stage_ = 1;
};

}  // namespace shopml::linear_model
