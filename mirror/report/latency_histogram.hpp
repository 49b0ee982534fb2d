#pragma once
// The latency histogram of summaries (reports.md `latency_ms`): fixed logarithmic buckets, so
// quantiles are estimated within 1% without keeping samples, and histograms of several
// summaries (pods, windows) merge exactly. Its JSON form (`latency_histogram_ms`, docs/report.md)
// lists the non-empty buckets with their bounds, so a merged report's percentiles are those of
// the merged histograms.
//
// (The Prometheus histograms of proxy/server/metrics.hpp have 52 coarse buckets, at most 1.25x
// apart, fit for PromQL; summary percentiles need the 2% buckets here.)

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parallax::mirror::report {

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

  /// The JSON form: `{"count": N, "min": MS, "max": MS, "buckets": [[LOWER, UPPER, N], ...]}`
  /// with the non-empty buckets, [LOWER, UPPER) in ms (UPPER null for the last, unbounded one);
  /// null when empty.
  [[nodiscard]] boost::json::value to_json() const;
  /// Adds the counts of a histogram in its JSON form (null adds nothing). A bucket counts where
  /// its middle falls, so this histogram's own buckets come back exactly. False with `error`
  /// set when `value` is not such a histogram (nothing is added then).
  bool merge_json(const boost::json::value& value, std::string& error);

private:
  void add_count(std::size_t bucket, std::uint64_t n, double min, double max);

  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
};

} // namespace parallax::mirror::report
