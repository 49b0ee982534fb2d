// The standard process metrics of the real binary (reports.md: process_resident_memory_bytes,
// process_open_fds, process_max_fds, process_cpu_seconds_total, process_start_time_seconds),
// checked against what /proc says of the same process.

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "test/integration/binary_fixture.hpp"
#include "test/integration/proxy_fixture.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

double value_of(const std::string& metrics, const std::string& series) {
  const auto v = metric_value(metrics, series);
  EXPECT_TRUE(v.has_value()) << series << " missing";
  return v ? std::stod(*v) : -1;
}

// VmRSS of `pid` in bytes.
double vm_rss(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) * 1024;
  }
  return 0;
}

TEST(ProcessMetricsTest, DescribeTheRunningProcess) {
  http_backend live;
  const temp_dir dir("parallax-process-metrics");
  const auto before = std::chrono::system_clock::now();
  running_binary proxy(write_file(dir.file("parallax.yaml"), run_config(dir, live.address())));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  const auto m = get(proxy.admin_port(), "/metrics").body;
  const auto pid = proxy.process().pid();

  const double rss = value_of(m, "process_resident_memory_bytes");
  const double actual = vm_rss(pid);
  EXPECT_GT(rss, 1 << 20);
  EXPECT_GT(rss, actual * 0.5) << actual;
  EXPECT_LT(rss, actual * 2) << actual;
  std::size_t fds = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    (void)e;
    ++fds;
  }
  const double open = value_of(m, "process_open_fds");
  EXPECT_GE(open, 5); // stdio, epoll, listeners, the admin connection
  EXPECT_NEAR(open, static_cast<double>(fds), 4);
  EXPECT_GE(value_of(m, "process_max_fds"), open);
  EXPECT_GE(value_of(m, "process_cpu_seconds_total"), 0);
  const double start = value_of(m, "process_start_time_seconds");
  const double t0 = std::chrono::duration<double>(before.time_since_epoch()).count();
  EXPECT_GT(start, t0 - 2);
  EXPECT_LT(start, t0 + 30);
  EXPECT_NE(m.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(run_to_exit(proxy.process()), 0);
}

} // namespace
} // namespace parallax::test
