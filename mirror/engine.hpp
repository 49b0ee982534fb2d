#pragma once
// The process-wide mirroring engine, the owner that wires the parts: per-route state
// (route_state.hpp: sampler, comparer, counters), the bounded comparison queue
// (compare_queue.hpp) and the comparison thread that drains it, and the report sinks
// (discrepancy log, summary, summary file, metrics text, admin routes). Each worker gets a
// shadow_dispatcher (see shadow_dispatcher.hpp) from attach(); dispatchers hand finished
// exchanges to submit().
//
// Threads: the I/O threads call route(), exchange_counter() and submit() and bump the routes'
// counters; the comparison thread parses, diffs, writes records and updates the summary; the
// admin thread reads summary_json() and render_metrics(). No lock is taken for an exchange that
// is not sampled; a sampled one takes the queue's mutex once, after its live response has
// reached the client.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "config/config.hpp"
#include "mirror/capture/response_capture.hpp" // response_capture
#include "mirror/compare_queue.hpp"            // compare_job, queue_limits
#include "mirror/report/counters.hpp"          // report::proxy_totals
#include "mirror/report/discrepancy_log.hpp"
#include "mirror/report/endpoint.hpp"
#include "mirror/report/summary.hpp"
#include "mirror/route_state.hpp"

namespace parallax::proxy::server {
class server;
}

namespace parallax::mirror {

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
  /// The mirrored route named `name`, or null.
  [[nodiscard]] route_state* route_named(std::string_view name) const noexcept;
  /// Every mirrored route's state, by route index (null: not mirrored).
  [[nodiscard]] const std::vector<std::unique_ptr<route_state>>& routes() const noexcept {
    return routes_;
  }
  [[nodiscard]] route_state* route(std::size_t index) const noexcept {
    return index < routes_.size() ? routes_[index].get() : nullptr;
  }

  /// A counter of exchanges seen by one worker (written by that worker only).
  std::atomic<std::uint64_t>& exchange_counter();
  /// Hands a finished exchange to the comparison thread; false when the queue is full (the
  /// exchange is counted as dropped).
  bool submit(std::unique_ptr<compare_job> job);

  /// The current `parallax.summary/v1` document.
  [[nodiscard]] boost::json::object summary_json() const;
  /// Starts a new report window (POST /report/reset): the summary's counts restart, the
  /// metrics (counters) do not.
  /// Returns the new window's start.
  std::chrono::system_clock::time_point reset_window();
  /// Appends the mirror metrics (Prometheus text, metrics_text.hpp).
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
  void settle_one();
  void write_summary_file() const;
  [[nodiscard]] report::proxy_totals proxy_totals() const;

  std::shared_ptr<const config::config> cfg_;
  std::vector<std::unique_ptr<route_state>> routes_; // by route index; null: not mirrored
  report::endpoint_namer namer_;
  report::summary summary_;
  report::discrepancy_log log_;
  mutable std::atomic<std::uint64_t> summary_write_errors_{0}; // reports.summary.path
  compare_queue queue_;
  mutable std::mutex counters_mutex_; // guards the deque's structure (start-up only)
  mutable std::mutex window_mutex_;   // guards window_base_
  report::proxy_totals window_base_;  // the proxy's totals when the window started
  std::deque<std::atomic<std::uint64_t>> exchange_counters_;
  mutable std::mutex settled_mutex_;
  mutable std::condition_variable settled_cv_;
  std::uint64_t settled_ = 0; // guarded by settled_mutex_
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

} // namespace parallax::mirror
