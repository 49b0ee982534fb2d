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
// reached the client, or when it is skipped (to note its endpoint).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
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

/// The mirroring engine: one per process, following the configuration through reloads.
class engine {
public:
  /// Prepares routes and sinks for `cfg` and starts the comparison thread. Throws
  /// std::invalid_argument for a policy the comparer rejects.
  explicit engine(std::shared_ptr<const config::config> cfg, queue_limits limits = {});
  /// Calls shutdown().
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Installs a dispatcher on every worker of `srv`, the engine's part of every configuration
  /// generation, the admin handlers (`/report`, `/mirror`, ...) and metrics; call before
  /// srv.start(). `srv` must not outlive this.
  void attach(proxy::server::server& srv);

  /// Makes `cfg` the configuration in force (start, reload) and returns what the workers'
  /// dispatchers use for exchanges routed under it. Routes keep their counters and runtime
  /// overrides by name; a route whose mirror upstream (name or settings), secondary or compare
  /// rules changed starts a new report window; report sinks whose settings changed are
  /// replaced. Throws std::invalid_argument for a policy the comparer rejects (nothing changes).
  std::shared_ptr<const mirror_generation> apply(const std::shared_ptr<const config::config>& cfg);
  /// The generation in force.
  [[nodiscard]] std::shared_ptr<const mirror_generation> generation() const;
  /// Runs `fn` under the control lock (so a concurrent reload cannot lose its change) on the
  /// mirrored routes in force: all of them, or the one named `name`. Returns how many it ran on.
  std::size_t control(std::optional<std::string_view> name,
                      const std::function<void(route_state&)>& fn);

  /// A counter of exchanges seen by one worker (written by that worker only).
  std::atomic<std::uint64_t>& exchange_counter();
  /// Hands a finished exchange to the comparison thread; false when the queue is full (the
  /// exchange is counted as dropped).
  bool submit(std::unique_ptr<compare_job> job);
  /// Notes a sampled exchange of `route` that will not be compared (skipped), so that its
  /// endpoint's `sampled` counts it in the summary.
  void note_uncompared(const std::shared_ptr<route_state>& route,
                       const proxy::http::request_head& request) noexcept;

  /// The current `parallax.summary/v1` document, with `routes` (docs/report.md): each mirrored
  /// route's shadow upstream and percent in force.
  [[nodiscard]] boost::json::object summary_json();
  /// Starts a new report window (POST /report/reset): the summary's counts restart, the
  /// metrics (counters) do not. Returns the new window's start.
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
  // The report sinks of one `reports` configuration (replaced when a reload changes it).
  struct report_setup {
    explicit report_setup(std::shared_ptr<const config::config> c)
        : cfg(std::move(c)), namer(cfg->reports.endpoints), log(cfg->reports) {}
    std::shared_ptr<const config::config> cfg;
    report::endpoint_namer namer;
    report::discrepancy_log log;
  };

  void run();
  void process(compare_job& job, report_setup& setup);
  // Counts the noted uncompared exchanges into their endpoints' `sampled` (comparison thread,
  // and whoever reads the summary, so that it is up to date).
  void count_uncompared();
  // Counts an uncompared exchange of `route` whose note could not be kept.
  void count_unnamed(const route_state& route) noexcept;
  void settle_one();
  void write_summary_file(const report_setup& setup);
  [[nodiscard]] std::shared_ptr<report_setup> setup() const;
  void restart_route_window(const route_state& r);
  [[nodiscard]] report::proxy_totals proxy_totals() const; // window_mutex_ held

  mutable std::mutex control_mutex_; // guards current_, stats_ and overrides
  std::shared_ptr<const mirror_generation> current_;
  std::map<std::string, std::shared_ptr<route_stats>, std::less<>> stats_; // by route name

  mutable std::mutex setup_mutex_; // guards setup_ and retired_write_errors_
  std::shared_ptr<report_setup> setup_;
  std::uint64_t retired_write_errors_ = 0; // of report setups replaced by reloads

  report::summary summary_;
  mutable std::atomic<std::uint64_t> summary_write_errors_{0}; // reports.summary.path
  compare_queue queue_;
  mutable std::mutex counters_mutex_; // guards the deque's structure (start-up only)
  std::deque<std::atomic<std::uint64_t>> exchange_counters_;
  mutable std::mutex window_mutex_;  // guards the window bases
  std::uint64_t exchanges_base_ = 0; // exchanges when the window started
  std::map<std::string, report::proxy_totals, std::less<>> route_base_; // by route name
  mutable std::mutex settled_mutex_;
  mutable std::condition_variable settled_cv_;
  std::uint64_t settled_ = 0; // guarded by settled_mutex_
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> unnamed_pending_{false}; // some route_stats::unnamed_sampled > 0
};

} // namespace parallax::mirror
