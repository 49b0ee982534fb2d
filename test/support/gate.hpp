#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

namespace parallax::test {

// A one-shot barrier that backend handlers block on until the test releases it ("slow backend").
// Copies share one state, so handlers may capture a gate by value and outlive the test's copy.
// A wait made from an http_backend thread also ends when that backend is being destroyed, so a
// forgotten release() cannot hang a test's teardown.
class gate {
public:
  gate();

  // Opens the gate: wakes every current waiter and lets all later waits pass at once.
  void release();
  // True once release() was called.
  bool released() const;
  // Blocks until released; returns false if the safety bound passed or the backend is stopping.
  bool wait(std::chrono::milliseconds safety_bound = std::chrono::seconds(30)) const;
  // Blocks until released or `timeout`; returns true if released.
  bool wait_for(std::chrono::milliseconds timeout) const;
  // Number of threads blocked in wait() right now.
  std::size_t waiting() const;
  // Blocks until at least `n` threads are waiting, or `timeout`; returns true if they are.
  bool wait_for_waiters(std::size_t n, std::chrono::milliseconds timeout) const;

private:
  struct state {
    mutable std::mutex mutex;
    std::condition_variable changed;
    bool open = false;
    std::size_t waiters = 0;
  };
  std::shared_ptr<state> state_;
};

namespace detail {
// Marks the calling thread as serving a backend whose shutdown is signalled by `stopping`
// (nullptr to clear); gate waits on this thread then give up once it is true.
void set_thread_stop_flag(const std::atomic<bool>* stopping);
} // namespace detail

} // namespace parallax::test
