#pragma once
// The whole proxy: workers (one io_context and thread each), listeners bound with
// SO_REUSEPORT on every worker, the admin listener, and graceful drain.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/server/admin.hpp"
#include "proxy/server/worker.hpp"

namespace parallax::proxy::server {

/// A listener after binding (port 0 resolved).
struct bound_listener {
  std::string name;
  tcp::endpoint endpoint;
  bool tls = false;
};

/// Runs a configuration until drained.
class server {
public:
  /// Prepares a server for `cfg`; throws std::runtime_error when TLS files cannot be loaded.
  explicit server(std::shared_ptr<const config::config> cfg);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds every listener and the admin listener, then starts the threads. Throws
  /// std::runtime_error naming the address when a bind fails.
  void start();
  /// Bound listeners, in configuration order (after start()).
  [[nodiscard]] const std::vector<bound_listener>& listeners() const noexcept { return listeners_; }
  /// The admin endpoint (after start()).
  [[nodiscard]] const tcp::endpoint& admin_endpoint() const noexcept { return admin_ep_; }
  /// The admin server, to add handlers before start().
  admin_server& admin() noexcept { return admin_; }
  /// Makes the exchange observer of each worker (mirroring); call before start().
  void set_observer_factory(std::function<std::unique_ptr<exchange_observer>(worker&)> factory) {
    observer_factory_ = std::move(factory);
  }
  /// Looks up upstream names through `r` instead of the system resolver (before start()).
  void set_resolver(const std::shared_ptr<net::name_resolver>& r) {
    for (auto& w : workers_)
      w->set_resolver(r);
  }
  /// Server-wide state and metrics.
  server_state& state() noexcept { return state_; }
  /// The configuration being served.
  [[nodiscard]] const std::shared_ptr<const config::config>& config() const noexcept {
    return cfg_;
  }
  /// Turns /readyz to 503 at once and keeps serving for `delay` (load balancers and
  /// Kubernetes endpoints stop sending new work), then stops accepting, lets in-flight
  /// exchanges finish for up to `timeout`, and closes what is left. Returns true when
  /// everything finished in time.
  bool drain(std::chrono::milliseconds delay, std::chrono::milliseconds timeout);
  /// Stops all threads (after drain, or at once).
  void stop();
  /// "ready" log text: every bound address, so scripts can wait for it.
  [[nodiscard]] std::string ready_line() const;

private:
  std::shared_ptr<const config::config> cfg_;
  server_state state_;
  std::shared_ptr<const runtime> rt_;
  std::vector<std::shared_ptr<asio::ssl::context>> listener_tls_;
  std::vector<std::unique_ptr<listener_binding>> bindings_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::function<std::unique_ptr<exchange_observer>(worker&)> observer_factory_;
  admin_server admin_;
  std::vector<bound_listener> listeners_;
  tcp::endpoint admin_ep_;
};

/// Resolves a configured HOST:PORT for binding (IP literal or name).
tcp::endpoint resolve_bind_address(const config::address& addr);

} // namespace parallax::proxy::server
