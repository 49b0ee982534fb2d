#pragma once
// The whole proxy: workers (one io_context and thread each), listeners bound with
// SO_REUSEPORT on every worker, the admin listener, and graceful drain.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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

/// The result of a reload: the new generation, or why it was rejected (`FILE:LINE:COL: ...`
/// errors of the file, or the key that cannot change on reload).
struct reload_result {
  bool ok = false;
  std::uint64_t generation = 0; // in force after the attempt
  std::vector<std::string> errors;
};

/// What the observer derives from each configuration generation (see observer_generation).
using observer_generation_factory = std::function<std::shared_ptr<const observer_generation>(
    const std::shared_ptr<const config::config>& cfg)>;

/// Runs a configuration until drained; reloads replace it while it runs.
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
  /// Derives the observer's part of every configuration generation (the first at start(),
  /// then one per reload, last step before the reload applies: it may throw to reject it).
  void set_observer_generation_factory(observer_generation_factory factory) {
    generation_factory_ = std::move(factory);
  }
  /// Looks up upstream names through `r` instead of the system resolver (before start()).
  void set_resolver(const std::shared_ptr<net::name_resolver>& r) {
    for (auto& w : workers_)
      w->set_resolver(r);
  }
  /// Server-wide state and metrics.
  server_state& state() noexcept { return state_; }
  /// The configuration in force (any thread).
  [[nodiscard]] std::shared_ptr<const config::config> config() const;
  /// The snapshot in force (any thread).
  [[nodiscard]] std::shared_ptr<const runtime> snapshot() const;
  /// Applies `next` (config.md "Reload"): rejected when a listener's name or address,
  /// admin.address or workers differ, or a TLS file cannot be loaded; otherwise every request
  /// whose head arrives from now on uses it. Counts the result in the metrics. Any thread
  /// (reloads are serialised).
  reload_result reload(std::shared_ptr<const config::config> next);
  /// Re-reads the configuration file through its path and applies it (SIGHUP, POST /reload);
  /// a file that does not load is rejected with its errors.
  reload_result reload_file();
  /// Loads `text`, the content of the configuration file (--watch read it), and applies it.
  reload_result reload_text(const std::string& text);
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
  reload_result reject(std::vector<std::string> errors);
  void publish(std::shared_ptr<const runtime> rt);

  mutable std::mutex reload_mutex_; // serialises reloads; guards cfg_ and rt_
  std::shared_ptr<const config::config> cfg_;
  server_state state_;
  std::shared_ptr<const runtime> rt_;
  std::vector<std::unique_ptr<listener_binding>> bindings_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::function<std::unique_ptr<exchange_observer>(worker&)> observer_factory_;
  observer_generation_factory generation_factory_;
  admin_server admin_;
  std::vector<bound_listener> listeners_;
  tcp::endpoint admin_ep_;
};

/// Resolves a configured HOST:PORT for binding (IP literal or name).
tcp::endpoint resolve_bind_address(const config::address& addr);

} // namespace parallax::proxy::server
