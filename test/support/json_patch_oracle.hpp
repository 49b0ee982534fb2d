#pragma once
// The pieces of the JSON patch oracle (reports.md: applying the reported operations to the
// live document gives the shadow one) shared by the property test
// (test/mirror/diff/json_diff_property_test.cpp) and the fuzz target
// (test/fuzz/json_diff_fuzz.cpp): number-kind-blind equality, canonical numbers for sorting,
// a readable listing of differences, and the shape rules' predicates. Header-only: the fuzz
// build compiles it with clang and without the test support library.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "mirror/diff/json_diff.hpp"

namespace parallax::test::json_oracle {

namespace json = boost::json;

/// The number a parsed double stands for. Boost.JSON 1.81 parses a zero with a huge exponent
/// (0e400) as NaN, 0 times an infinite power of ten; JSON has no NaN, so the text meant 0.
inline double meant(double d) {
  return std::isnan(d) ? 0.0 : d;
}

/// Numeric equality across Boost.JSON's number kinds.
inline bool numbers_same(const json::value& a, const json::value& b) {
  if (!a.is_double() && !b.is_double()) return a == b;
  const auto as_ld = [](const json::value& v) -> long double {
    if (v.is_int64()) return static_cast<long double>(v.get_int64());
    if (v.is_uint64()) return static_cast<long double>(v.get_uint64());
    return static_cast<long double>(meant(v.get_double()));
  };
  return as_ld(a) == as_ld(b);
}

/// Structural equality where a number is a number whatever its Boost.JSON kind (1 == 1.0).
inline bool same(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return numbers_same(a, b);
  if (a.kind() != b.kind()) return false;
  if (const json::array* x = a.if_array()) {
    const json::array& y = b.get_array();
    if (x->size() != y.size()) return false;
    for (std::size_t i = 0; i < x->size(); ++i)
      if (!same((*x)[i], y[i])) return false;
    return true;
  }
  if (const json::object* x = a.if_object()) {
    const json::object& y = b.get_object();
    if (x->size() != y.size()) return false;
    for (const auto& member : *x) {
      const json::value* other = y.if_contains(member.key());
      if (other == nullptr || !same(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

/// `v` with every integral number as int64 (uint64 beyond), so numerically equal values
/// serialise alike (1 and 1.0 both as "1"): a sort key for unordered arrays.
inline json::value canonical_numbers(const json::value& v) {
  if (v.is_double()) {
    // Every integral double an int64 or uint64 can hold exactly, bounds included (-2^63 as a
    // double equals INT64_MIN: a bound of -9.2e18 left the two apart in a sort).
    const double d = meant(v.get_double());
    if (d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
      return static_cast<std::int64_t>(d);
    if (d == std::trunc(d) && d >= 0 && d < 18446744073709551616.0)
      return static_cast<std::uint64_t>(d);
    return v;
  }
  if (v.is_uint64() && v.get_uint64() <= std::numeric_limits<std::int64_t>::max())
    return static_cast<std::int64_t>(v.get_uint64());
  if (const json::array* arr = v.if_array()) {
    json::array out;
    for (const auto& item : *arr)
      out.push_back(canonical_numbers(item));
    return out;
  }
  if (const json::object* obj = v.if_object()) {
    json::object out;
    for (const auto& member : *obj)
      out.insert_or_assign(member.key(), canonical_numbers(member.value()));
    return out;
  }
  return v;
}

/// One line per difference: "op path live -> shadow".
inline std::string describe(const std::vector<mirror::diff::difference>& diffs) {
  std::string out;
  for (const auto& d : diffs) {
    out += std::string(to_string(d.op)) + " " + d.path + " " +
           (d.live ? json::serialize(*d.live) : "-") + " -> " +
           (d.shadow ? json::serialize(*d.shadow) : "-") + "\n";
  }
  return out;
}

/// Whether two values have one JSON type (every number is of one).
inline bool same_json_type(const json::value& a, const json::value& b) {
  return (a.is_number() && b.is_number()) || a.kind() == b.kind();
}

/// Whether pointer `a` is a proper ancestor of pointer `b`.
inline bool is_ancestor(const std::string& a, const std::string& b) {
  return b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '/';
}

} // namespace parallax::test::json_oracle
