#include "mirror/report/summary.hpp"

#include "mirror/report/endpoint.hpp"
#include "mirror/report/json_text.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cmath>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::difference_kind;

constexpr double bucket_growth = 1.02;
constexpr double lowest_ms = 0.01;
constexpr double highest_ms = 1e7;
// Bucket 0 holds latencies below lowest_ms, bucket i >= 1 holds
// [lowest * growth^(i-1), lowest * growth^i), and the last one everything from highest_ms up.
const std::size_t bucket_count = static_cast<std::size_t>(std::ceil(
                                     std::log(highest_ms / lowest_ms) / std::log(bucket_growth))) +
                                 2;

constexpr std::size_t max_error_kinds = 16; // shadow error kinds per endpoint (5 are defined)

// A body pointer with id-like reference tokens (array indices, ids as keys) replaced by `*`,
// so that one entry collects /items/0/price, /items/1/price, ...
std::string normalised_pointer(std::string_view pointer) {
  std::string out;
  out.reserve(pointer.size());
  std::size_t start = 0;
  if (!pointer.empty() && pointer.front() == '/')
    start = 1;
  else
    return std::string(pointer);
  for (;;) {
    const auto slash = pointer.find('/', start);
    const auto token =
        pointer.substr(start, slash == std::string_view::npos ? slash : slash - start);
    out.push_back('/');
    if (is_id_segment(token))
      out.push_back('*');
    else
      out.append(token);
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

std::string value_key(const std::optional<json::value>& v) {
  return v ? serialize_json(*v) : std::string("-");
}

json::value latency_json(const latency_histogram& h) {
  if (h.count() == 0) return nullptr;
  json::object o;
  o["p50"] = round_to(h.quantile(0.50), 1000);
  o["p90"] = round_to(h.quantile(0.90), 1000);
  o["p99"] = round_to(h.quantile(0.99), 1000);
  return o;
}

} // namespace

// ---- latency_histogram ----

void latency_histogram::add(double ms) {
  if (!(ms > 0)) ms = 0; // also NaN
  if (buckets_.empty()) buckets_.assign(bucket_count, 0);
  std::size_t index = 0;
  if (ms >= lowest_ms) {
    const double position = std::log(ms / lowest_ms) / std::log(bucket_growth);
    // Compared before converting: the position is infinite once ms / lowest_ms overflows.
    const auto last = static_cast<double>(bucket_count - 1);
    index = position < last ? 1 + static_cast<std::size_t>(position) : bucket_count - 1;
  }
  ++buckets_[index];
  if (count_ == 0) {
    min_ = max_ = ms;
  } else {
    min_ = std::min(min_, ms);
    max_ = std::max(max_, ms);
  }
  ++count_;
}

void latency_histogram::merge(const latency_histogram& other) {
  if (other.count_ == 0) return;
  if (buckets_.empty()) buckets_.assign(bucket_count, 0);
  for (std::size_t i = 0; i < bucket_count; ++i)
    buckets_[i] += other.buckets_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  count_ += other.count_;
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

// ---- summary ----

summary_options summary_options_from(const config::config& cfg) {
  summary_options options;
  for (const auto& route : cfg.routes) {
    if (route.mirror) {
      options.route_regression_ratios[route.name] = route.mirror->compare.latency.regression_ratio;
    }
  }
  return options;
}

summary::summary(summary_options options)
    : options_(std::move(options)), since_(std::chrono::system_clock::now()) {}

void summary::count_sampled(std::string_view route, std::string_view endpoint) {
  const std::lock_guard lock(mutex_);
  ++endpoint_locked(route, endpoint).sampled;
}

void summary::add(const record& r) {
  const std::lock_guard lock(mutex_);
  if (!first_ || r.time < *first_) first_ = r.time;
  if (!last_ || r.time > *last_) last_ = r.time;
  auto& e = endpoint_locked(r.route, r.endpoint);
  switch (r.outcome) {
  case outcome::match: ++e.match; break;
  case outcome::differ: ++e.differ; break;
  case outcome::shadow_error: {
    ++e.shadow_error;
    std::string kind = r.shadow.error.value_or("unknown");
    if (e.shadow_errors.size() >= max_error_kinds && !e.shadow_errors.contains(kind)) {
      kind = "other";
    }
    ++e.shadow_errors[kind];
    break;
  }
  }
  e.live_latency.add(r.live.latency_ms);
  if (r.outcome != outcome::shadow_error) e.shadow_latency.add(r.shadow.latency_ms);
  for (const auto& d : r.differences)
    add_difference_locked(e, d);

  if (r.outcome != outcome::match && !r.id.empty() && options_.max_examples > 0) {
    // Keep the newest ids (ULIDs sort by time): those are the likeliest still in the logs,
    // and the choice does not depend on the order records arrive in.
    auto& ex = e.examples;
    const auto at = std::lower_bound(ex.begin(), ex.end(), r.id, std::greater<>());
    if ((at == ex.end() || *at != r.id) && (ex.size() < options_.max_examples || at != ex.end())) {
      ex.insert(at, r.id);
      if (ex.size() > options_.max_examples) ex.pop_back();
    }
  }
}

void summary::add_difference_locked(endpoint_stat& e, const diff::difference& d) {
  std::string where;
  std::string key(to_string(d.kind));
  key.push_back('\x1f');
  switch (d.kind) {
  case difference_kind::body: where = normalised_pointer(d.path); break;
  case difference_kind::header: where = d.name; break;
  case difference_kind::status: key += value_key(d.live) + "\x1f" + value_key(d.shadow); break;
  case difference_kind::body_text:
  case difference_kind::body_bytes: break;
  }
  key += where;
  auto it = e.differences.find(key);
  if (it == e.differences.end()) {
    if (e.differences.size() >= options_.max_difference_keys) {
      ++e.other_differences;
      return;
    }
    difference_stat stat;
    stat.kind = d.kind;
    stat.where = std::move(where);
    if (d.kind == difference_kind::status) {
      stat.live = d.live;
      stat.shadow = d.shadow;
    }
    it = e.differences.emplace(std::move(key), std::move(stat)).first;
  }
  ++it->second.count;
}

summary::endpoint_stat& summary::endpoint_locked(std::string_view route,
                                                 std::string_view endpoint) {
  std::string key;
  key.reserve(route.size() + endpoint.size() + 1);
  key.append(route).push_back('\x1f');
  key.append(endpoint);
  if (auto it = endpoints_.find(key); it != endpoints_.end()) return it->second;
  const std::string other_key = "\x1f" + std::string(other_endpoint);
  // The cap counts real endpoints; the `other` bucket comes on top of it.
  const std::size_t real = endpoints_.size() - (endpoints_.contains(other_key) ? 1 : 0);
  if (real >= options_.max_endpoints) {
    auto& other = endpoints_[other_key];
    if (other.endpoint.empty()) {
      other.endpoint = std::string(other_endpoint);
      other.regression_ratio = options_.regression_ratio;
    }
    return other;
  }
  auto& e = endpoints_[key];
  e.route = std::string(route);
  e.endpoint = std::string(endpoint);
  e.regression_ratio = ratio_for(route);
  return e;
}

double summary::ratio_for(std::string_view route) const noexcept {
  const auto it = options_.route_regression_ratios.find(route);
  return it == options_.route_regression_ratios.end() ? options_.regression_ratio : it->second;
}

json::object summary::endpoint_json(const endpoint_stat& e, bool totals_known,
                                    bool any_match) const {
  const std::uint64_t compared = e.match + e.differ + e.shadow_error;
  json::object o;
  o["endpoint"] = e.endpoint;
  o["route"] = e.route;
  if (const auto since = route_since_.find(e.route); since != route_since_.end()) {
    o["since"] = format_time(since->second, false); // this route's own window (a reload)
  }
  o["sampled"] = totals_known ? json::value(e.sampled) : json::value(nullptr);
  o["compared"] = compared;
  o["match"] = e.match;
  o["differ"] = e.differ;
  o["shadow_error"] = e.shadow_error;
  // From logs without match records (include_matches off) a rate would be meaningless.
  const bool rate_known = totals_known || any_match;
  o["diff_rate"] = rate_known && compared > 0
                       ? json::value(round_to(
                             static_cast<double>(e.differ) / static_cast<double>(compared), 10000))
                       : json::value(nullptr);

  std::vector<const difference_stat*> top;
  top.reserve(e.differences.size());
  for (const auto& [key, stat] : e.differences)
    top.push_back(&stat);
  const auto by_count = [](const difference_stat* a, const difference_stat* b) {
    if (a->count != b->count) return a->count > b->count;
    if (a->kind != b->kind) return a->kind < b->kind;
    if (a->where != b->where) return a->where < b->where;
    return value_key(a->live) + value_key(a->shadow) < value_key(b->live) + value_key(b->shadow);
  };
  const std::size_t shown = std::min(top.size(), options_.top_differences);
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(shown), top.end(),
                    by_count);
  json::array differences;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& stat = *top[i];
    json::object d;
    d["kind"] = to_string(stat.kind);
    switch (stat.kind) {
    case difference_kind::body: d["path"] = stat.where; break;
    case difference_kind::header: d["name"] = stat.where; break;
    case difference_kind::status:
      d["live"] = stat.live ? *stat.live : json::value(nullptr);
      d["shadow"] = stat.shadow ? *stat.shadow : json::value(nullptr);
      break;
    case difference_kind::body_text:
    case difference_kind::body_bytes: break;
    }
    d["count"] = stat.count;
    // Records hold differences after noise suppression; none of them is known noise.
    if (stat.kind != difference_kind::status) d["noise"] = false;
    differences.push_back(std::move(d));
  }
  o["differences"] = std::move(differences);
  if (e.other_differences > 0) o["other_differences"] = e.other_differences;

  json::object errors;
  for (const auto& [kind, n] : e.shadow_errors)
    errors[kind] = n;
  o["shadow_errors"] = std::move(errors);

  json::object latency;
  latency["live"] = latency_json(e.live_latency);
  latency["shadow"] = latency_json(e.shadow_latency);
  o["latency_ms"] = std::move(latency);
  o["latency_regression"] =
      e.regression_ratio > 0 && e.live_latency.count() > 0 && e.shadow_latency.count() > 0 &&
      e.shadow_latency.quantile(0.99) > e.regression_ratio * e.live_latency.quantile(0.99);

  json::array examples;
  for (const auto& id : e.examples)
    examples.emplace_back(id);
  o["examples"] = std::move(examples);
  return o;
}

