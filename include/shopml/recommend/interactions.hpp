#pragma once
// User × item interactions with external ids (strings or integers) mapped to dense
// indices and back, turned into the sparse matrices the recommenders fit on.
//
//   recommend::interactions<std::string> log;              // ids as strings
//   log.add("u42", "sku-7", 3.0);                          // value, optional timestamp
//   recommend::csr_matrix user_items = log.user_items();   // users × items, CSR
//   std::int32_t row = log.users().index("u42");            // and back: log.users().id(row)
//
// Values must be finite and >= 0 (value_error names the user and item otherwise); a zero
// value is "no interaction" and is dropped when the matrix is built, so no stored row or
// column is ever all zero. Duplicated (user, item) pairs are summed (their latest
// timestamp kept) or rejected, by `duplicates` policy.

#include <Eigen/SparseCore>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/open_file.hpp"

namespace shopml::recommend {

// users × items (or items × users), row-major with sorted column indices, as scipy's csr_matrix.
using csr_matrix = Eigen::SparseMatrix<double, Eigen::RowMajor, std::int32_t>;
// The column-major twin: the item-major view of a users × items matrix.
using csc_matrix = Eigen::SparseMatrix<double, Eigen::ColMajor, std::int32_t>;

enum class duplicate_policy { sum, reject };

namespace detail {

template <class M>
inline constexpr bool dependent_false = false;

// A users × items matrix of another type, as the recommenders take it: another sparse
// storage order or index type is converted; float values, dense matrices and anything
// else are refused here, at the shopml call, rather than by a static assertion deep
// inside Eigen.
template <class M>
csr_matrix as_user_items(const M& m) {
  if constexpr (std::is_base_of_v<Eigen::SparseMatrixBase<M>, M>) {
    static_assert(std::is_same_v<typename M::Scalar, double>,
                  "shopml::recommend: user_items must hold double values: pass a shopml::recommend::csr_matrix "
                  "(Eigen::SparseMatrix<double, Eigen::RowMajor, std::int32_t>), e.g. from "
                  "recommend::interactions::user_items(), or convert yours with .cast<double>()");
    return csr_matrix(m);
  } else {
    static_assert(dependent_false<M>,
                  "shopml::recommend: user_items must be a sparse users x items matrix, a shopml::recommend::csr_matrix "
                  "(Eigen::SparseMatrix<double, Eigen::RowMajor, std::int32_t>): build it with "
                  "recommend::interactions::user_items() or recommend::to_csr(), or convert a dense one with .sparseView()");
    return {};
  }
}

}  // namespace detail

// Dense indices 0..size()-1 for external ids, in order of first appearance.
template <class Id>
class id_map {
 public:
  // `kind` names the ids in errors: "user", "item" ("unknown user id '42'").
  explicit id_map(std::string kind = "") : kind_(std::move(kind)) {}

  // The index of `id`, adding it when new.
  std::int32_t insert(const Id& id) {
    const auto [it, added] = index_.try_emplace(id, static_cast<std::int32_t>(ids_.size()));
    if (added) {
      if (ids_.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        throw value_error("id_map: more than 2^31-1 distinct ids");
      ids_.push_back(id);
    }
    return it->second;
  }
  // The index of a known id; value_error for an unknown one.
  std::int32_t index(const Id& id) const {
    const auto it = index_.find(id);
    if (it == index_.end()) throw value_error("unknown " + prefix() + "id '" + to_text(id) + "'");
    return it->second;
  }
  bool contains(const Id& id) const { return index_.count(id) != 0; }
  const Id& id(std::int32_t index) const {
    if (index < 0 || static_cast<std::size_t>(index) >= ids_.size())
      throw value_error(
          prefix() + "index " + std::to_string(index) +
          (ids_.empty() ? " is out of range: there are no ids" : " is outside 0.." + std::to_string(ids_.size() - 1)));
    return ids_[static_cast<std::size_t>(index)];
  }
  std::int32_t size() const { return static_cast<std::int32_t>(ids_.size()); }
  const std::vector<Id>& ids() const { return ids_; }

  static std::string to_text(const Id& id) {
    if constexpr (std::is_convertible_v<const Id&, std::string>)
      return std::string(id);
    else
      return std::to_string(id);
  }

 private:
  std::string prefix() const { return kind_.empty() ? std::string() : kind_ + " "; }

  std::string kind_;
  std::unordered_map<Id, std::int32_t> index_;
  std::vector<Id> ids_;
};

// One interaction by dense indices, after duplicates were merged.
struct interaction {
  std::int32_t user = 0;
  std::int32_t item = 0;
  double value = 0.0;
  std::int64_t timestamp = 0;
};

// Builds a CSR matrix from (row, column, value) records: rows × cols, duplicates summed.
inline csr_matrix to_csr(const std::vector<interaction>& records, std::int32_t rows, std::int32_t cols) {
  std::vector<Eigen::Triplet<double, std::int32_t>> triplets;
  triplets.reserve(records.size());
  for (const auto& r : records) triplets.emplace_back(r.user, r.item, r.value);
  csr_matrix m(rows, cols);
  m.setFromTriplets(triplets.begin(), triplets.end());
  m.makeCompressed();
  return m;
}

template <class UserId = std::string, class ItemId = UserId>
class interactions {
 public:
  explicit interactions(duplicate_policy duplicates = duplicate_policy::sum) : duplicates_(duplicates) {}

