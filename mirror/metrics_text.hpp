#pragma once
// The mirror's part of admin `GET /metrics` (reports.md "Metrics"): the parallax_mirror_* series
// of every mirrored route in Prometheus text format, read from the routes' counters and gauges.

#include <memory>
#include <string>
#include <vector>

namespace parallax::mirror {

struct route_state;

/// Appends the mirror metrics of `routes` (null entries, routes that are not mirrored, skipped).
void append_mirror_metrics(std::string& out,
                           const std::vector<std::shared_ptr<route_state>>& routes);

} // namespace parallax::mirror
