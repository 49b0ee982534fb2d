// The report gate (reports.md "inputs and the gate"): conditions, figures, verdicts.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "mirror/report/gate.hpp"

namespace parallax::mirror::report {
namespace {

gate_condition parsed(std::string_view expr) {
  std::string error;
  auto c = parse_gate_condition(expr, error);
  EXPECT_TRUE(c.has_value()) << error;
  return c.value_or(gate_condition{});
}

TEST(GateTest, ParsesEveryOperatorWithOrWithoutSpaces) {
  EXPECT_EQ(parsed("discrepancy_rate > 0.05").comparison, gate_condition::op::gt);
  EXPECT_EQ(parsed("discrepancy_rate>=0.05").comparison, gate_condition::op::ge);
  EXPECT_EQ(parsed("compared<100").comparison, gate_condition::op::lt);
  EXPECT_EQ(parsed(" compared <= 100 ").comparison, gate_condition::op::le);
  EXPECT_EQ(parsed("differ == 0").comparison, gate_condition::op::eq);
  EXPECT_EQ(parsed("latency_regressions != 0").comparison, gate_condition::op::ne);
  const auto c = parsed("shadow_error_rate>=1e-3");
  EXPECT_EQ(c.name, "shadow_error_rate");
  EXPECT_DOUBLE_EQ(c.number, 0.001);
  EXPECT_EQ(c.text, "shadow_error_rate >= 1e-3");
}

TEST(GateTest, RejectsUnknownNamesOperatorsAndNumbers) {
  for (const auto* bad : {"bogus > 1", "discrepancy_rate 1", "discrepancy_rate > x",
                          "discrepancy_rate >", "> 1", "differ > 1 2", "differ > nan"}) {
    std::string error;
    EXPECT_FALSE(parse_gate_condition(bad, error).has_value()) << bad;
    EXPECT_NE(error.find("NAME OP NUMBER"), std::string::npos) << error;
  }
}

const char* const summary_text = R"({
  "schema": "parallax.summary/v1",
  "totals": {"compared": 200, "match": 150, "differ": 40, "shadow_error": 10},
  "endpoints": [
    {"endpoint": "GET /a", "compared": 100, "differ": 30, "latency_regression": true},
    {"endpoint": "GET /b", "compared": 100, "differ": 10, "latency_regression": false},
    {"endpoint": "GET /c", "compared": 0, "differ": 0}
  ]})";

TEST(GateTest, FiguresComeFromTotalsAndEndpoints) {
  const auto f = gate_figures_of(boost::json::parse(summary_text).as_object());
  EXPECT_EQ(f.compared, 200u);
  EXPECT_EQ(f.differ, 40u);
  EXPECT_EQ(f.shadow_error, 10u);
  EXPECT_DOUBLE_EQ(f.discrepancy_rate.value_or(-1), 0.2);
  EXPECT_DOUBLE_EQ(f.shadow_error_rate.value_or(-1), 0.05);
  EXPECT_DOUBLE_EQ(f.max_endpoint_discrepancy_rate.value_or(-1), 0.3);
  EXPECT_EQ(f.latency_regressions, 1u);
}

TEST(GateTest, MinComparedFirstThenEveryConditionThatHolds) {
  const auto f = gate_figures_of(boost::json::parse(summary_text).as_object());
  const std::vector<gate_condition> conditions{parsed("discrepancy_rate > 0.1"),
                                               parsed("max_endpoint_discrepancy_rate >= 0.5"),
                                               parsed("latency_regressions > 0")};
  auto v = judge(f, conditions, 201);
  EXPECT_EQ(v.exit_code, 4);
  ASSERT_EQ(v.lines.size(), 1u);
  EXPECT_NE(v.lines[0].find("200 exchanges compared"), std::string::npos) << v.lines[0];
  v = judge(f, conditions, 200);
  EXPECT_EQ(v.exit_code, 3);
  ASSERT_EQ(v.lines.size(), 2u);
  EXPECT_EQ(v.lines[0], "gate: discrepancy_rate > 0.1 (it is 0.2)");
  EXPECT_EQ(v.lines[1], "gate: latency_regressions > 0 (it is 1)");
  EXPECT_EQ(judge(f, {parsed("differ > 40")}, 0).exit_code, 0);
}

TEST(GateTest, ARateThatCannotBeComputedNeverHolds) {
  const auto f = gate_figures_of(boost::json::parse(R"({"totals": {"compared": 0}})").as_object());
  EXPECT_FALSE(f.discrepancy_rate.has_value());
  const auto v = judge(f,
                       {parsed("discrepancy_rate >= 0"), parsed("shadow_error_rate < 1"),
                        parsed("max_endpoint_discrepancy_rate == 0")},
                       0);
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(judge(f, {parsed("compared == 0")}, 0).exit_code, 3); // a count always exists
}

} // namespace
} // namespace parallax::mirror::report
