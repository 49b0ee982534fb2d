#pragma once
// The per-worker side of mirroring: the proxy's exchange observer. For each routed request it
// asks the route's sampler (before copying anything), reserves a max_inflight slot, copies the
// request body up to max_body_bytes while it streams to live, sends the shadow (and secondary)
// request on this worker's event loop as soon as the request is complete, captures the live
// response as it is relayed, and hands the finished exchange to the engine's comparison queue.
//
// Isolation: the live path only ever calls the tap's non-blocking methods; shadow requests
// run in their own coroutines through this dispatcher's own upstream pools, each bounded by
// the shadow upstream's connect_timeout and request_timeout (for the whole shadow exchange).
// Their steps run in short slices behind the live work queued on the loop (shadow_turns),
// so a burst of shadow responses delays a live step by one slice, not by the whole burst.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "proxy/server/exchange_observer.hpp"

namespace parallax::proxy::net {
class upstream_pool;
}
namespace parallax::proxy::server {
class worker;
class pool_set;
struct runtime;
} // namespace parallax::proxy::server

namespace parallax::mirror {

class engine;
class shadow_turns;

/// One worker's mirroring observer.
class shadow_dispatcher final : public proxy::server::exchange_observer {
public:
  shadow_dispatcher(engine& e, proxy::server::worker& w);
  ~shadow_dispatcher() override;
  shadow_dispatcher(const shadow_dispatcher&) = delete;
  shadow_dispatcher& operator=(const shadow_dispatcher&) = delete;

  std::shared_ptr<proxy::server::exchange_tap>
  begin(const proxy::server::exchange_start& start) override;
  void reconfigured(const proxy::server::runtime& rt) override;
  void stop() override;

  /// This worker's shadow pool for the upstream `settings` of snapshot `rt` (separate from the
  /// live pools).
  proxy::net::upstream_pool& pool(const proxy::server::runtime& rt,
                                  const config::upstream& settings);
  /// The engine.
  engine& owner() noexcept { return engine_; }
  /// The worker.
  proxy::server::worker& worker() noexcept { return worker_; }
  /// Turns for shadow work on this worker's loop, behind live work.
  shadow_turns& turns() noexcept { return *turns_; }

private:
  engine& engine_;
  proxy::server::worker& worker_;
  std::atomic<std::uint64_t>& exchanges_; // written by this worker only
  std::unique_ptr<proxy::server::pool_set> pools_;
  std::unique_ptr<shadow_turns> turns_;
  bool stopped_ = false;
};

} // namespace parallax::mirror