json::object summary::to_json(std::chrono::system_clock::time_point since,
                              std::chrono::system_clock::time_point until,
                              const std::optional<proxy_totals>& proxy) const {
  const std::lock_guard lock(mutex_);
  json::object out;
  out["schema"] = summary_schema;
  out["since"] = format_time(since, false);
  out["until"] = format_time(until, false);

  std::uint64_t match = 0, differ = 0, shadow_error = 0;
  for (const auto& [key, e] : endpoints_) {
    match += e.match;
    differ += e.differ;
    shadow_error += e.shadow_error;
  }
  json::object totals;
  totals["exchanges"] = proxy ? json::value(proxy->exchanges) : nullptr;
  totals["sampled"] = proxy ? json::value(proxy->sampled) : nullptr;
  totals["compared"] = match + differ + shadow_error;
  totals["match"] = match;
  totals["differ"] = differ;
  totals["shadow_error"] = shadow_error;
  if (proxy) {
    json::object skipped;
    for (std::size_t i = 0; i < skip_reason_count; ++i)
      skipped[to_string(static_cast<skip_reason>(i))] = proxy->skipped[i];
    totals["skipped"] = std::move(skipped);
    totals["comparisons_dropped"] = proxy->comparisons_dropped;
  } else {
    totals["skipped"] = nullptr;
  }
  out["totals"] = std::move(totals);
  if (!proxy) {
    std::string note = "built from discrepancy logs, which hold only compared exchanges: "
                       "exchanges, sampled and skipped are unknown (null)";
    if (match == 0) {
      note += "; the logs hold no match records (include_matches was off), so match counts "
              "and diff_rate are unknown too";
    }
    out["note"] = note;
  }

  // Endpoints with the most differing or failing exchanges first; `other` last.
  std::vector<const endpoint_stat*> order;
  order.reserve(endpoints_.size());
  for (const auto& [key, e] : endpoints_)
    order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const endpoint_stat* a, const endpoint_stat* b) {
    const bool a_other = a->route.empty() && a->endpoint == other_endpoint;
    const bool b_other = b->route.empty() && b->endpoint == other_endpoint;
    if (a_other != b_other) return b_other;
    const auto a_bad = a->differ + a->shadow_error;
    const auto b_bad = b->differ + b->shadow_error;
    if (a_bad != b_bad) return a_bad > b_bad;
    const auto a_n = a->match + a_bad;
    const auto b_n = b->match + b_bad;
    if (a_n != b_n) return a_n > b_n;
    if (a->endpoint != b->endpoint) return a->endpoint < b->endpoint;
    return a->route < b->route;
  });
  json::array endpoints;
  endpoints.reserve(order.size());
  for (const auto* e : order)
    endpoints.push_back(endpoint_json(*e, proxy.has_value(), match > 0));
  out["endpoints"] = std::move(endpoints);
  return out;
}

std::chrono::system_clock::time_point summary::since() const {
  std::lock_guard lock(mutex_);
  return since_;
}

void summary::reset_route(std::string_view route) {
  const std::lock_guard lock(mutex_);
  std::erase_if(endpoints_, [&](const auto& entry) { return entry.second.route == route; });
  route_since_[std::string(route)] = std::chrono::system_clock::now();
}

void summary::set_options(summary_options options) {
  const std::lock_guard lock(mutex_);
  options_ = std::move(options);
}

void summary::reset() {
  std::lock_guard lock(mutex_);
  endpoints_.clear();
  route_since_.clear();
  first_.reset();
  last_.reset();
  since_ = std::chrono::system_clock::now();
}

std::optional<
    std::pair<std::chrono::system_clock::time_point, std::chrono::system_clock::time_point>>
summary::record_time_range() const {
  const std::lock_guard lock(mutex_);
  if (!first_ || !last_) return std::nullopt;
  return std::pair{*first_, *last_};
}

std::uint64_t summary::compared() const {
  const std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& [key, e] : endpoints_)
    n += e.match + e.differ + e.shadow_error;
  return n;
}

} // namespace parallax::mirror::report
