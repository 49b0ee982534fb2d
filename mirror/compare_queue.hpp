#pragma once
// The hand-off between the I/O threads, which finish mirrored exchanges, and the comparison
// thread: a bounded FIFO of compare jobs. Bounded by jobs and bytes so a slow comparison thread
// sheds load (the job is dropped and counted) instead of growing memory or blocking a worker.

#include "mirror/capture/response_capture.hpp"
#include "proxy/http/message.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

namespace parallax::mirror {

struct route_state;

/// One finished mirrored exchange waiting for comparison.
struct compare_job {
  std::shared_ptr<route_state> route; // the generation of the route it was mirrored under
  std::chrono::system_clock::time_point time;
  proxy::http::request_head request; // as the client sent it
  std::uint64_t request_body_bytes = 0;
  response_capture live;
  response_capture shadow;
  std::optional<response_capture> secondary;

  /// Memory held, for the queue's byte bound.
  [[nodiscard]] std::size_t memory_bytes() const noexcept;
};

/// Limits of the comparison queue.
struct queue_limits {
  std::size_t max_jobs = 1024;
  std::size_t max_bytes = 64UL * 1024UL * 1024UL;
};

/// A bounded FIFO of jobs between threads: push() refuses (never blocks, never grows) when
/// the job count or the bytes held would exceed the limits.
///
/// Wake-ups are batched: a push wakes the consumer only when `wake_batch` jobs are waiting or
/// the consumer sleeps without a deadline ("deeply", after a quiet spell). Otherwise the
/// consumer finds the jobs at its next short timeout, so a busy proxy pays one futex wake per
/// batch instead of one per exchange.
class compare_queue {
public:
  static constexpr std::size_t wake_batch = 64;
  /// An empty, open queue.
  explicit compare_queue(queue_limits limits) : limits_(limits) {}
  /// Enqueues `job`; false (job dropped) when full or closed.
  bool push(std::unique_ptr<compare_job> job);
  /// Waits until a job is available, the queue is closed and empty (nullptr), or `until`
  /// passes (nullptr). With `deep`, pushes wake the waiter at once.
  std::unique_ptr<compare_job> pop(std::chrono::steady_clock::time_point until, bool deep = true);
  /// Refuses further pushes and wakes the consumer; queued jobs can still be popped.
  void close();

private:
  const queue_limits limits_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<compare_job>> jobs_;
  std::size_t bytes_ = 0;
  bool closed_ = false;
  bool deep_sleep_ = false;
};

} // namespace parallax::mirror
