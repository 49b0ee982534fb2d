#pragma once
// `parallax report --fail-if EXPR --min-compared N` (reports.md "inputs and the gate"): turns a
// summary into a verdict a CI step or a rollout can act on.

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::report {

/// One `NAME OP NUMBER` condition.
struct gate_condition {
  enum class op { gt, ge, lt, le, eq, ne };
  std::string name; // discrepancy_rate, max_endpoint_discrepancy_rate, shadow_error_rate,
                    // compared, differ, shadow_error, latency_regressions
  op comparison = op::gt;
  double number = 0;
  std::string text; // as given, normalised to "NAME OP NUMBER"
};

/// Parses EXPR (spaces around OP optional); nothing with `error` set for anything else.
[[nodiscard]] std::optional<gate_condition> parse_gate_condition(std::string_view expr,
                                                                 std::string& error);

/// The figures conditions test, from a `parallax.summary/v1` document; a rate is nothing when
/// no exchange was compared (it then never satisfies a condition).
struct gate_figures {
  std::uint64_t compared = 0;
  std::uint64_t differ = 0;
  std::uint64_t shadow_error = 0;
  std::uint64_t latency_regressions = 0;
  std::optional<double> discrepancy_rate;
  std::optional<double> max_endpoint_discrepancy_rate;
  std::optional<double> shadow_error_rate;
};

/// Reads the figures of `summary`.
[[nodiscard]] gate_figures gate_figures_of(const boost::json::object& summary);

/// The verdict: exit 4 when fewer than `min_compared` exchanges were compared (checked first),
/// else 3 when any condition holds, else 0; `lines` says why (one per condition that holds).
struct gate_verdict {
  int exit_code = 0;
  std::vector<std::string> lines;
};

/// Judges `figures` by `conditions` and `min_compared` (0: no minimum).
[[nodiscard]] gate_verdict judge(const gate_figures& figures,
                                 const std::vector<gate_condition>& conditions,
                                 std::uint64_t min_compared);

} // namespace parallax::mirror::report
