#pragma once
// The one place that maps a failure of an exchange to the response the proxy sends itself
// (proxy.md error table).

#include <string_view>

namespace parallax::proxy::server {

/// Failures the proxy answers itself.
enum class failure {
  bad_request,          // malformed request, smuggling defences
  head_too_large,       // max_request_header_bytes exceeded
  body_too_large,       // max_request_body_bytes exceeded
  head_timeout,         // header_timeout elapsed
  no_route,             // no route matched
  method_not_allowed,   // CONNECT
  upstream_unavailable, // refused, unreachable, reset, malformed before a response head
  upstream_timeout,     // no response head within request_timeout
};

/// Status, body and whether the connection must close afterwards.
struct failure_response {
  int status;
  std::string_view body;
  bool close;
};

/// The response for `f`.
constexpr failure_response response_for(failure f) noexcept {
  switch (f) {
  case failure::bad_request: return {400, "bad request", true};
  case failure::head_too_large: return {431, "request header fields too large", true};
  case failure::body_too_large: return {413, "request body too large", true};
  case failure::head_timeout: return {408, "request timeout", true};
  case failure::no_route: return {404, "no route matches this request", false};
  case failure::method_not_allowed: return {405, "CONNECT is not supported", true};
  case failure::upstream_unavailable: return {502, "upstream unavailable", false};
  case failure::upstream_timeout: return {504, "upstream timed out", false};
  }
  return {500, "internal error", true};
}

} // namespace parallax::proxy::server
