#pragma once
// What every client exchange shares, whichever protocol carried it (HTTP/1.1 sessions and
// HTTP/2 streams): admitting a request head (a refusal or a route), counting and logging a
// live upstream failure, and counting the finished exchange with its access log line.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http/message.hpp"
#include "proxy/net/upstream_exchange.hpp"
#include "proxy/server/errors.hpp"

namespace parallax::proxy::server {

struct runtime;

/// A request the proxy answers itself.
struct refusal {
  failure why;
  std::string_view detail;
};

/// Why the proxy answers `req` itself, or nothing when it is forwarded. The route that matches
/// goes into `route_index` either way (a refusal is counted under it); -1 when none does.
std::optional<refusal> admit(const runtime& rt, const http::request_head& req, int& route_index);

/// Counts a live upstream failure in the route's upstream error metric and logs it (nothing
/// for failures of the client side).
void count_upstream_failure(const runtime& rt, std::size_t route_index, net::exchange_error e,
                            std::string_view detail, std::string_view upstream);

/// One finished client exchange.
struct exchange_record {
  const http::request_head* request = nullptr;
  std::string_view client_ip;
  std::string_view protocol; // "HTTP/1.1", "HTTP/2.0"
  int route_index = -1;      // -1: no route matched
  int status = 0;
  std::uint64_t response_bytes = 0;
  std::chrono::steady_clock::time_point started{};
};

/// Counts `r` in its route's (or the unmatched) metrics and writes the access log line when
/// the configuration asks for one.
void record_exchange(const runtime& rt, const exchange_record& r);

/// "HTTP/1.1" or "HTTP/1.0" for an HTTP/1.x request.
std::string_view http1_protocol(const http::request_head& req) noexcept;

} // namespace parallax::proxy::server
