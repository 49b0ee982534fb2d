#pragma once
// One worker's upstream connection pools across configuration generations. A request asks for
// the pool of the upstream settings in its own snapshot; a reload (update()) keeps a pool whose
// settings did not change and retires the others: their idle connections close at once, busy
// ones finish their exchange and then close. A retired pool is destroyed once nothing uses it.
// Owned by one worker thread: no locks.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/net/asio.hpp"
#include "proxy/net/name_resolver.hpp"
#include "proxy/net/upstream_pool.hpp"

namespace parallax::proxy::server {

struct runtime;

/// Upstream pools by name and settings, for one worker's event loop.
class pool_set {
public:
  /// Pools on `io` looking names up through the resolver `resolver()` returns at creation.
  explicit pool_set(asio::io_context& io) : io_(io) {}

  /// The pool for `settings` (an upstream of `rt`'s configuration), created on first use.
  net::upstream_pool& get(const runtime& rt, const config::upstream& settings,
                          const std::shared_ptr<net::name_resolver>& resolver);
  /// Makes `rt` the configuration in force: pools whose upstream is gone or changed retire.
  void update(const runtime& rt);
  /// Destroys retired pools nothing uses any more.
  void collect();
  /// Closes every idle connection (drain).
  void close_idle();
  /// The worker is stopping: every pool retires (idle connections close now). The pools
  /// themselves live until this set is destroyed, which must come after the event loop's
  /// destruction: exchanges and lookups destroyed with it still count themselves out of theirs.
  void stop();

private:
  net::upstream_pool& find(const runtime& rt, const config::upstream& settings,
                           const std::shared_ptr<net::name_resolver>& resolver);

  struct slot {
    std::shared_ptr<const config::config> source; // keeps `settings` alive (identity check)
    const config::upstream* settings = nullptr;
    std::unique_ptr<net::upstream_pool> pool;
  };

  asio::io_context& io_;
  std::shared_ptr<const config::config> current_; // the configuration in force, once updated
  std::map<std::string, std::vector<slot>, std::less<>> slots_;
  // What get() found last, by the settings' address (a worker's requests mostly go to one
  // upstream): no lookup by name then. Forgotten whenever pools or settings may go (collect()).
  const config::upstream* last_settings_ = nullptr;
  net::upstream_pool* last_pool_ = nullptr;
};

} // namespace parallax::proxy::server
