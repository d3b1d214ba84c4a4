// Uses the installed headers end to end: a kernel call through the backend tag.
#include <cstdio>
#include <shopml/shopml.hpp>

int main() {
  const float x[4] = {1, 2, 3, 4};
  const float d = shopml::kernels<shopml::cpu>::dot(x, x, 4);
  std::printf("shopml %s: dot = %g\n", shopml::version_string, d);
  return d == 30.0f ? 0 : 1;
}
