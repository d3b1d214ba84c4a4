// Uses the installed headers end to end: a kernel call through the backend tag, and a
// check that a consumer built as the README says runs the kernels with the best
// instruction set this CPU offers (run-time dispatch is what shopml::shopml gives).
#include <cstdio>
#include <shopml/shopml.hpp>

int main() {
  const float x[4] = {1, 2, 3, 4};
  const float d = shopml::kernels<shopml::cpu>::dot(x, x, 4);
  std::printf("shopml %s: dot = %g, kernels run with %s, best for this CPU: %s\n", shopml::version_string, d,
              shopml::kernel_isa(), shopml::best_isa());
  if (shopml::below_best_isa()) {
    std::printf("the kernels run below the best instruction set of this CPU: no run-time dispatch\n");
    return 1;
  }
  return d == 30.0f ? 0 : 1;
}
