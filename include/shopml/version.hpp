#pragma once

#define SHOPML_VERSION_MAJOR 0
#define SHOPML_VERSION_MINOR 1
#define SHOPML_VERSION_PATCH 0

namespace shopml {
inline constexpr const char* version_string = "0.1.0";
}  // namespace shopml
