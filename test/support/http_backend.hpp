#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <openssl/ssl.h>

#include "test/support/backend_connection.hpp"
#include "test/support/blackhole_server.hpp"
#include "test/support/gate.hpp"
#include "test/support/http_text.hpp"
#include "test/support/tls_certs.hpp"

namespace parallax::test {

// Scripts the answer to one request. Called on the connection's own thread, so it may block
// (e.g. on a gate); several connections call it concurrently, so shared captures need locks.
using request_handler = std::function<void(const received_request&, backend_connection&)>;

// How an http_backend listens and behaves.
struct backend_options {
  std::optional<test_pki> tls;             // serve TLS with the PKI's server certificate if set
  bool require_client_cert = false;        // TLS: demand a client certificate from the PKI's CA
  std::size_t max_stored_body = 64u << 20; // body bytes kept per request (more is only counted)
  bool send_100_continue = true;           // answer Expect: 100-continue before reading the body
  bool close_when_client_asks = true;      // close after the handler if the request said so
  std::chrono::milliseconds write_timeout{30'000};     // bound on each write to a stalled peer
  std::chrono::milliseconds handshake_timeout{10'000}; // bound on the TLS handshake
};

// A snapshot of an http_backend's counters.
struct backend_stats {
  std::size_t connections_accepted = 0;   // connections accepted so far
  std::size_t open_connections = 0;       // connections open now
  std::size_t requests_seen = 0;          // complete requests received
  std::size_t parse_errors = 0;           // malformed or truncated requests
  std::size_t tls_handshake_failures = 0; // failed TLS handshakes
  std::size_t handler_errors = 0;         // exceptions that escaped the handler
};

// A scriptable HTTP/1.1 origin server on 127.0.0.1:<ephemeral port>, plain or TLS. One thread
// accepts; each connection gets its own thread with blocking-style I/O whose waits are bounded
// and end when the backend stops. Requests are parsed with llhttp (Content-Length, chunked,
// keep-alive, pipelining), recorded, then handed to the handler. Counters and waits are
// thread-safe.
class http_backend {
public:
  // Starts listening at once (connections queue until accepted); throws on failure.
  explicit http_backend(request_handler handler, backend_options options = {});
  // An echo backend (see echo_handler()).
  http_backend();
  // Stops (see stop()).
  ~http_backend();
  http_backend(const http_backend&) = delete;
  http_backend& operator=(const http_backend&) = delete;

  // Closes the listener and every connection, then joins all threads. Idempotent; afterwards
  // new connections to port() are refused. Never call it from a handler (it joins that thread).
  void stop();

  // The listening port.
  std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;
  // "http://127.0.0.1:<port>" or "https://..." with TLS.
  std::string url() const;

  // Connections accepted so far.
  std::size_t connections_accepted() const;
  // Connections currently open.
  std::size_t open_connections() const;
  // Complete requests received so far (recorded before the handler runs).
  std::size_t requests_seen() const;
  // A copy of every request received so far, in arrival order.
  std::vector<received_request> requests() const;
  // The most recent request; throws std::out_of_range if there is none.
  received_request last_request() const;
  // Malformed or truncated requests seen.
  std::size_t parse_errors() const;
  // Failed TLS handshakes.
  std::size_t tls_handshake_failures() const;
  // Exceptions that escaped the handler (each reset its connection).
  std::size_t handler_errors() const;

  // All counters at once.
  backend_stats stats() const;
  // Waits until `predicate` holds for the counters (checked on every change); false on timeout.
  // The predicate runs under the backend's lock: it must not call back into the backend.
  bool wait_for(const std::function<bool(const backend_stats&)>& predicate,
                std::chrono::milliseconds timeout) const;
  // Waits until at least `n` requests were received; false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  // Waits until at least `n` connections were accepted; false on timeout.
  bool wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const;
  // Waits until exactly `n` connections are open; false on timeout.
  bool wait_for_open_connections(std::size_t n, std::chrono::milliseconds timeout) const;

private:
  struct connection_slot {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop();
  void serve(int fd, std::uint64_t id, connection_slot* slot);
  void serve_requests(backend_connection& connection, const received_request& tls_info);
  void reap_finished_connections();
  template <class Predicate>
  bool wait_until(std::chrono::milliseconds timeout, Predicate predicate) const;
  backend_stats stats_locked() const;

  request_handler handler_;
  backend_options options_;
  SSL_CTX* tls_ctx_ = nullptr;
  int listen_fd_ = -1;
  int stop_fd_ = -1; // eventfd: readable once stopping, wakes every poll in this backend
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  bool stopped_ = false;
  std::thread accept_thread_;

  std::mutex slots_mutex_;
  std::list<std::unique_ptr<connection_slot>> slots_;

  mutable std::mutex state_mutex_;
  mutable std::condition_variable state_changed_;
  std::size_t accepted_ = 0;
  std::size_t open_ = 0;
  std::size_t parse_errors_ = 0;
  std::size_t tls_failures_ = 0;
  std::size_t handler_errors_ = 0;
  std::vector<received_request> requests_;
};

// Answers 200 with a JSON description of the request:
// {"backend":<name, only if given>,"method":..,"target":..,"version":"HTTP/1.1",
//  "headers":{<lower-case name>:<values joined by ", ">,..},"body":..,"body_size":N,
//  "chunked":false}
request_handler echo_handler(std::string backend_name = {});

// Answers every request with the same Content-Length response.
request_handler fixed_response_handler(int status, std::string body, header_list headers = {},
                                       std::string content_type = "text/plain");

// The JSON document echo_handler() sends for `request`.
std::string echo_json(const received_request& request, std::string_view backend_name = {});

} // namespace parallax::test
