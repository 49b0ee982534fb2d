#pragma once
// The hand-off between the I/O threads, which finish mirrored exchanges, and the comparison
// thread: a bounded FIFO of compare jobs. Bounded by jobs and bytes so a slow comparison thread
// sheds load (the job is dropped and counted) instead of growing memory or blocking a worker.

#include "mirror/capture/response_capture.hpp"
#include "proxy/http/message.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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

/// A sampled exchange that is not compared (skipped, or its comparison dropped): the comparison
/// thread names its endpoint, whose `sampled` count in the summary includes it.
struct uncompared_exchange {
  std::shared_ptr<route_state> route; // the generation of the route it was sampled under
  std::string method;
  std::string path; // the target without its query
  bool grpc = false;
};

/// Limits of the comparison queue.
struct queue_limits {
  std::size_t max_jobs = 1024;
  std::size_t max_bytes = 64UL * 1024UL * 1024UL;
  std::size_t max_notes = 4096; // uncompared exchanges waiting to be named
};

/// A bounded FIFO of jobs between threads: push() refuses (never blocks, never grows) when
/// the job count or the bytes held would exceed the limits.
///
/// Wake-ups are batched: a push wakes the consumer only when `wake_batch` jobs are waiting or
/// the consumer sleeps without a deadline ("deeply", after a quiet spell). Otherwise the
/// consumer finds the jobs at its next short timeout, so a busy proxy pays one futex wake per
/// batch instead of one per exchange.
///
/// Beside the jobs, a bounded list of notes of uncompared exchanges (for the summary's
/// per-endpoint `sampled`), so that skipping an exchange costs a short critical section and no
/// comparison slot.
class compare_queue {
public:
  static constexpr std::size_t wake_batch = 64;
  /// An empty, open queue.
  explicit compare_queue(queue_limits limits) : limits_(limits) {}
  /// Enqueues `job` (moved from only then); false when full or closed, `job` left as it was.
  bool push(std::unique_ptr<compare_job>&& job);
  /// Waits until a job is available, the queue is closed and empty (nullptr), or `until`
  /// passes (nullptr). With `deep`, pushes wake the waiter at once.
  std::unique_ptr<compare_job> pop(std::chrono::steady_clock::time_point until, bool deep = true);
  /// Refuses further pushes and wakes the consumer; queued jobs can still be popped.
  void close();

  /// Keeps `note` for the consumer; false (dropped) when `max_notes` are waiting or the queue
  /// is closed. Notes wake the consumer only when half of `max_notes` are waiting: whoever
  /// reads the counts takes the notes first (take_notes), so they need no prompt consumer.
  bool note(uncompared_exchange note);
  /// Moves the waiting notes to `out` (replacing what it held).
  void take_notes(std::vector<uncompared_exchange>& out);

private:
  const queue_limits limits_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<compare_job>> jobs_;
  std::vector<uncompared_exchange> notes_;
  std::atomic<bool> has_notes_{false}; // !notes_.empty(), readable without the mutex
  std::size_t bytes_ = 0;
  bool closed_ = false;
  bool deep_sleep_ = false;
};

} // namespace parallax::mirror
