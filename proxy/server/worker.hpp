#pragma once
// One I/O thread: its own io_context, listening sockets (SO_REUSEPORT), upstream pools and
// connection registry. Nothing here is shared with other workers except server_state.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/net/asio.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/net/recycler.hpp"
#include "proxy/net/name_resolver.hpp"
#include "proxy/net/upstream_exchange.hpp"
#include "proxy/net/upstream_pool.hpp"
#include "proxy/net/connection_registry.hpp"
#include "proxy/server/exchange_observer.hpp"
#include "proxy/server/metrics.hpp"
#include "proxy/server/pool_set.hpp"
#include "proxy/server/runtime.hpp"

namespace parallax::proxy::server {

using net::io_buffer_size;

/// State shared by all workers of a server (atomics and start-up-time objects only).
struct server_state {
  metrics_registry metrics;
  std::atomic<std::uint64_t> connections{0};
  std::atomic<bool> draining{false};

  std::mutex drain_mutex;
  std::condition_variable drain_cv;
  std::size_t workers_drained = 0; // guarded by drain_mutex
};

/// A listener as each worker sees it (its TLS context is the runtime's, by `index`).
struct listener_binding {
  std::string name;
  std::size_t index = 0; // in the configuration's listeners
  listener_metrics* stats = nullptr;
};

/// One I/O thread with its listeners, pools and connections.
class worker {
public:
  /// A worker of `state` serving `rt`.
  worker(std::size_t id, server_state& state, std::shared_ptr<const runtime> rt);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// Binds `ep` with SO_REUSEPORT for `binding`; returns the bound endpoint (port 0 resolved).
  /// Throws boost::system::system_error when the address cannot be bound.
  tcp::endpoint listen(const listener_binding& binding, const tcp::endpoint& ep);
  /// Starts the thread: accept loops and the deadline sweeper.
  void start();
  /// Stops accepting and asks every connection to finish its exchange and close.
  void begin_drain();
  /// Closes every connection now.
  void force_close();
  /// Stops the event loop and joins the thread.
  void stop();

  /// The worker's event loop.
  asio::io_context& io() noexcept { return *io_; }
  /// Connections of this worker.
  net::connection_registry& registry() noexcept { return registry_; }
  /// The current configuration snapshot.
  [[nodiscard]] const std::shared_ptr<const runtime>& rt() const noexcept { return rt_; }
  /// Makes `rt` the snapshot for every request whose head arrives from now on (before start():
  /// at once; after: on the worker's thread, in order with its other work). Pools of upstreams
  /// whose settings changed retire; the observer is told.
  void apply(std::shared_ptr<const runtime> rt);
  /// Server-wide state.
  server_state& state() noexcept { return state_; }
  /// This worker's pool for the upstream `settings` of snapshot `rt` (created on first use).
  net::upstream_pool& pool(const runtime& rt, const config::upstream& settings) {
    return pools_.get(rt, settings, resolver_);
  }
  /// What exchanges on this worker borrow: deadlines, I/O buffers, response parsers.
  [[nodiscard]] const net::exchange_resources& resources() const noexcept { return resources_; }
  /// Looks up upstream names (the system resolver unless the server set another).
  [[nodiscard]] const std::shared_ptr<net::name_resolver>& resolver() const noexcept {
    return resolver_;
  }
  /// Sets the name resolver (before start()).
  void set_resolver(std::shared_ptr<net::name_resolver> r) { resolver_ = std::move(r); }
  /// Called by a client session when it starts (drain accounting).
  void connection_opened() noexcept { ++sessions_; }
  /// Called by a client session when it ends (drain accounting).
  void connection_closed();
  /// Installs the observer of this worker's exchanges (before start()).
  void set_observer(std::unique_ptr<exchange_observer> observer) {
    observer_ = std::move(observer);
  }
  /// The observer of this worker's exchanges, if any.
  [[nodiscard]] exchange_observer* observer() const noexcept { return observer_.get(); }

private:
  struct acceptor_entry;
  awaitable<void> accept_loop(acceptor_entry& entry);
  awaitable<void> sweep_loop();
  void check_drained();
  void install(std::shared_ptr<const runtime> rt);

  std::size_t id_;
  server_state& state_;
  std::shared_ptr<const runtime> rt_;
  // These outlive io_: sessions give back what they borrowed when they are destroyed.
  net::recycler<char[]> buffers_{256};
  net::recycler<http::parser> response_parsers_{128};
  net::connection_registry registry_;
  net::exchange_resources resources_{registry_, buffers_, response_parsers_};
  std::shared_ptr<net::name_resolver> resolver_ = net::system_resolver();
  std::unique_ptr<asio::io_context> io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::unique_ptr<acceptor_entry>> acceptors_;
  pool_set pools_{*io_};
  std::unique_ptr<exchange_observer> observer_; // outlives io_ (coroutines refer to it)
  std::optional<asio::steady_timer> sweep_timer_;
  std::thread thread_;
  std::size_t sessions_ = 0; // client sessions; the drain waits for these only
  bool draining_ = false;
  bool drained_reported_ = false;
};

} // namespace parallax::proxy::server
