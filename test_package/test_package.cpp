// The packaged headers at work: a kernel through the CPU backend, a JSON parse
// (nlohmann_json) and an Eigen map, i.e. every required dependency reached.
#include <Eigen/Core>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <shopml/shopml.hpp>

int main() {
  const float x[4] = {1, 2, 3, 4};
  const float dot = shopml::kernels<shopml::cpu>::dot(x, x, 4);
  const auto config = nlohmann::json::parse(R"({"hidden_size": 4})");
  const float norm = Eigen::Map<const Eigen::VectorXf>(x, config["hidden_size"].get<int>()).squaredNorm();
#if defined(_OPENMP)
  const int openmp = 1;
#else
  const int openmp = 0;
#endif
  std::printf("shopml %s: dot = %g, squared norm = %g, openmp = %d\n", shopml::version_string, dot, norm, openmp);
  return dot == 30.0f && norm == 30.0f ? 0 : 1;
}
