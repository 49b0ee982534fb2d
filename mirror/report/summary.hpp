#pragma once
// The comparison summary (reports.md, schema `parallax.summary/v1`): totals, and per endpoint
// counts, diff rate, top differences, shadow errors, latency percentiles and examples.
//
// Memory is bounded whatever the traffic: at most `max_endpoints` endpoints (later ones are
// counted under an `other` endpoint), `max_difference_keys` distinct differences per endpoint
// (later ones only counted), latencies in fixed log-bucket histograms (no samples kept),
// `max_examples` ids per endpoint (the newest), and per difference `max_difference_examples`
// example values (the oldest in the window: live vs shadow, as the record writer redacts and
// excerpts them, cut to `example_value_bytes`).
//
// A summary can also be built from other summaries' JSON (merge_json: `parallax report` given
// summary files or a running parallax's /report): counts add, latency histograms merge.
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
#include "mirror/report/latency_histogram.hpp"
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

/// Tuning of a summary.
struct summary_options {
  double regression_ratio = 0; // for routes not in route_regression_ratios; 0 = off
  std::map<std::string, double, std::less<>> route_regression_ratios; // route name -> ratio
  std::size_t max_endpoints = 1000;
  std::size_t max_difference_keys = 200;   // distinct differences tracked per endpoint
  std::size_t top_differences = 10;        // differences listed per endpoint
  std::size_t max_examples = 5;            // record ids listed per endpoint
  std::size_t max_difference_examples = 3; // example values kept per difference
  std::uint64_t example_value_bytes = 128; // an example value's excerpt (values are redacted)
  config::reports reports; // how records are redacted and excerpted: example values are too
};

/// Options with each mirrored route's `compare.latency.regression_ratio` and the redaction.
[[nodiscard]] summary_options summary_options_from(const config::config& cfg);

/// Aggregates compared exchanges into a `parallax.summary/v1` document.
class summary {
public:
  /// An empty summary whose window starts now.
  explicit summary(summary_options options = {});

  /// Counts `n` sampled exchanges of `endpoint`: compared, skipped or dropped alike (the
  /// engine counts each once).
  void count_sampled(std::string_view route, std::string_view endpoint, std::uint64_t n = 1);
  /// Adds one compared exchange.
  void add(const record& r);

  /// Adds the endpoints of a `parallax.summary/v1` document (counts, differences with their
  /// examples, shadow errors, latency histograms, example ids); its totals and window are the
  /// caller's (summary_inputs). False with `error` set when the document is not a summary
  /// (then nothing was added).
  bool merge_json(const boost::json::object& document, std::string& error);

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
  struct difference_example {
    std::string id;                         // the record's
    std::string path;                       // body: the concrete path when `where` has `*`
    std::optional<boost::json::value> live; // absent: the side has no value (add, remove)
    std::optional<boost::json::value> shadow;
  };

  struct difference_stat {
    diff::difference_kind kind = diff::difference_kind::body;
    std::string where;                      // body path (ids as `*`), header name
    std::optional<boost::json::value> live; // status differences: the two codes
    std::optional<boost::json::value> shadow;
    bool noise = false; // the secondary showed it too: counted apart from the real one
    std::uint64_t count = 0;
    std::vector<difference_example> examples; // oldest first, at most max_difference_examples
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
  void add_difference_locked(endpoint_stat& e, const diff::difference& d, const std::string& id,
                             bool noise);
  // The difference of `e` keyed like `prototype` (created from it if there is room), or null
  // when the endpoint tracks max_difference_keys others (counted in other_differences).
  difference_stat* difference_locked(endpoint_stat& e, const difference_stat& prototype,
                                     std::uint64_t count);
  void add_example_locked(difference_stat& stat, difference_example example) const;
  template <typename Make> // difference_example make(), called only for an example kept
  void add_example_with(difference_stat& stat, const std::string& id, Make make) const;
  void add_endpoint_example_locked(endpoint_stat& e, const std::string& id) const;
  void count_shadow_error_locked(endpoint_stat& e, std::string kind, std::uint64_t n);
  bool merge_endpoint_locked(const boost::json::object& o, std::string& error);
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
