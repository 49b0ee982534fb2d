#pragma once
// Reading a `parallax.summary/v1` document for display, defensively: a missing or mistyped field
// reads as unknown ("?", "-", "n/a"), never as a crash. Shared by the renderers (format.cpp) and
// the report page (report_page.cpp).

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parallax::mirror::report::view {

/// The object at `key`, or an empty one.
[[nodiscard]] const boost::json::object& object_at(const boost::json::object& o,
                                                   std::string_view key);
/// The array at `key`, or an empty one.
[[nodiscard]] const boost::json::array& array_at(const boost::json::object& o,
                                                 std::string_view key);
/// The number at `key`, if it is one.
[[nodiscard]] std::optional<double> number_at(const boost::json::object& o, std::string_view key);
/// The string at `key`; another value as JSON text; empty when missing or null.
[[nodiscard]] std::string string_at(const boost::json::object& o, std::string_view key);
/// Whether `key` holds true.
[[nodiscard]] bool bool_at(const boost::json::object& o, std::string_view key);
/// `v` formatted by the printf `pattern`.
[[nodiscard]] std::string printf_double(const char* pattern, double v);
/// A count, or "?" when unknown.
[[nodiscard]] std::string count_text(const boost::json::object& o, std::string_view key);
/// A rate as a percentage with two decimals, or "n/a".
[[nodiscard]] std::string percent_text(const boost::json::object& o, std::string_view key);
/// Milliseconds ("1.25 ms", "130 ms"), or "-".
[[nodiscard]] std::string ms_text(std::optional<double> v);
/// An endpoint's latency quantile `q` ("p50", "p90", "p99") of `side` ("live", "shadow").
[[nodiscard]] std::optional<double> latency_at(const boost::json::object& endpoint,
                                               std::string_view side, std::string_view q);
/// An endpoint's shadow_error count (negative or NaN read as 0).
[[nodiscard]] std::uint64_t error_count(const boost::json::object& endpoint);
/// "body /user/name", "header content-type", "status 200 -> 500", "body_text", ...
[[nodiscard]] std::string difference_text(const boost::json::object& d);
/// "timeout 3, reset 1", or empty.
[[nodiscard]] std::string shadow_errors_text(const boost::json::object& endpoint);
/// "SINCE .. UNTIL".
[[nodiscard]] std::string window_text(const boost::json::object& s);
/// Totals as "name value" pairs in document order, unknown ones as "?".
[[nodiscard]] std::vector<std::pair<std::string, std::string>>
totals_pairs(const boost::json::object& s);
/// Skip counts as "reason value" pairs; empty when unknown.
[[nodiscard]] std::vector<std::pair<std::string, std::string>>
skipped_pairs(const boost::json::object& s);
/// Totals and skip counts in one list, for tables.
[[nodiscard]] std::vector<std::pair<std::string, std::string>>
all_totals(const boost::json::object& s);
/// One endpoint row of the endpoint tables (endpoint_columns()).
[[nodiscard]] std::vector<std::string> endpoint_row(const boost::json::object& e);
/// The endpoint table's column headings (the last one, flags, has none in text).
[[nodiscard]] std::vector<std::string> endpoint_columns();

} // namespace parallax::mirror::report::view
