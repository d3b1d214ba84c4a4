#pragma once
// How label-taking functions (train_test_split, take, classification_report,
// logistic_regression::fit) accept any contiguous range: std::vector, std::array,
// std::span, of integers, std::string or std::string_view. C strings (const char*)
// are compared as text, through std::string_view, never by address.

#include <cstddef>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace shopml::detail {

template <class R>
concept contiguous_sized_range = std::ranges::contiguous_range<R> && std::ranges::sized_range<R>;

template <class T>
inline constexpr bool is_c_string = std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>;

template <class T>
inline constexpr bool is_span = false;
template <class T, std::size_t N>
inline constexpr bool is_span<std::span<T, N>> = true;

// The label type shopml uses for the elements of R.
template <class R>
using label_of = std::conditional_t<is_c_string<std::ranges::range_value_t<R>>, std::string_view, std::ranges::range_value_t<R>>;

// R's labels as something std::span<const label_of<R>> can view: R itself, or a
// vector of string_views when R holds C strings.
template <contiguous_sized_range R>
auto label_storage(const R& labels) {
  if constexpr (is_c_string<std::ranges::range_value_t<R>>) {
    return std::vector<std::string_view>(std::ranges::begin(labels), std::ranges::end(labels));
  } else {
    return std::span<const std::ranges::range_value_t<R>>(std::ranges::data(labels), std::ranges::size(labels));
  }
}

}  // namespace shopml::detail
