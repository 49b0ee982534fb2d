// No silent loss of records (issue: deployable and gateable): a report path that cannot be
// written stops `parallax run` (exit 1, naming it) or rejects a reload, and a log that fails
// later is logged (rate-limited) and counted in parallax_report_write_errors_total.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "test/integration/binary_fixture.hpp"
#include "test/integration/proxy_fixture.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Route `api` to `live`, mirrored at 100% to `preview`, with `reports` as given.
std::string mirrored(const std::string& live, const std::string& preview,
                     const std::string& reports) {
  return config_head() + "  live: { endpoints: [\"" + live + "\"] }\n  preview: { endpoints: [\"" +
         preview +
         "\"] }\n"
         "routes:\n"
         "  - { name: api, upstream: live, mirror: { upstream: preview, percent: 100 } }\n"
         "reports: " +
         reports + "\n";
}

TEST(ReportLossTest, RunExitsWith1NamingAReportPathThatCannotBeWritten) {
  const temp_dir dir("parallax-report-loss");
  const auto missing = dir.file("no-such-dir/discrepancies.jsonl");
  const auto log_file = write_file(
      dir.file("log.yaml"),
      mirrored("127.0.0.1:1", "127.0.0.1:2", "{ discrepancies: { path: \"" + missing + "\" } }"));
  child_process log_run({binary(), "run", "--config", log_file});
  EXPECT_EQ(run_to_exit(log_run), 1);
  EXPECT_THAT(log_run.all_output(), HasSubstr("reports.discrepancies.path: cannot write " +
                                              missing + ": No such file or directory"));

  const auto summary = dir.file("no-such-dir/summary.json");
  const auto summary_file = write_file(
      dir.file("summary.yaml"), mirrored("127.0.0.1:1", "127.0.0.1:2",
                                         "{ discrepancies: { path: \"" + dir.file("d.jsonl") +
                                             "\" }, summary: { path: \"" + summary + "\" } }"));
  child_process summary_run({binary(), "run", "--config", summary_file});
  EXPECT_EQ(run_to_exit(summary_run), 1);
  EXPECT_THAT(summary_run.all_output(), HasSubstr("reports.summary.path: cannot write " + summary));
}

// A log that cannot take records after the start (here /dev/full: opening works, every write
// fails with ENOSPC) is said in the process log and counted, never lost silently.
TEST(ReportLossTest, ALogThatFailsLaterIsLoggedAndCounted) {
  http_backend live(fixed_response_handler(200, R"({"v":1})", {}, "application/json"));
  http_backend preview(fixed_response_handler(200, R"({"v":2})", {}, "application/json"));
  const temp_dir dir("parallax-report-loss");
  const auto file =
      write_file(dir.file("parallax.yaml"), mirrored(live.address(), preview.address(),
                                                     "{ discrepancies: { path: /dev/full } }"));
  running_binary proxy(file);
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(client.round_trip(raw_client::request("GET", "/api/x")).status, 200);
  const auto line = proxy.process().wait_for_line("could not be written", exit_bound);
  ASSERT_TRUE(line.has_value()) << proxy.process().all_output();
  EXPECT_THAT(*line, HasSubstr("discrepancy log /dev/full"));
  EXPECT_THAT(*line, HasSubstr("No space left on device"));
  const auto metrics = get(proxy.admin_port(), "/metrics").body;
  const auto errors =
      metric_value(metrics, "parallax_report_write_errors_total{sink=\"discrepancies\"}");
  ASSERT_TRUE(errors.has_value());
  EXPECT_GE(std::stoi(*errors), 1);
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(run_to_exit(proxy.process()), 0);
}

} // namespace
} // namespace parallax::test
