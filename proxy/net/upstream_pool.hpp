#pragma once
// Per-worker pool of keep-alive connections to one upstream's endpoints: round-robin over
// endpoints, DNS names resolved asynchronously and refreshed every resolve_interval, idle
// connections reused LIFO. Owned by one worker thread: no locks.

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/net/asio.hpp"
#include "proxy/net/name_resolver.hpp"
#include "proxy/net/stream.hpp"

namespace parallax::proxy::net {

/// Why an upstream could not be used; names match the upstream_errors_total `kind` label.
enum class upstream_error { none, connect_failed, timeout, reset, malformed_response, tls };

/// The metric label of an upstream error kind.
const char* upstream_error_name(upstream_error e) noexcept;

class connection_registry;
class h2_upstream_connection;
class upstream_connection;

/// One configured endpoint as a worker's pool sees it: its resolved addresses and idle
/// connections.
struct endpoint_state {
  config::address addr;
  bool literal = false; // an IP literal never needs DNS
  std::vector<tcp::endpoint> resolved;
  std::chrono::steady_clock::time_point resolved_at{};
  bool refreshing = false;
  std::size_t next_address = 0;
  std::vector<std::unique_ptr<upstream_connection>> idle;
  std::uint32_t open = 0; // connections open on this worker
};

/// One connection to an upstream endpoint, checked out of the pool by one exchange at a time.
class upstream_connection {
public:
  upstream_connection(tcp::socket socket, std::shared_ptr<endpoint_state> ep,
                      asio::ssl::context* tls);
  ~upstream_connection();
  upstream_connection(const upstream_connection&) = delete;
  upstream_connection& operator=(const upstream_connection&) = delete;

  /// The byte stream (plain or TLS).
  net::stream& stream() noexcept { return stream_; }
  /// True when this connection already carried a request (so it may have died idle).
  [[nodiscard]] bool reused() const noexcept { return requests_ > 0; }
  /// Counts a completed exchange.
  void count_request() noexcept { ++requests_; }
  /// The endpoint this connection goes to.
  [[nodiscard]] const endpoint_state& endpoint() const noexcept { return *ep_; }

private:
  friend class upstream_pool;
  net::stream stream_;
  std::shared_ptr<endpoint_state> ep_;
  std::uint64_t requests_ = 0;
  std::uint64_t idle_periods_ = 0; // times released to the pool (tells idle watches apart)
};

/// Result of opening a fresh connection.
struct connect_result {
  std::unique_ptr<upstream_connection> conn;
  upstream_error error = upstream_error::none;
  std::string detail;
};

/// Keep-alive pool for one upstream on one worker.
class upstream_pool {
public:
  /// A pool for `cfg` running on `ioc`; `tls` is the client context when TLS is enabled;
  /// names are looked up through `resolver` (the system's when null).
  upstream_pool(asio::io_context& ioc, const config::upstream& cfg,
                std::shared_ptr<asio::ssl::context> tls,
                std::shared_ptr<name_resolver> resolver = nullptr);
  ~upstream_pool();
  upstream_pool(const upstream_pool&) = delete;
  upstream_pool& operator=(const upstream_pool&) = delete;

  /// The upstream's configuration.
  [[nodiscard]] const config::upstream& config() const noexcept { return cfg_; }
  /// Picks the next endpoint round-robin and returns one of its idle connections, if any.
  /// With `check_alive`, idle connections the upstream closed meanwhile are skipped (one
  /// non-blocking peek each): used for requests with a body, which cannot be retried.
  std::unique_ptr<upstream_connection> take_idle(std::size_t& endpoint_index,
                                                 bool check_alive = false);
  /// Opens a new connection to endpoint `endpoint_index` within connect_timeout (DNS, TCP,
  /// TLS handshake included: a lookup that does not answer in time is not waited for).
  awaitable<connect_result> connect(std::size_t endpoint_index);
  /// An HTTP/2 connection (`protocol: h2|h2c`) with room for one more stream: an open one, or
  /// one being opened by another exchange when it will have room (so a burst of exchanges opens
  /// one connection, not one each), or a new one to the next endpoint; its deadlines through
  /// `registry`. Null with `failure` (error and detail) when none could be had.
  awaitable<std::shared_ptr<h2_upstream_connection>> take_h2(connection_registry& registry,
                                                             connect_result& failure);
  /// The open HTTP/2 connection with the fewest streams that has room for one more, if any
  /// (take_h2() without waiting: most exchanges find one).
  [[nodiscard]] std::shared_ptr<h2_upstream_connection> available_h2();
  /// Returns a connection whose last exchange ended cleanly, for reuse.
  void release(std::unique_ptr<upstream_connection> conn);
  /// Closes every idle connection (drain, shutdown).
  void close_idle();

  /// Drops the HTTP/2 connections that have finished (they close once their coroutines end).
  void forget_finished();
  /// Connections open to this upstream from this pool (busy and idle).
  [[nodiscard]] std::uint64_t open_connections() const noexcept;

  /// Retires the pool (a reload changed or removed its upstream): idle connections close now,
  /// busy ones close when their exchange releases them instead of going back to the pool.
  void retire();
  /// True after retire().
  [[nodiscard]] bool retired() const noexcept { return retired_; }
  /// Exchanges and background lookups using this pool now; a retired pool with none and no
  /// open connection can be destroyed.
  [[nodiscard]] std::uint32_t users() const noexcept { return users_; }
  /// Counts a user (an upstream exchange, for its lifetime).
  void add_user() noexcept { ++users_; }
  /// Ends a user's count.
  void remove_user() noexcept { --users_; }

private:
  awaitable<error_code> resolve(const std::shared_ptr<endpoint_state>& ep,
                                std::chrono::steady_clock::time_point deadline);
  void refresh_in_background(const std::shared_ptr<endpoint_state>& ep);
  static void watch_idle(upstream_connection& conn);
  void close_idle_h2();
  void retire_h2();

  asio::io_context& ioc_;
  config::upstream cfg_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::shared_ptr<name_resolver> resolver_;
  std::vector<std::shared_ptr<endpoint_state>> endpoints_;
  std::vector<std::shared_ptr<h2_upstream_connection>> h2_; // HTTP/2 connections, any endpoint
  std::uint32_t h2_connecting_ = 0; // HTTP/2 connections being opened
  // The exchanges waiting for one of them: their timers (in their coroutine frames, so none
  // outlives the event loop; the list is shared with them, so neither outlives the other),
  // cancelled when an opening ends; then they look again, or fail as the opening did.
  struct h2_wait_list {
    std::vector<asio::steady_timer*> timers;
    std::uint64_t failures = 0; // openings that failed so far
    upstream_error error = upstream_error::none; // the latest failure
    std::string detail;
  };
  std::shared_ptr<h2_wait_list> h2_waiters_ = std::make_shared<h2_wait_list>();
  void h2_opened();
  std::size_t next_ = 0;
  std::uint32_t users_ = 0;
  bool retired_ = false;
};

} // namespace parallax::proxy::net
