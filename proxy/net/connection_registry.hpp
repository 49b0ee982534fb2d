#pragma once
// Per-worker registry of live connections: one coarse timer sweeps their deadlines (a store
// per request instead of a timer syscall), and drain/force-close reach every connection.

#include <chrono>
#include <cstddef>
#include <vector>

namespace parallax::proxy::net {

/// A connection the worker can time out, drain and close. Used on its worker thread only.
class tracked_connection {
public:
  using clock = std::chrono::steady_clock;
  virtual ~tracked_connection() = default;
  /// The current deadline elapsed (the sweeper cleared it first).
  virtual void on_deadline() = 0;
  /// The server started draining: finish the current exchange, then close.
  virtual void on_drain() = 0;
  /// The drain time is over: close now.
  virtual void force_close() = 0;

  /// Arms the deadline (a plain store; the sweeper checks it).
  void set_deadline(clock::time_point t) noexcept { deadline_ = t; }
  /// Disarms the deadline.
  void clear_deadline() noexcept { deadline_ = clock::time_point::max(); }

private:
  friend class connection_registry;
  clock::time_point deadline_ = clock::time_point::max();
  std::size_t slot_ = 0;
};

/// Unordered set of tracked connections with O(1) add/remove.
class connection_registry {
public:
  /// Starts tracking `c` (until remove()).
  void add(tracked_connection* c) {
    c->slot_ = items_.size();
    items_.push_back(c);
  }
  /// Stops tracking `c`.
  void remove(tracked_connection* c) noexcept {
    const auto slot = c->slot_;
    if (slot >= items_.size() || items_[slot] != c) return;
    items_[slot] = items_.back();
    items_[slot]->slot_ = slot;
    items_.pop_back();
  }
  /// Calls on_deadline() on every connection whose deadline is at or before `now`.
  void sweep(tracked_connection::clock::time_point now) {
    // Handlers only cancel I/O (completions are posted), so the list cannot change here.
    for (std::size_t i = 0; i < items_.size(); ++i) {
      auto* c = items_[i];
      if (c->deadline_ <= now) {
        c->clear_deadline();
        c->on_deadline();
      }
    }
  }
  /// Calls `f` on every connection.
  template <typename F>
  void for_each(F&& f) {
    // A copy, so that `f` may remove connections (handlers only cancel I/O, never destroy).
    const auto copy = items_;
    for (auto* c : copy)
      f(*c);
  }
  /// Number of tracked connections.
  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }

private:
  std::vector<tracked_connection*> items_;
};

} // namespace parallax::proxy::net
