#pragma once
// The one place that maps how an exchange failed to what the client gets (proxy.md error
// table), how the observer hears of it, and which upstream error metric counts it.

#include <string_view>

#include "proxy/net/upstream_exchange.hpp"
#include "proxy/server/exchange_observer.hpp"

namespace parallax::proxy::server {

/// Failures the proxy answers itself.
enum class failure {
  bad_request,          // malformed request, smuggling defences
  head_too_large,       // max_request_header_bytes or max_request_headers exceeded
  body_too_large,       // max_request_body_bytes exceeded
  head_timeout,         // header_timeout elapsed
  no_route,             // no route matched
  method_not_allowed,   // CONNECT
  upstream_unavailable, // refused, unreachable, reset, malformed before a response head
  upstream_timeout,     // no response head within request_timeout, or the request not read
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

/// Why the client side of an exchange failed (the request source or the response sink).
enum class client_fault {
  none,
  malformed_body, // a bad chunked body: 400
  body_too_large, // beyond max_request_body_bytes: 413
  gone,           // closed, reset, or silent for client_io_timeout: the connection closes
};

/// What the session does about an exchange that ended in error.
struct exchange_outcome {
  enum class action { respond, close, truncate } what;
  failure response = failure::upstream_unavailable; // for respond
  exchange_end tap_end = exchange_end::live_error;
};

/// The outcome of an exchange that failed with `e`; `head_delivered` when the client already
/// had the response head (then only a truncation is left), `fault` for source/sink failures.
constexpr exchange_outcome outcome_for(net::exchange_error e, bool head_delivered,
                                       client_fault fault) noexcept {
  using net::exchange_error;
  using action = exchange_outcome::action;
  switch (e) {
  case exchange_error::source_failed:
  case exchange_error::sink_failed:
    switch (fault) {
    case client_fault::malformed_body:
      return {action::respond, failure::bad_request, exchange_end::client_aborted};
    case client_fault::body_too_large:
      return {action::respond, failure::body_too_large, exchange_end::body_too_large};
    case client_fault::gone:
    case client_fault::none: break;
    }
    return {action::close, failure::bad_request, exchange_end::client_aborted};
  case exchange_error::write_timeout:
  case exchange_error::head_timeout:
    if (head_delivered) break;
    return {action::respond, failure::upstream_timeout, exchange_end::live_error};
  case exchange_error::connect_failed:
  case exchange_error::connect_timeout:
  case exchange_error::tls:
  case exchange_error::write_failed:
  case exchange_error::reset:
  case exchange_error::malformed:
    if (head_delivered) break;
    return {action::respond, failure::upstream_unavailable, exchange_end::live_error};
  case exchange_error::body_timeout:
  case exchange_error::body_reset:
  case exchange_error::body_malformed:
  case exchange_error::none: break;
  }
  return {action::truncate, failure::upstream_unavailable, exchange_end::live_broken};
}

} // namespace parallax::proxy::server
