#pragma once
// A free list of heap objects shared by one worker's connections. A connection takes what an
// exchange needs (I/O buffers, a response parser) when bytes arrive and gives it back when it
// goes idle, so idle keep-alive connections hold none of it and busy ones reuse warm memory
// instead of allocating. Single-threaded: one per worker.

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace parallax::proxy::net {

template <class T>
class recycler {
public:
  using pointer = std::unique_ptr<T>;

  /// Keeps at most `max_free` objects for reuse; more are freed when given back.
  explicit recycler(std::size_t max_free) : max_free_(max_free) { free_.reserve(max_free); }

  /// A recycled object, or `make()` when none is free.
  template <class Make>
  pointer take(Make&& make) {
    if (free_.empty()) return std::forward<Make>(make)();
    auto p = std::move(free_.back());
    free_.pop_back();
    return p;
  }
  /// Returns `p` (may be null) for reuse. Never throws (destructors call it): the list's
  /// room is reserved up front.
  void give(pointer p) noexcept {
    if (p && free_.size() < max_free_) free_.push_back(std::move(p));
  }
  /// Objects waiting for reuse.
  [[nodiscard]] std::size_t free_count() const noexcept { return free_.size(); }

private:
  std::vector<pointer> free_;
  std::size_t max_free_;
};

} // namespace parallax::proxy::net
