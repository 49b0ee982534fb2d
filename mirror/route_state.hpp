#pragma once
// One mirrored route as the workers' shadow dispatchers and the comparison thread share it.

#include "config/config.hpp"
#include "mirror/compare.hpp"
#include "mirror/report/counters.hpp"
#include "mirror/sampler.hpp"
#include "proxy/server/metrics.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace parallax::mirror {

/// Everything about one mirrored route, shared by all workers: its policy, sampler and comparer,
/// its counters (report::route_counters, the one place its totals are kept) and its gauges.
struct route_state : report::route_counters {
  /// The state of route `r`, configuration index `i`; `r` must have a mirror policy and outlive
  /// this. Throws std::invalid_argument for a policy the comparer rejects.
  route_state(std::size_t i, const config::route& r)
      : index(i), name(r.name), policy(*r.mirror), sampler(*r.mirror), comparer(r.mirror->compare) {
  }

  std::size_t index;
  std::string name;
  const config::mirror_policy& policy;
  mirror::sampler sampler;
  mirror::comparer comparer;

  // Runtime override (POST /mirror/ROUTE {"paused": true}): sampled exchanges are skipped
  // (`paused`). Read with no lock on the request path.
  std::atomic<bool> paused{false};

  /// The percent in force for mirror_percent and GET /mirror: 0 while paused.
  [[nodiscard]] double effective_percent() const noexcept {
    return paused.load(std::memory_order_relaxed) ? 0.0 : sampler.percent();
  }

  // Gauges (reports.md metrics), updated with relaxed atomics.
  std::atomic<std::int64_t> inflight{0};
  proxy::server::histogram shadow_duration;
  proxy::server::histogram live_duration; // the live leg of mirrored exchanges, measured alike
};

} // namespace parallax::mirror
