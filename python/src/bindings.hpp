#pragma once
// Shared by the binding sources: one bind_* function per area, and numpy arrays that own
// a C++ buffer (returned without a copy).

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <initializer_list>
#include <utility>
#include <vector>

namespace shopml_python {

namespace nb = nanobind;

void bind_errors(nb::module_& m);
void bind_text(nb::module_& m);
void bind_linear_model(nb::module_& m);
void bind_recommend(nb::module_& m);
void bind_search(nb::module_& m);
void bind_train(nb::module_& m);

// A numpy array over `owner`'s data: `owner` moves to the heap and a capsule frees it
// when the array (and every view of it) is gone.
template <class T, class Owner>
nb::ndarray<nb::numpy, T> owning_array(Owner&& owner, T* (*data_of)(Owner&), std::initializer_list<std::size_t> shape) {
  auto* heap = new Owner(std::forward<Owner>(owner));
  nb::capsule free_it(heap, [](void* p) noexcept { delete static_cast<Owner*>(p); });
  return nb::ndarray<nb::numpy, T>(data_of(*heap), shape, free_it);
}

template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values, std::initializer_list<std::size_t> shape) {
  return owning_array<T>(
      std::move(values), +[](std::vector<T>& v) { return v.data(); }, shape);
}

// Read-only C-contiguous CPU arrays: nanobind converts other dtypes and layouts once,
// without a copy when they already fit.
template <class T, class... Shape>
using input_array = nb::ndarray<const T, nb::c_contig, nb::device::cpu, Shape...>;

}  // namespace shopml_python
