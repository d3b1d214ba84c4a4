#pragma once
// Umbrella header: everything shopml offers on the CPU backend.

#include "shopml/version.hpp"
#include "shopml/error.hpp"
#include "shopml/parallel.hpp"
#include "shopml/backend/tags.hpp"
#include "shopml/backend/kernels.hpp"
#include "shopml/backend/cpu.hpp"
