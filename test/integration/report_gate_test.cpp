// `parallax report --fail-if ... --min-compared N` end to end on a real log (the demo's): the
// exit codes a CI step or a rollout acts on (reports.md "inputs and the gate").

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "test/integration/binary_fixture.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ReportGateTest, ExitCodesFollowTheConditionsAndTheMinimum) {
  const temp_dir dir("parallax-report-gate");
  const auto log = dir.file("demo.jsonl");
  child_process demo({binary(), "demo", "--requests", "120", "--log", log});
  ASSERT_EQ(run_to_exit(demo), 0) << demo.all_output();
  const auto report = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{binary(), "report"};
    argv.insert(argv.end(), args.begin(), args.end());
    child_process p(argv);
    const int code = run_to_exit(p);
    return std::pair{code, p.all_output()};
  };

  // Conditions before and after the input (one value per --fail-if).
  auto [code, out] = report({"--fail-if", "differ > 0", log, "--fail-if", "differ > 1000000"});
  EXPECT_EQ(code, 3) << out;
  EXPECT_THAT(out, HasSubstr("report: gate: differ > 0 (it is "));
  EXPECT_THAT(out, Not(HasSubstr("differ > 1000000 (")));
  EXPECT_THAT(out, HasSubstr("GET /api/")); // the report itself is printed too
  std::tie(code, out) = report({"--fail-if", "differ > 1000000", log});
  EXPECT_EQ(code, 0) << out;
  // Not enough evidence is checked first.
  std::tie(code, out) = report({"--min-compared", "1000000", "--fail-if", "differ > 0", log});
  EXPECT_EQ(code, 4) << out;
  EXPECT_THAT(out, HasSubstr("not enough evidence"));
  std::tie(code, out) = report({"--fail-if", "bogus > 1", log});
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("unknown name \"bogus\""));
}

// `-` reads standard input: `kubectl logs POD -c parallax | parallax report -`, the process's own
// log lines interleaved with the records (skipped and counted).
TEST(ReportGateTest, ReadsStandardInputAndSkipsForeignLines) {
  const temp_dir dir("parallax-report-stdin");
  const auto log = dir.file("demo.jsonl");
  child_process demo({binary(), "demo", "--requests", "60", "--log", log});
  ASSERT_EQ(run_to_exit(demo), 0) << demo.all_output();
  const auto mixed = dir.file("kubectl.log");
  {
    std::ifstream in(log);
    std::ofstream out(mixed);
    out << "2026-12-03T20:00:00.000Z info  [1] ready: listener pod=http://0.0.0.0:8080\n";
    for (std::string line; std::getline(in, line);)
      out << line << "\n2026-12-03T20:00:01.000Z warn  [2] upstream preview: timeout\n";
  }
  child_process p({"/bin/sh", "-c", binary() + " report --format json - < " + mixed});
  ASSERT_EQ(run_to_exit(p), 0) << p.all_output();
  const auto out = p.stdout_text();
  EXPECT_THAT(out, HasSubstr("\"skipped_lines\": "));
  EXPECT_THAT(out, HasSubstr("line(s) that are not discrepancy records"));
  EXPECT_THAT(out, HasSubstr("GET /api/"));
}

} // namespace
} // namespace parallax::test
