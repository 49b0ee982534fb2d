#include "proxy/server/exchange_accounting.hpp"

#include <spdlog/spdlog.h>

#include "proxy/http/redact.hpp"
#include "proxy/server/runtime.hpp"

namespace parallax::proxy::server {

using clock = std::chrono::steady_clock;

std::optional<refusal> admit(const runtime& rt, const http::request_head& req, int& route_index) {
  const auto& limits = rt.cfg->limits;
  // Routed first, so that a refusal below counts under the route it was for (reports.md:
  // requests_total by route), not as `unmatched`.
  const auto route = rt.router.match(req);
  route_index = route ? static_cast<int>(*route) : -1;
  if (req.method == "CONNECT") return refusal{failure::method_not_allowed, "CONNECT"};
  if (limits.max_request_body_bytes != 0 && req.frame.content_length &&
      *req.frame.content_length > limits.max_request_body_bytes) {
    return refusal{failure::body_too_large, "Content-Length above the limit"};
  }
  if (!route) return refusal{failure::no_route, "no route"};
  return std::nullopt;
}

void count_upstream_failure(const runtime& rt, std::size_t route_index, net::exchange_error e,
                            std::string_view detail, std::string_view upstream) {
  const auto kind = net::upstream_error_of(e);
  if (kind == net::upstream_error::none) return;
  auto* stats = rt.route_upstream_stats[route_index];
  stats->errors[static_cast<std::size_t>(kind) - 1].fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("upstream {}: {}{}{}{}", upstream, net::exchange_error_name(e),
               detail.empty() ? "" : " (", detail, detail.empty() ? "" : ")");
}

void record_exchange(const runtime& rt, const exchange_record& r) {
  auto* stats = r.route_index >= 0 ? rt.route_stats[static_cast<std::size_t>(r.route_index)]
                                   : rt.unmatched_stats;
  stats->count(r.status);
  const auto elapsed =
      r.started == clock::time_point{} ? clock::duration::zero() : clock::now() - r.started;
  stats->duration.observe(std::chrono::duration<double>(elapsed).count());
  if (!rt.cfg->logging.access_log) return;
  const auto& req = *r.request;
  const char* route = r.route_index >= 0
                          ? rt.cfg->routes[static_cast<std::size_t>(r.route_index)].name.c_str()
                          : "-";
  spdlog::info("access {} \"{} {} {}\" {} {} {:.3f}ms route={}", r.client_ip, req.method,
               http::redact_query(req.target, rt.cfg->reports.redact.query_params), r.protocol,
               r.status, r.response_bytes,
               std::chrono::duration<double, std::milli>(elapsed).count(), route);
}

std::string_view http1_protocol(const http::request_head& req) noexcept {
  return req.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
}

} // namespace parallax::proxy::server
