#pragma once
// The process-wide mirroring engine: per-route samplers, comparers and counters, the bounded
// comparison queue with its thread, and the report sinks (discrepancy log, summary, summary
// file, metrics). Each worker gets a shadow_dispatcher (see shadow_dispatcher.hpp) from
// attach(); dispatchers hand finished exchanges to submit().
//
// Threads: the I/O threads call route(), count_*() and submit(); the comparison thread parses,
// diffs, writes records and updates the summary; the admin thread reads summary_json() and
// render_metrics(). No lock is taken for an exchange that is not sampled; a sampled one takes
// the queue's mutex once, after its live response has reached the client.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "config/config.hpp"
#include "mirror/capture/response_capture.hpp"
#include "mirror/compare.hpp"
#include "mirror/report/counters.hpp"
#include "mirror/report/discrepancy_log.hpp"
#include "mirror/report/endpoint.hpp"
#include "mirror/report/summary.hpp"
#include "mirror/sampler.hpp"
#include "proxy/http/message.hpp"
#include "proxy/server/metrics.hpp"

namespace parallax::proxy::server {
class server;
}

namespace parallax::mirror {

/// Everything about one mirrored route, shared by all workers: its policy, sampler and comparer,
/// its counters (report::route_counters, the one place its totals are kept) and its gauges.
struct route_state : report::route_counters {
  route_state(std::size_t index, const config::route& r);

  std::size_t index;
  std::string name;
  const config::mirror_policy& policy;
  mirror::sampler sampler;
  mirror::comparer comparer;

  // Gauges (reports.md metrics), updated with relaxed atomics.
  std::atomic<std::int64_t> inflight{0};
  proxy::server::histogram shadow_duration;
};

/// One finished mirrored exchange waiting for comparison.
struct compare_job {
  route_state* route = nullptr;
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
  explicit compare_queue(queue_limits limits) : limits_(limits) {}
  /// Enqueues `job`; false (job dropped) when full or closed.
  bool push(std::unique_ptr<compare_job> job);
  /// Waits until a job is available, the queue is closed and empty (nullptr), or `until`
  /// passes (nullptr). With `deep`, pushes wake the waiter at once.
  std::unique_ptr<compare_job> pop(std::chrono::steady_clock::time_point until, bool deep = true);
  /// Refuses further pushes and wakes the consumer; queued jobs can still be popped.
  void close();
  /// Jobs waiting.
  [[nodiscard]] std::size_t size() const;

private:
  const queue_limits limits_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<compare_job>> jobs_;
  std::size_t bytes_ = 0;
  bool closed_ = false;
  bool deep_sleep_ = false;
};

/// The mirroring engine of one configuration.
class engine {
public:
  /// Prepares routes and sinks for `cfg` and starts the comparison thread. Throws
  /// std::invalid_argument for a policy the comparer rejects.
  explicit engine(std::shared_ptr<const config::config> cfg, queue_limits limits = {});
  /// Calls shutdown().
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Installs a dispatcher on every worker of `srv` and the admin handlers (`/report`,
  /// `/report.html`) and metrics; call before srv.start(). `srv` must not outlive this.
  void attach(proxy::server::server& srv);

  /// The mirrored route at configuration index `index`, or nullptr.
  [[nodiscard]] route_state* route(std::size_t index) const noexcept {
    return index < routes_.size() ? routes_[index].get() : nullptr;
  }
  /// The configuration.
  [[nodiscard]] const config::config& cfg() const noexcept { return *cfg_; }

  /// A counter of exchanges seen by one worker (written by that worker only).
  std::atomic<std::uint64_t>& exchange_counter();
  /// Hands a finished exchange to the comparison thread; false when the queue is full (the
  /// exchange is counted as dropped).
  bool submit(std::unique_ptr<compare_job> job);

  /// The current `parallax.summary/v1` document.
  [[nodiscard]] boost::json::object summary_json() const;
  /// Appends the mirror metrics (Prometheus text).
  void render_metrics(std::string& out) const;
  /// Processes every queued comparison, writes the summary file and flushes the log; stops
  /// the comparison thread. Idempotent.
  void shutdown();
  /// Compared exchanges so far.
  [[nodiscard]] std::uint64_t compared() const { return summary_.compared(); }
  /// Waits until `n` mirrored exchanges are settled (compared and recorded, or dropped because
  /// the queue was full), then flushes the discrepancy log; false on timeout. Lets tests and
  /// the demo await results.
  bool wait_settled(std::uint64_t n, std::chrono::milliseconds timeout);

private:
  void run();
  void process(compare_job& job);
  void write_summary_file() const;
  [[nodiscard]] report::proxy_totals proxy_totals() const;

  std::shared_ptr<const config::config> cfg_;
  std::vector<std::unique_ptr<route_state>> routes_; // by route index; null: not mirrored
  report::endpoint_namer namer_;
  report::summary summary_;
  report::discrepancy_log log_;
  compare_queue queue_;
  mutable std::mutex counters_mutex_; // guards the deque's structure (start-up only)
  std::deque<std::atomic<std::uint64_t>> exchange_counters_;
  mutable std::mutex settled_mutex_;
  mutable std::condition_variable settled_cv_;
  std::uint64_t settled_ = 0; // guarded by settled_mutex_
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

} // namespace parallax::mirror
