#pragma once
// The immutable, shared runtime snapshot built from one configuration (one generation): routes,
// TLS contexts, metric handles and what the exchange observer derived from it. Workers and
// sessions hold it by shared_ptr, so a reload can replace it while in-flight requests keep the
// one they started with.

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/net/name_resolver.hpp"
#include "proxy/net/upstream_pool.hpp"
#include "proxy/server/exchange_observer.hpp"
#include "proxy/server/metrics.hpp"
#include "proxy/server/router.hpp"

namespace parallax::proxy::server {

/// Everything derived from one config that the request path reads.
struct runtime {
  std::shared_ptr<const config::config> cfg;
  std::uint64_t generation = 1; // 1 at start, +1 per applied reload
  std::chrono::system_clock::time_point loaded_at;
  ::parallax::proxy::server::router router;
  std::vector<route_metrics*> route_stats;              // by route index
  std::vector<upstream_metrics*> route_upstream_stats;  // live upstream's, by route index
  std::vector<const config::upstream*> route_upstreams; // live upstream's settings, by route
  route_metrics* unmatched_stats = nullptr;
  std::map<std::string, upstream_metrics*> upstream_stats;
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> upstream_tls;
  // By listener index; null for a plain listener. Re-read from the files on every reload.
  std::vector<std::shared_ptr<boost::asio::ssl::context>> listener_tls;
  // What the exchange observer (mirroring) derived from this configuration, if any: handed
  // back to it with every exchange, so an exchange sees one generation throughout.
  std::shared_ptr<const observer_generation> observer;

  /// Builds the snapshot; throws std::runtime_error when a TLS file cannot be loaded.
  runtime(std::shared_ptr<const config::config> c, metrics_registry& metrics,
          std::uint64_t gen = 1);
  /// A pool of connections to the upstream `settings` (of this snapshot's configuration) on
  /// `io` (live and shadow pools alike).
  [[nodiscard]] std::unique_ptr<net::upstream_pool>
  make_pool(boost::asio::io_context& io, const config::upstream& settings,
            std::shared_ptr<net::name_resolver> resolver) const;
};

} // namespace parallax::proxy::server
