#pragma once
// The narrow interface through which the proxy reports exchanges to an observer (mirroring,
// in mirror/). The proxy knows nothing else about mirroring: for every routed request it asks
// the worker's observer whether to follow the exchange, and if so hands the returned tap the
// request body, the live response head and body, and how the exchange ended, as they pass.
//
// Every call happens on the worker's thread, inline on the live path, so a tap must only copy
// what it needs and return: never block, never wait for I/O. Body pieces are views into the
// proxy's buffers, valid for the duration of the call only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "proxy/http/message.hpp"

namespace parallax::proxy::server {

/// How a followed exchange ended for the client.
enum class exchange_end {
  complete,       // the live response was relayed in full
  live_error,     // the live upstream failed before a response head (the client got 502/504)
  live_broken,    // the live response broke off after its head (the client saw a truncation)
  client_aborted, // the client went away or sent a bad body before the exchange completed
  body_too_large  // the request body exceeded max_request_body_bytes (the client got 413)
};

/// Follows one exchange. Calls arrive in this order: request_body* (zero or more),
/// request_complete (one or more: once per attempt, a retry calls it again), response_head
/// (at most once), response_body*, then finish (exactly once, also when an earlier step never
/// happened). response_trailers comes at most once, before the last response_body.
/// response_received marks the moment the upstream side ended and may come before response_head (a
/// body-less response). Calls must not throw: an observer's failure must never become the live
/// exchange's.
class exchange_tap {
public:
  virtual ~exchange_tap() = default;
  /// Request body bytes (chunk framing removed) as they stream to the live upstream.
  virtual void request_body(const std::vector<std::string_view>& pieces) = 0;
  /// The whole request has been sent to the live upstream.
  virtual void request_complete() = 0;
  /// The live upstream's final response head (after any 1xx), once the client has it.
  virtual void response_head(const http::response_head& head) = 0;
  /// The live upstream's response is complete (its last bytes may still be on their way to
  /// the client): the end of the live latency.
  virtual void response_received() = 0;
  /// Response body bytes (chunk framing removed) as they are relayed to the client.
  virtual void response_body(const std::vector<std::string_view>& pieces) = 0;
  /// The live upstream's trailer fields (gRPC's status), as it sent them.
  virtual void response_trailers(const http::header_list& fields) = 0;
  /// The exchange ended; the proxy drops its reference right after this call.
  virtual void finish(exchange_end end) = 0;
};

/// Bytes in `pieces`.
inline std::uint64_t total_size(const std::vector<std::string_view>& pieces) noexcept {
  std::uint64_t n = 0;
  for (auto p : pieces)
    n += p.size();
  return n;
}

/// A response piece on its way to the client (HTTP/1.1 or HTTP/2): the tap sees it only once
/// the client has it, so observing never delays the response.
struct pending_delivery {
  const http::response_head* head = nullptr;
  const std::vector<std::string_view>* body = nullptr;
  bool first = false; // the piece carries the head
  std::uint64_t total = 0;

  /// The client has the piece: counts it into `bytes` and hands it to `tap`, if any.
  void delivered(exchange_tap* tap, std::uint64_t& bytes) const {
    bytes += total;
    if (tap == nullptr) return;
    if (first) tap->response_head(*head);
    if (total > 0) tap->response_body(*body);
  }
};

struct runtime;

/// What an observer derives from one configuration generation, opaque to the proxy: the
/// observer builds it when a configuration is applied (runtime::observer) and gets it back with
/// every exchange of that generation.
class observer_generation {
public:
  virtual ~observer_generation() = default;
};

/// What the proxy knows when a routed request head has arrived.
struct exchange_start {
  std::size_t route_index = 0; // index into the configuration's routes
  // The configuration snapshot the request was routed with (its observer generation included).
  const std::shared_ptr<const runtime>* snapshot = nullptr;
  const http::request_head* request = nullptr;
  std::string_view client_ip;
  bool downstream_tls = false;
  bool websocket = false; // a WebSocket upgrade: an exchange, tunnelled, never to be followed
};

/// One per worker; begin() is called for every routed request (WebSocket upgrades included,
/// which it counts but does not follow: their tap would be ignored).
class exchange_observer {
public:
  virtual ~exchange_observer() = default;
  /// A tap to follow this exchange, or nullptr to let it pass unobserved.
  virtual std::shared_ptr<exchange_tap> begin(const exchange_start& start) = 0;
  /// A new configuration snapshot is in force on this worker (a reload): later exchanges come
  /// with it. Called on the worker's thread.
  virtual void reconfigured(const runtime& rt) = 0;
  /// The worker is stopping: release sockets and timers before its event loop goes away.
  virtual void stop() = 0;
};

} // namespace parallax::proxy::server
