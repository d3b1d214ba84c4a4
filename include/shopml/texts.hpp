#pragma once
// shopml::texts_view: how every shopml function that takes a list of texts takes it.
// A non-owning view of any contiguous sequence whose elements convert to std::string_view:
//
//   std::vector<std::string> a;        model.encode(a);
//   std::vector<std::string_view> b;   model.encode(b);
//   std::span<const std::string> c;    model.encode(c);
//   std::array<const char*, 2> d;      model.encode(d);
//   model.encode({"red t-shirt", "blue jeans"});   // a braced list
//
// Like std::span it does not own the texts: it is a parameter type, valid for the call
// that receives it (a temporary vector or braced list lives until the call returns).
//
// Labels are not texts: functions taking labels (train_test_split, take,
// classification_report, logistic_regression::fit) are templates on the label type
// and take any contiguous range of it (shopml/labels_range.hpp).

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>

namespace shopml {

// A contiguous, sized range of things that convert to std::string_view.
template <class R>
concept text_range = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
    std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>;

class texts_view {
 public:
  texts_view() = default;

  template <class R>
  requires text_range<R> &&(!std::same_as<std::remove_cvref_t<R>, texts_view>)
      texts_view(R&& texts)  // NOLINT(google-explicit-constructor,bugprone-forwarding-reference-overload): a parameter type like
                             // std::span; never a texts_view
      : data_(std::ranges::data(texts)), size_(std::ranges::size(texts)), at_(&element<std::ranges::range_value_t<R>>) {}

  texts_view(std::initializer_list<std::string_view> texts)
      : data_(texts.begin()), size_(texts.size()), at_(&element<std::string_view>) {}

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view operator[](std::size_t i) const { return at_(data_, i); }

  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const texts_view* v, std::size_t i) : v_(v), i_(i) {}
    std::string_view operator*() const { return (*v_)[i_]; }
    iterator& operator++() { return ++i_, *this; }
    iterator operator++(int) { return {v_, i_++}; }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    const texts_view* v_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, size_}; }

 private:
  template <class T>
  static std::string_view element(const void* data, std::size_t i) {
    return std::string_view(static_cast<const T*>(data)[i]);
  }

  const void* data_ = nullptr;
  std::size_t size_ = 0;
  std::string_view (*at_)(const void*, std::size_t) = nullptr;
};

}  // namespace shopml
