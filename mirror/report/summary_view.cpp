#include "mirror/report/summary_view.hpp"

#include "mirror/report/json_text.hpp"

#include <cstdio>
#include <limits>

namespace parallax::mirror::report::view {
namespace {

namespace json = boost::json;

const json::object empty_object;
const json::array empty_array;

} // namespace

const json::object& object_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : empty_object;
}

const json::array& array_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? v->get_array() : empty_array;
}

std::optional<double> number_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return std::nullopt;
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (const auto* s = v->if_string()) return std::string(*s);
  return serialize_json(*v);
}

bool bool_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

std::string printf_double(const char* pattern, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, v);
  return buffer;
}

// A count, or "?" when unknown.
std::string count_text(const json::object& o, std::string_view key) {
  const auto v = number_at(o, key);
  if (!v) return "?";
  return printf_double("%.0f", *v);
}

std::string percent_text(const json::object& o, std::string_view key) {
  const auto v = number_at(o, key);
  return v ? printf_double("%.2f%%", *v * 100.0) : "n/a";
}

std::string ms_text(std::optional<double> v) {
  if (!v) return "-";
  return printf_double(*v >= 100 ? "%.0f ms" : "%.2f ms", *v);
}

std::optional<double> latency_at(const json::object& endpoint, std::string_view side,
                                 std::string_view q) {
  return number_at(object_at(object_at(endpoint, "latency_ms"), side), q);
}

// A count read back from a summary: negative or NaN reads as 0, never cast out of range.
std::uint64_t error_count(const json::object& endpoint) {
  const double n = number_at(endpoint, "shadow_error").value_or(0);
  if (!(n >= 0)) return 0;
  constexpr double limit = 18446744073709551615.0; // 2^64, the first value no uint64_t holds
  return n < limit ? static_cast<std::uint64_t>(n) : std::numeric_limits<std::uint64_t>::max();
}

// "body /user/name", "header content-type", "status 200 -> 500", "body_text", ...
std::string difference_text(const json::object& d) {
  std::string text = string_at(d, "kind");
  if (d.contains("path")) text += " " + string_at(d, "path");
  if (d.contains("name")) text += " " + string_at(d, "name");
  if (text == "status" || text == "grpc_status") text += " " + string_at(d, "live") + " -> " + string_at(d, "shadow");
  if (bool_at(d, "noise")) text += " (noise)";
  return text;
}

std::string shadow_errors_text(const json::object& endpoint) {
  std::string text;
  for (const auto& [kind, n] : object_at(endpoint, "shadow_errors")) {
    if (!text.empty()) text += ", ";
    text += std::string(kind) + " " + (n.is_number() ? serialize_json(n) : "?");
  }
  return text;
}

std::string window_text(const json::object& s) {
  return string_at(s, "since") + " .. " + string_at(s, "until");
}

// Totals as "name value" pairs in document order, unknown ones as "?".
std::vector<std::pair<std::string, std::string>> totals_pairs(const json::object& s) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto& totals = object_at(s, "totals");
  for (const char* key : {"exchanges", "sampled", "compared", "match", "differ", "shadow_error"}) {
    out.emplace_back(key, count_text(totals, key));
  }
  return out;
}

// Skip counts as "reason value" pairs; empty when unknown (not an object).
std::vector<std::pair<std::string, std::string>> skipped_pairs(const json::object& s) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto* skipped = object_at(s, "totals").if_contains("skipped");
  if (skipped == nullptr || !skipped->is_object()) return out;
  for (const auto& [reason, n] : skipped->get_object()) {
    out.emplace_back(std::string(reason), n.is_number() ? serialize_json(n) : "?");
  }
  return out;
}

// Totals and skip counts in one list, for the markdown and html tables.
std::vector<std::pair<std::string, std::string>> all_totals(const json::object& s) {
  auto out = totals_pairs(s);
  const auto skipped = skipped_pairs(s);
  if (skipped.empty()) out.emplace_back("skipped", "?");
  for (const auto& [reason, n] : skipped)
    out.emplace_back("skipped " + reason, n);
  return out;
}

// One endpoint row of the text/markdown/html tables.
std::vector<std::string> endpoint_row(const json::object& e) {
  std::string flags;
  if (bool_at(e, "latency_regression")) flags = "LATENCY REGRESSION";
  return {string_at(e, "endpoint"),
          string_at(e, "route"),
          count_text(e, "compared"),
          count_text(e, "differ"),
          percent_text(e, "diff_rate"),
          std::to_string(error_count(e)),
          ms_text(latency_at(e, "live", "p99")),
          ms_text(latency_at(e, "shadow", "p99")),
          flags};
}

// The endpoint table's column headings (the last one, flags, has none in text).
std::vector<std::string> endpoint_columns() {
  return {"ENDPOINT", "ROUTE",    "COMPARED",   "DIFFER", "DIFF RATE",
          "ERRORS",   "P99 LIVE", "P99 SHADOW", ""};
}

} // namespace parallax::mirror::report::view
