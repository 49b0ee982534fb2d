#pragma once
// The comparison summary (reports.md, schema `parallax.summary/v1`): totals, and per endpoint
// counts, diff rate, top differences, shadow errors, latency percentiles and examples.
//
// Memory is bounded whatever the traffic: at most `max_endpoints` endpoints (later ones are
// counted under an `other` endpoint), `max_difference_keys` distinct differences per endpoint
// (later ones only counted), latencies in fixed log-bucket histograms (no samples kept), and
// `max_examples` ids per endpoint.
//
// The totals only the proxy sees (exchanges, sampled, skipped, dropped) are not kept here but
// in the routes' counters (counters.hpp); to_json() is given their sums, or nothing for a
// summary built from logs. Compared, match, differ and shadow_error totals are the sums of the
// endpoints'.
//
// Threading: every member may be called from any thread; count_sampled, add and to_json take a
// mutex for a short, allocation-light critical section.

#include "config/config.hpp"
#include "mirror/report/counters.hpp"
#include "mirror/report/record.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parallax::mirror::report {

/// The `schema` value of every summary.
inline constexpr std::string_view summary_schema = "parallax.summary/v1";

/// The endpoint name that collects endpoints beyond the cap.
inline constexpr std::string_view other_endpoint = "other";

/// Quantiles of latencies in milliseconds from a fixed set of logarithmic buckets, each 2%
/// wide, from 0.01 ms to 10^7 ms: an estimate is within 1% of a true sample value (clamped to
/// the smallest and largest values seen). Buckets are allocated on the first add().
class latency_histogram {
public:
  /// Counts one latency (negative and NaN count as 0, huge ones in the last bucket).
  void add(double ms);
  /// Adds every count of `other`.
  void merge(const latency_histogram& other);
  /// Number of latencies counted.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// The nearest-rank `q` quantile (0 < q <= 1), estimated; 0 when empty.
  [[nodiscard]] double quantile(double q) const noexcept;

private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
};

/// Tuning of a summary.
struct summary_options {
  double regression_ratio = 0; // for routes not in route_regression_ratios; 0 = off
  std::map<std::string, double, std::less<>> route_regression_ratios; // route name -> ratio
  std::size_t max_endpoints = 1000;
  std::size_t max_difference_keys = 200; // distinct differences tracked per endpoint
  std::size_t top_differences = 10;      // differences listed per endpoint
  std::size_t max_examples = 5;          // record ids listed per endpoint
};

/// Options with each mirrored route's `compare.latency.regression_ratio`.
[[nodiscard]] summary_options summary_options_from(const config::config& cfg);

/// Aggregates compared exchanges into a `parallax.summary/v1` document.
class summary {
public:
  /// An empty summary whose window starts now.
  explicit summary(summary_options options = {});

  /// Counts a sampled exchange of `endpoint` (the engine counts those it compares).
  void count_sampled(std::string_view route, std::string_view endpoint);
  /// Adds one compared exchange.
  void add(const record& r);

  /// The summary document for the window [since, until], its totals completed by `proxy`;
  /// without them (a summary built from logs) exchanges, sampled and skipped are null, endpoint
  /// `sampled` too, and a `note` says why.
  [[nodiscard]] boost::json::object to_json(std::chrono::system_clock::time_point since,
                                            std::chrono::system_clock::time_point until,
                                            const std::optional<proxy_totals>& proxy) const;

  /// When the window started (construction, or the last reset()).
  [[nodiscard]] std::chrono::system_clock::time_point since() const;
  /// Starts a new window now: every count and endpoint restarts (POST /report/reset).
  void reset();
  /// Starts a new window for one route's endpoints now (a reload changed its mirror upstream or
  /// compare rules): they are dropped, and the route's next endpoints say since when they count.
  void reset_route(std::string_view route);
  /// New tuning (a reload): applies to endpoints seen from now on.
  void set_options(summary_options options);
  /// Earliest and latest record times added, if any record was.
  [[nodiscard]] std::optional<
      std::pair<std::chrono::system_clock::time_point, std::chrono::system_clock::time_point>>
  record_time_range() const;
  /// Compared exchanges added so far.
  [[nodiscard]] std::uint64_t compared() const;

private:
  struct difference_stat {
    diff::difference_kind kind = diff::difference_kind::body;
    std::string where;                      // body path (ids as `*`), header name
    std::optional<boost::json::value> live; // status differences: the two codes
    std::optional<boost::json::value> shadow;
    std::uint64_t count = 0;
  };

  struct endpoint_stat {
    std::string route;
    std::string endpoint;
    double regression_ratio = 0;
    std::uint64_t sampled = 0;
    std::uint64_t match = 0;
    std::uint64_t differ = 0;
    std::uint64_t shadow_error = 0;
    std::unordered_map<std::string, difference_stat> differences;
    std::uint64_t other_differences = 0; // beyond max_difference_keys
    std::map<std::string, std::uint64_t> shadow_errors;
    latency_histogram live_latency;
    latency_histogram shadow_latency;
    std::vector<std::string> examples; // newest first
  };

  endpoint_stat& endpoint_locked(std::string_view route, std::string_view endpoint);
  void add_difference_locked(endpoint_stat& e, const diff::difference& d);
  [[nodiscard]] boost::json::object endpoint_json(const endpoint_stat& e, bool totals_known,
                                                  bool any_match) const;
  [[nodiscard]] double ratio_for(std::string_view route) const noexcept;

  summary_options options_;                     // guarded by mutex_
  std::chrono::system_clock::time_point since_; // guarded by mutex_
  // Routes whose window restarted after since_ (reset_route), and when; guarded by mutex_.
  std::map<std::string, std::chrono::system_clock::time_point, std::less<>> route_since_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, endpoint_stat> endpoints_;          // guarded by mutex_
  std::optional<std::chrono::system_clock::time_point> first_, last_; // guarded by mutex_
};

} // namespace parallax::mirror::report
