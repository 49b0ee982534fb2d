#include "proxy/server/runtime.hpp"

#include <string>

#include "proxy/net/tls.hpp"

namespace parallax::proxy::server {


runtime::runtime(std::shared_ptr<const config::config> c, metrics_registry& metrics,
                 std::uint64_t gen)
    : cfg(std::move(c)), generation(gen), loaded_at(std::chrono::system_clock::now()),
      router(*cfg) {
  for (const auto& r : cfg->routes) {
    route_stats.push_back(&metrics.route(r.name));
    route_upstream_stats.push_back(&metrics.upstream(r.upstream));
    route_upstreams.push_back(&cfg->upstreams.at(r.upstream));
  }
  unmatched_stats = &metrics.route("unmatched");
  for (const auto& [name, up] : cfg->upstreams) {
    upstream_stats[name] = &metrics.upstream(name);
    if (up.tls.enabled) upstream_tls[name] = net::make_client_context(up.tls, up.protocol);
  }
  for (const auto& l : cfg->listeners)
    listener_tls.push_back(l.tls ? net::make_server_context(*l.tls, l.protocols) : nullptr);
}

std::unique_ptr<net::upstream_pool>
runtime::make_pool(boost::asio::io_context& io, const config::upstream& settings,
                   std::shared_ptr<net::name_resolver> resolver) const {
  const auto tls = upstream_tls.find(settings.name);
  return std::make_unique<net::upstream_pool>(
      io, settings, tls == upstream_tls.end() ? nullptr : tls->second, std::move(resolver));
}

} // namespace parallax::proxy::server