  void add(const UserId& user, const ItemId& item, double value = 1.0, std::int64_t timestamp = 0) {
    if (!std::isfinite(value) || value < 0.0)
      throw value_error("interaction (user '" + id_map<UserId>::to_text(user) + "', item '" + id_map<ItemId>::to_text(item) +
                        "'): value " + std::to_string(value) + " is not a finite number >= 0");
    records_.push_back({users_.insert(user), items_.insert(item), value, timestamp});
    built_ = false;
  }

  const id_map<UserId>& users() const { return users_; }
  const id_map<ItemId>& items() const { return items_; }
  std::int32_t n_users() const { return users_.size(); }
  std::int32_t n_items() const { return items_.size(); }

  // One record per (user, item) with a non-zero value, sorted by (user, item).
  const std::vector<interaction>& records() const {
    build();
    return merged_;
  }

  // users × items; rows of users whose values were all zero are empty.
  csr_matrix user_items() const { return to_csr(records(), n_users(), n_items()); }

 private:
  void build() const {
    if (built_) return;
    std::vector<interaction> sorted = records_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const interaction& a, const interaction& b) {
      return a.user != b.user ? a.user < b.user : a.item < b.item;
    });
    merged_.clear();
    for (const auto& r : sorted) {
      if (!merged_.empty() && merged_.back().user == r.user && merged_.back().item == r.item) {
        if (duplicates_ == duplicate_policy::reject)
          throw value_error("duplicate interaction (user '" + id_map<UserId>::to_text(users_.id(r.user)) + "', item '" +
                            id_map<ItemId>::to_text(items_.id(r.item)) + "')");
        merged_.back().value += r.value;
        merged_.back().timestamp = std::max(merged_.back().timestamp, r.timestamp);
      } else {
        merged_.push_back(r);
      }
    }
    std::erase_if(merged_, [](const interaction& r) { return r.value == 0.0; });
    built_ = true;
  }

  duplicate_policy duplicates_;
  id_map<UserId> users_{"user"};
  id_map<ItemId> items_{"item"};
  std::vector<interaction> records_;
  mutable std::vector<interaction> merged_;
  mutable bool built_ = false;
};

// Reads `user<sep>item[<sep>value[<sep>timestamp]]` lines (MovieLens u.data is tab-separated,
// the peer benchmark's files are `user,item,value` CSV with a header). Missing value = 1.
// parse_error names the file and line of a malformed record.
inline interactions<std::string> read_interactions(const std::filesystem::path& path, char separator = ',', bool header = true,
                                                   duplicate_policy duplicates = duplicate_policy::sum) {
  std::ifstream in = io::open_input(path, std::ios::in);
  interactions<std::string> log(duplicates);
  std::string line;
  std::size_t line_no = 0;
  auto fail = [&](const std::string& why) {
    throw parse_error("'" + path.string() + "' line " + std::to_string(line_no) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if ((header && line_no == 1) || line.empty()) continue;
    std::vector<std::string_view> fields;
    std::string_view rest(line);
    for (std::size_t cut; (cut = rest.find(separator)) != std::string_view::npos; rest.remove_prefix(cut + 1))
      fields.push_back(rest.substr(0, cut));
    fields.push_back(rest);
    if (fields.size() < 2 || fields.size() > 4) fail("expected 2 to 4 fields, found " + std::to_string(fields.size()));
    if (fields[0].empty() || fields[1].empty()) fail("empty user or item id");
    double value = 1.0;
    std::int64_t timestamp = 0;
    if (fields.size() >= 3) {
      const auto f = fields[2];
      const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
      if (ec != std::errc() || end != f.data() + f.size()) fail("value '" + std::string(f) + "' is not a number");
    }
    if (fields.size() == 4) {
      const auto f = fields[3];
      const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), timestamp);
      if (ec != std::errc() || end != f.data() + f.size()) fail("timestamp '" + std::string(f) + "' is not an integer");
    }
    try {
      log.add(std::string(fields[0]), std::string(fields[1]), value, timestamp);
    } catch (const value_error& e) {
      fail(e.what());
    }
  }
  return log;
}

}  // namespace shopml::recommend
