#include "proxy/server/pool_set.hpp"

#include <algorithm>

#include "proxy/server/runtime.hpp"

namespace parallax::proxy::server {

net::upstream_pool& pool_set::get(const runtime& rt, const config::upstream& settings,
                                  const std::shared_ptr<net::name_resolver>& resolver) {
  if (&settings == last_settings_) return *last_pool_;
  auto& found = find(rt, settings, resolver);
  last_settings_ = &settings;
  last_pool_ = &found;
  return found;
}

net::upstream_pool& pool_set::find(const runtime& rt, const config::upstream& settings,
                                   const std::shared_ptr<net::name_resolver>& resolver) {
  auto& pools = slots_[settings.name];
  // The same snapshot's settings (the common case: a pointer comparison), else equal settings
  // from another snapshot (a request that started before a reload that kept this upstream).
  for (auto& s : pools) {
    if (s.settings == &settings) return *s.pool;
  }
  for (auto& s : pools) {
    if (*s.settings == settings) return *s.pool;
  }
  slot s{rt.cfg, &settings, rt.make_pool(io_, settings, resolver)};
  if (current_) {
    // A request of an older snapshot whose upstream has changed since: its pool is retired
    // from the start, so its connections close when the request ends.
    const auto now = current_->upstreams.find(settings.name);
    if (now == current_->upstreams.end() || !(now->second == settings)) s.pool->retire();
  }
  pools.push_back(std::move(s));
  return *pools.back().pool;
}

void pool_set::update(const runtime& rt) {
  current_ = rt.cfg;
  for (auto& [name, pools] : slots_) {
    const auto now = rt.cfg->upstreams.find(name);
    for (auto& s : pools) {
      if (now != rt.cfg->upstreams.end() && *s.settings == now->second) {
        // Kept: later requests find it by pointer.
        s.source = rt.cfg;
        s.settings = &now->second;
      } else if (!s.pool->retired()) {
        s.pool->retire();
      }
    }
  }
  collect();
}

void pool_set::collect() {
  // Pools may go, and (after update()) settings no slot keeps alive any more.
  last_settings_ = nullptr;
  last_pool_ = nullptr;
  for (auto it = slots_.begin(); it != slots_.end();) {
    auto& pools = it->second;
    std::erase_if(pools, [](const slot& s) {
      if (!s.pool->retired()) return false;
      s.pool->forget_finished(); // closed HTTP/2 connections let go of their endpoint count
      return s.pool->users() == 0 && s.pool->open_connections() == 0;
    });
    it = pools.empty() ? slots_.erase(it) : std::next(it);
  }
}

void pool_set::stop() {
  for (auto& [name, pools] : slots_) {
    for (auto& s : pools)
      s.pool->retire();
  }
}

void pool_set::close_idle() {
  for (auto& [name, pools] : slots_) {
    for (auto& s : pools)
      s.pool->close_idle();
  }
}

} // namespace parallax::proxy::server
