#include "mirror/report/gate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace parallax::mirror::report {

namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 7> names{"discrepancy_rate",
                                                "max_endpoint_discrepancy_rate",
                                                "shadow_error_rate",
                                                "compared",
                                                "differ",
                                                "shadow_error",
                                                "latency_regressions"};

struct op_text {
  std::string_view text;
  gate_condition::op op;
};
// Two-character operators first, so `>=` is not read as `>` followed by `=`.
constexpr std::array<op_text, 6> ops{{{">=", gate_condition::op::ge},
                                      {"<=", gate_condition::op::le},
                                      {"==", gate_condition::op::eq},
                                      {"!=", gate_condition::op::ne},
                                      {">", gate_condition::op::gt},
                                      {"<", gate_condition::op::lt}}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

std::uint64_t count_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() > 0) return static_cast<std::uint64_t>(v->as_int64());
  return 0;
}

std::optional<double> rate(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

bool holds(double value, gate_condition::op op, double number) {
  switch (op) {
  case gate_condition::op::gt: return value > number;
  case gate_condition::op::ge: return value >= number;
  case gate_condition::op::lt: return value < number;
  case gate_condition::op::le: return value <= number;
  case gate_condition::op::eq: return value == number;
  case gate_condition::op::ne: return value != number;
  }
  return false;
}

} // namespace

std::optional<gate_condition> parse_gate_condition(std::string_view expr, std::string& error) {
  const auto usage = [&](std::string why) {
    error = "--fail-if \"" + std::string(expr) + "\": " + std::move(why) +
            " (NAME OP NUMBER; OP one of > >= < <= == !=; NAME one of discrepancy_rate, "
            "max_endpoint_discrepancy_rate, shadow_error_rate, compared, differ, shadow_error, "
            "latency_regressions)";
    return std::nullopt;
  };
  std::size_t at = std::string_view::npos;
  const op_text* found = nullptr;
  for (const auto& o : ops) {
    const auto pos = expr.find(o.text);
    if (pos != std::string_view::npos && (at == std::string_view::npos || pos < at ||
                                          (pos == at && o.text.size() > found->text.size()))) {
      at = pos;
      found = &o;
    }
  }
  if (found == nullptr) return usage("no comparison operator");
  gate_condition c;
  c.name = std::string(trim(expr.substr(0, at)));
  c.comparison = found->op;
  const auto number = trim(expr.substr(at + found->text.size()));
  if (std::find(names.begin(), names.end(), c.name) == names.end()) {
    return usage("unknown name \"" + c.name + "\"");
  }
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), c.number);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() ||
      !std::isfinite(c.number)) {
    return usage("\"" + std::string(number) + "\" is not a number");
  }
  c.text = fmt::format("{} {} {}", c.name, found->text, number);
  return c;
}

gate_figures gate_figures_of(const json::object& summary) {
  gate_figures f;
  if (const auto* totals = summary.if_contains("totals"); totals && totals->is_object()) {
    const auto& t = totals->as_object();
    f.compared = count_of(t, "compared");
    f.differ = count_of(t, "differ");
    f.shadow_error = count_of(t, "shadow_error");
  }
  f.discrepancy_rate = rate(f.differ, f.compared);
  f.shadow_error_rate = rate(f.shadow_error, f.compared);
  if (const auto* endpoints = summary.if_contains("endpoints");
      endpoints && endpoints->is_array()) {
    for (const auto& e : endpoints->as_array()) {
      if (!e.is_object()) continue;
      const auto& o = e.as_object();
      if (const auto r = rate(count_of(o, "differ"), count_of(o, "compared"))) {
        f.max_endpoint_discrepancy_rate = std::max(f.max_endpoint_discrepancy_rate.value_or(0), *r);
      }
      if (const auto* flagged = o.if_contains("latency_regression");
          flagged && flagged->is_bool() && flagged->as_bool()) {
        ++f.latency_regressions;
      }
    }
  }
  return f;
}

gate_verdict judge(const gate_figures& f, const std::vector<gate_condition>& conditions,
                   std::uint64_t min_compared) {
  gate_verdict v;
  if (min_compared > 0 && f.compared < min_compared) {
    v.exit_code = 4;
    v.lines.push_back(fmt::format("not enough evidence: {} exchanges compared, fewer than "
                                  "--min-compared {}",
                                  f.compared, min_compared));
    return v;
  }
  for (const auto& c : conditions) {
    std::optional<double> value;
    if (c.name == "discrepancy_rate")
      value = f.discrepancy_rate;
    else if (c.name == "max_endpoint_discrepancy_rate")
      value = f.max_endpoint_discrepancy_rate;
    else if (c.name == "shadow_error_rate")
      value = f.shadow_error_rate;
    else if (c.name == "compared")
      value = static_cast<double>(f.compared);
    else if (c.name == "differ")
      value = static_cast<double>(f.differ);
    else if (c.name == "shadow_error")
      value = static_cast<double>(f.shadow_error);
    else if (c.name == "latency_regressions")
      value = static_cast<double>(f.latency_regressions);
    if (value && holds(*value, c.comparison, c.number)) {
      v.exit_code = 3;
      v.lines.push_back(fmt::format("gate: {} (it is {:.6g})", c.text, *value));
    }
  }
  return v;
}

} // namespace parallax::mirror::report
