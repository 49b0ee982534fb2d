#include "test/support/gate.hpp"

#include <algorithm>

namespace parallax::test {
namespace {

thread_local const std::atomic<bool>* thread_stop_flag = nullptr;

// How often a waiter on a backend thread re-checks its backend's stop flag. Release itself is
// signalled through the condition variable at once; this only bounds teardown latency.
constexpr auto stop_check_interval = std::chrono::milliseconds(50);

bool thread_stopping() {
  return thread_stop_flag != nullptr && thread_stop_flag->load(std::memory_order_acquire);
}

} // namespace

namespace detail {
void set_thread_stop_flag(const std::atomic<bool>* stopping) {
  thread_stop_flag = stopping;
}
} // namespace detail

gate::gate() : state_(std::make_shared<state>()) {}

void gate::release() {
  {
    std::lock_guard lock(state_->mutex);
    state_->open = true;
  }
  state_->changed.notify_all();
}

bool gate::released() const {
  std::lock_guard lock(state_->mutex);
  return state_->open;
}

bool gate::wait(std::chrono::milliseconds safety_bound) const {
  return wait_for(safety_bound);
}

bool gate::wait_for(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(state_->mutex);
  ++state_->waiters;
  state_->changed.notify_all(); // wakes wait_for_waiters()
  while (!state_->open && !thread_stopping()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    const auto slice =
        thread_stop_flag != nullptr
            ? std::min<std::chrono::steady_clock::duration>(deadline - now, stop_check_interval)
            : deadline - now;
    state_->changed.wait_for(lock, slice);
  }
  --state_->waiters;
  state_->changed.notify_all();
  return state_->open;
}

std::size_t gate::waiting() const {
  std::lock_guard lock(state_->mutex);
  return state_->waiters;
}

bool gate::wait_for_waiters(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->waiters >= n; });
}

} // namespace parallax::test
