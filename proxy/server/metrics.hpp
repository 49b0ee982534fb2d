#pragma once
// Process-wide proxy metrics (reports.md "Metrics"): lock-free counters updated on the I/O
// threads, rendered in the Prometheus text format by the admin listener. Labels are route,
// listener and upstream names and fixed enums only, so cardinality is bounded.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parallax::proxy::server {

/// A Prometheus histogram with fixed latency buckets (seconds): from 1 ms to 10 s the E12
/// series (12 per decade, neighbours at most 1.25x apart), so a 1.5x change of a quantile moves
/// it by at least one bucket (a shadow-vs-live p99 ratio can tell a 1.5x regression); three
/// below 1 ms for loopback-fast answers.
class histogram {
public:
  static constexpr std::array<double, 52> bounds{
      0.0001, 0.0002, 0.0005, 0.001,  0.0012, 0.0015, 0.0018, 0.0022, 0.0027, 0.0033, 0.0039,
      0.0047, 0.0056, 0.0068, 0.0082, 0.01,   0.012,  0.015,  0.018,  0.022,  0.027,  0.033,
      0.039,  0.047,  0.056,  0.068,  0.082,  0.1,    0.12,   0.15,   0.18,   0.22,   0.27,
      0.33,   0.39,   0.47,   0.56,   0.68,   0.82,   1,      1.2,    1.5,    1.8,    2.2,
      2.7,    3.3,    3.9,    4.7,    5.6,    6.8,    8.2,    10};
  /// Records one observation.
  void observe(double seconds) noexcept;
  /// Appends `name_bucket{labels,le=..}`, `_sum` and `_count` lines.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
  std::atomic<std::uint64_t> count_{0};
};

/// Counters of one route.
struct route_metrics {
  std::array<std::atomic<std::uint64_t>, 5> responses{}; // 1xx..5xx
  histogram duration;
  /// Counts a response with `status`.
  void count(int status) noexcept {
    const int cls = status / 100;
    if (cls >= 1 && cls <= 5) responses[cls - 1].fetch_add(1, std::memory_order_relaxed);
  }
};

/// Counters of one upstream.
struct upstream_metrics {
  std::array<std::atomic<std::uint64_t>, 5> errors{}; // by upstream_error - 1
};

/// Gauge of one listener.
struct listener_metrics {
  std::atomic<std::int64_t> connections{0};
};

/// All proxy metrics; entries are created at start-up (and on reload), never removed, so
/// references handed to workers stay valid.
class metrics_registry {
public:
  /// The route's counters, created on first use (route "unmatched" counts 404s).
  route_metrics& route(const std::string& name);
  /// The upstream's counters.
  upstream_metrics& upstream(const std::string& name);
  /// The listener's gauge.
  listener_metrics& listener(const std::string& name);
  /// Counts a configuration reload by result (`ok`, `rejected`); the last one's result is
  /// `config_last_reload_successful` (1 until a reload is rejected, 1 again after one applies).
  void count_reload(bool ok) noexcept;
  /// Records the configuration generation in force and when it was applied (Unix seconds):
  /// `config_generation` and `config_last_reload_success_timestamp_seconds` (the start counts
  /// as the first successful load).
  void set_generation(std::uint64_t generation, double applied_at) noexcept;
  /// Adds a producer of further metric text (e.g. mirror metrics), called at each scrape.
  void add_section(std::function<void(std::string&)> section);
  /// Everything in the Prometheus text exposition format.
  [[nodiscard]] std::string render() const;

private:
  mutable std::mutex mutex_; // guards the maps' structure only, never the request path
  std::map<std::string, std::unique_ptr<route_metrics>> routes_;
  std::map<std::string, std::unique_ptr<upstream_metrics>> upstreams_;
  std::map<std::string, std::unique_ptr<listener_metrics>> listeners_;
  std::vector<std::function<void(std::string&)>> sections_;
  std::atomic<std::uint64_t> reloads_ok_{0};
  std::atomic<std::uint64_t> reloads_rejected_{0};
  std::atomic<bool> last_reload_ok_{true};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<double> applied_at_{0};
};

/// Escapes a Prometheus label value.
std::string escape_label(const std::string& v);

} // namespace parallax::proxy::server
