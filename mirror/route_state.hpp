#pragma once
// One mirrored route as the workers' shadow dispatchers and the comparison thread share it:
// route_stats (what lives as long as the route's name: counters, gauges, runtime overrides) and
// route_state (what one configuration generation made of it: policy, sampler, comparer).

#include "config/config.hpp"
#include "mirror/compare.hpp"
#include "mirror/grpc/policy.hpp"
#include "mirror/report/counters.hpp"
#include "mirror/sampler.hpp"
#include "proxy/server/exchange_observer.hpp"
#include "proxy/server/metrics.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parallax::mirror {

/// What a route keeps across reloads while it exists: its counters (report::route_counters, the
/// one place its totals are kept), gauges and runtime overrides.
struct route_stats : report::route_counters {
  // Runtime override (POST /mirror/ROUTE {"paused": true}): sampled exchanges are skipped
  // (`paused`). Read with no lock on the request path.
  std::atomic<bool> paused{false};
  // Runtime override of the percent, given to every generation's sampler (guarded by the
  // engine's control lock).
  std::optional<double> percent_override;
  // The route's report window: +1 when a reload changes its mirror upstream or compare rules.
  std::atomic<std::uint64_t> window{0};
  // Uncompared sampled exchanges whose note was dropped (the note list was full): the summary
  // counts them under the `other` endpoint.
  std::atomic<std::uint64_t> unnamed_sampled{0};

  // Gauges (reports.md metrics), updated with relaxed atomics.
  std::atomic<std::int64_t> inflight{0};
  proxy::server::histogram shadow_duration;
  proxy::server::histogram live_duration; // the live leg of mirrored exchanges, measured alike
};

/// One mirrored route of one configuration generation, shared by all workers.
struct route_state {
  /// The state of route `i` of `c` (which must have a mirror policy), counting into `s`. Throws
  /// std::invalid_argument for a policy the comparer rejects, std::runtime_error for
  /// descriptor sets that cannot be loaded.
  route_state(std::size_t i, std::shared_ptr<const config::config> c,
              std::shared_ptr<route_stats> s)
      : cfg(std::move(c)), index(i), name(cfg->routes[i].name), policy(*cfg->routes[i].mirror),
        sampler(policy), comparer(policy.compare), stats(std::move(s)),
        window(stats->window.load()),
        grpc(policy.grpc,
             grpc::load_descriptor_sets(policy.compare.grpc.descriptor_sets,
                                        "routes[" + std::to_string(i) +
                                            "].mirror.compare.grpc.descriptor_sets")) {
    if (stats->percent_override) sampler.set_percent_override(stats->percent_override);
    sampler.set_grpc_policy(&grpc);
    comparer.set_grpc(grpc.descriptors(), policy.grpc.max_messages);
  }

  std::shared_ptr<const config::config> cfg; // keeps `policy` alive
  std::size_t index;
  const std::string& name;
  const config::mirror_policy& policy;
  mirror::sampler sampler;
  mirror::comparer comparer;
  std::shared_ptr<route_stats> stats;
  std::uint64_t window; // stats->window when this generation began
  grpc::mirror_policy grpc; // which gRPC calls are mirrored; the route's descriptor sets

  /// Sets or clears the percent override (under the engine's control lock).
  void set_percent_override(std::optional<double> percent) {
    stats->percent_override = percent;
    sampler.set_percent_override(percent);
  }
  /// The percent in force for mirror_percent and GET /mirror: 0 while paused.
  [[nodiscard]] double effective_percent() const noexcept {
    return stats->paused.load(std::memory_order_relaxed) ? 0.0 : sampler.percent();
  }
};

/// What mirroring made of one configuration generation: its mirrored routes by route index
/// (null: not mirrored). The proxy hands it back with every exchange routed under it.
struct mirror_generation final : proxy::server::observer_generation {
  std::shared_ptr<const config::config> cfg;
  std::vector<std::shared_ptr<route_state>> routes;
};

} // namespace parallax::mirror
