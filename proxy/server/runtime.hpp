#pragma once
// The immutable, shared runtime snapshot built from one configuration: routes, TLS contexts
// and metric handles. Workers and sessions hold it by shared_ptr, so a reload can replace it
// while in-flight requests keep the one they started with.

#include <boost/asio/ssl/context.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/net/name_resolver.hpp"
#include "proxy/net/upstream_pool.hpp"
#include "proxy/server/metrics.hpp"
#include "proxy/server/router.hpp"

namespace parallax::proxy::server {

/// Everything derived from one config that the request path reads.
struct runtime {
  std::shared_ptr<const config::config> cfg;
  ::parallax::proxy::server::router router;
  std::vector<route_metrics*> route_stats;             // by route index
  std::vector<upstream_metrics*> route_upstream_stats; // live upstream's, by route index
  route_metrics* unmatched_stats = nullptr;
  std::map<std::string, upstream_metrics*> upstream_stats;
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> upstream_tls;

  /// Builds the snapshot; throws std::runtime_error when a TLS file cannot be loaded.
  runtime(std::shared_ptr<const config::config> c, metrics_registry& metrics);
  /// A pool of connections to upstream `name` on `io` (live and shadow pools alike).
  [[nodiscard]] std::unique_ptr<net::upstream_pool>
  make_pool(boost::asio::io_context& io, const std::string& name,
            std::shared_ptr<net::name_resolver> resolver) const;
};

} // namespace parallax::proxy::server
