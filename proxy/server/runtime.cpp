#include "proxy/server/runtime.hpp"

#include "proxy/net/tls.hpp"

namespace parallax::proxy::server {

runtime::runtime(std::shared_ptr<const config::config> c, metrics_registry& metrics)
    : cfg(std::move(c)), router(*cfg) {
  for (const auto& r : cfg->routes) {
    route_stats.push_back(&metrics.route(r.name));
    route_upstream_stats.push_back(&metrics.upstream(r.upstream));
  }
  unmatched_stats = &metrics.route("unmatched");
  for (const auto& [name, up] : cfg->upstreams) {
    upstream_stats[name] = &metrics.upstream(name);
    if (up.tls.enabled) upstream_tls[name] = net::make_client_context(up.tls);
  }
}

std::unique_ptr<net::upstream_pool>
runtime::make_pool(boost::asio::io_context& io, const std::string& name,
                   std::shared_ptr<net::name_resolver> resolver) const {
  const auto tls = upstream_tls.find(name);
  return std::make_unique<net::upstream_pool>(io, cfg->upstreams.at(name),
                                              tls == upstream_tls.end() ? nullptr : tls->second,
                                              std::move(resolver));
}

} // namespace parallax::proxy::server
