#include "mirror/report/latency_histogram.hpp"

#include "mirror/report/json_text.hpp" // round_to

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;

constexpr double bucket_growth = 1.02;
constexpr double lowest_ms = 0.01;
constexpr double highest_ms = 1e7;
// Bucket 0 holds latencies below lowest_ms, bucket i >= 1 holds
// [lowest * growth^(i-1), lowest * growth^i), and the last one everything from highest_ms up.
const std::size_t bucket_count = static_cast<std::size_t>(std::ceil(
                                     std::log(highest_ms / lowest_ms) / std::log(bucket_growth))) +
                                 2;
const std::size_t last_bucket = bucket_count - 1;

// The bucket counting `ms` (>= 0).
std::size_t bucket_of(double ms) noexcept {
  if (!(ms >= lowest_ms)) return 0;
  const double position = std::log(ms / lowest_ms) / std::log(bucket_growth);
  // Compared before converting: the position is infinite once ms / lowest_ms overflows.
  return position < static_cast<double>(last_bucket) ? 1 + static_cast<std::size_t>(position)
                                                     : last_bucket;
}

// Bucket i holds [lower_bound(i), lower_bound(i + 1)); the last one has no upper bound.
double lower_bound(std::size_t i) noexcept {
  return i == 0 ? 0.0 : lowest_ms * std::pow(bucket_growth, static_cast<double>(i) - 1);
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > std::numeric_limits<std::uint64_t>::max() - b
             ? std::numeric_limits<std::uint64_t>::max()
             : a + b;
}

std::optional<double> finite_number(const json::value* v) noexcept {
  if (v == nullptr || !v->is_number()) return std::nullopt;
  const double d = v->to_number<double>();
  if (!std::isfinite(d) || d < 0) return std::nullopt;
  return d;
}

std::optional<std::uint64_t> count_value(const json::value& v) noexcept {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
  return std::nullopt;
}

} // namespace

void latency_histogram::add(double ms) {
  if (!(ms > 0)) ms = 0; // also NaN
  add_count(bucket_of(ms), 1, ms, ms);
}

void latency_histogram::add_count(std::size_t bucket, std::uint64_t n, double min, double max) {
  if (n == 0) return;
  if (buckets_.empty()) buckets_.assign(bucket_count, 0);
  buckets_[bucket] = saturating_add(buckets_[bucket], n);
  min_ = count_ == 0 ? min : std::min(min_, min);
  max_ = count_ == 0 ? max : std::max(max_, max);
  count_ = saturating_add(count_, n);
}

void latency_histogram::merge(const latency_histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < bucket_count; ++i)
    add_count(i, other.buckets_[i], other.min_, other.max_);
}

double latency_histogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      // Under- and overflow buckets have no useful middle: the extremes seen are better.
      if (i == 0) return min_;
      if (i == buckets_.size() - 1) return max_;
      // The bucket's geometric middle is within half a bucket (1%) of any value in it.
      const double middle = lowest_ms * std::pow(bucket_growth, static_cast<double>(i) - 0.5);
      return std::clamp(middle, min_, max_);
    }
  }
  return max_;
}

json::value latency_histogram::to_json() const {
  if (count_ == 0) return nullptr;
  // Milliseconds to the nanosecond: short decimals, which read back exactly (a bound only has
  // to fall inside its 2% bucket; the extremes lose nothing a latency has).
  const auto ms = [](double v) { return round_to(v, 1e6); };
  json::array buckets;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i] == 0) continue;
    const json::value upper =
        i == last_bucket ? json::value(nullptr) : json::value(ms(lower_bound(i + 1)));
    buckets.push_back(json::array{ms(lower_bound(i)), upper, buckets_[i]});
  }
  return json::object{
      {"count", count_}, {"min", ms(min_)}, {"max", ms(max_)}, {"buckets", buckets}};
}

bool latency_histogram::merge_json(const json::value& value, std::string& error) {
  if (value.is_null()) return true;
  const auto* o = value.if_object();
  const auto* list = o == nullptr ? nullptr : o->if_contains("buckets");
  if (list == nullptr || !list->is_array()) {
    error = "a latency histogram is not {\"buckets\": [[LOWER, UPPER, COUNT], ...]}";
    return false;
  }
  // Read every bucket first: nothing is added from a histogram with a bad one.
  struct part {
    std::size_t bucket;
    std::uint64_t n;
    double lower;
    double upper;
  };
  std::vector<part> parts;
  for (const auto& item : list->get_array()) {
    const auto* b = item.if_array();
    const auto lower = b != nullptr && b->size() == 3 ? finite_number(&(*b)[0]) : std::nullopt;
    const auto upper = lower ? finite_number(&(*b)[1]) : std::nullopt;
    const bool unbounded = lower && (*b)[1].is_null();
    const auto n = lower ? count_value((*b)[2]) : std::nullopt;
    if (!lower || !n || (!upper && !unbounded) || (upper && *upper < *lower)) {
      error = "a latency histogram bucket is not [LOWER, UPPER or null, COUNT]";
      return false;
    }
    // A bucket counts where its middle falls: exactly its own bucket for ours.
    const std::size_t bucket = unbounded    ? last_bucket
                               : *lower > 0 ? bucket_of(std::sqrt(*lower * *upper))
                                            : bucket_of(*upper / 2);
    parts.push_back({bucket, *n, *lower, unbounded ? *lower : *upper});
  }
  for (const auto& p : parts) {
    // The extremes seen, when given, else the bucket's bounds.
    const double min = finite_number(o->if_contains("min")).value_or(p.lower);
    const double max = finite_number(o->if_contains("max")).value_or(p.upper);
    add_count(p.bucket, p.n, std::min(min, max), std::max(min, max));
  }
  return true;
}

} // namespace parallax::mirror::report
