#include "proxy/server/process_metrics.hpp"

#include <fmt/format.h>

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace parallax::proxy::server {

namespace {

// The fields of /proc/self/stat after the command name (which may hold spaces): index 0 is
// field 3 (state) of proc(5).
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  std::vector<std::string> out;
  if (close == std::string::npos) return out;
  std::istringstream rest(text.substr(close + 1));
  for (std::string f; rest >> f;)
    out.push_back(f);
  return out;
}

// Seconds since the epoch at boot (/proc/stat `btime`).
std::optional<double> boot_time() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("btime ")) return std::stod(line.substr(6));
  }
  return std::nullopt;
}

void gauge(std::string& out, const char* name, const char* type, const char* help, double v) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
}

} // namespace

void append_process_metrics(std::string& out) {
  const auto f = stat_fields();
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  try {
    // proc(5): utime 14, stime 15, starttime 22, rss 24 (1-based); f[0] is field 3.
    if (f.size() > 21 && tick > 0) {
      const double cpu = (std::stod(f[11]) + std::stod(f[12])) / tick;
      gauge(out, "process_cpu_seconds_total", "counter",
            "Total user and system CPU time spent in "
            "seconds.",
            cpu);
      if (const auto boot = boot_time()) {
        gauge(out, "process_start_time_seconds", "gauge",
              "Start time of the process since unix epoch in seconds.",
              *boot + std::stod(f[19]) / tick);
      }
      gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
            std::stod(f[21]) * page);
    }
  } catch (const std::exception&) { // an unreadable /proc: those metrics are left out
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++fds;
  if (!ec && fds > 0) {
    // The directory iterator's own descriptor is counted: the figure a scrape causes.
    gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.",
          static_cast<double>(fds));
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
          limit.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(limit.rlim_cur));
  }
}

} // namespace parallax::proxy::server
