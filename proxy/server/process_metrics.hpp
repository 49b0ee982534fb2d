#pragma once
// The standard process metrics (reports.md, without the parallax_ prefix), read from /proc at
// each scrape: process_resident_memory_bytes, process_open_fds, process_max_fds,
// process_cpu_seconds_total, process_start_time_seconds.

#include <string>

namespace parallax::proxy::server {

/// Appends the process metrics in the Prometheus text format (a value that cannot be read is
/// left out, never made up).
void append_process_metrics(std::string& out);

} // namespace parallax::proxy::server
