#include "mirror/report/summary.hpp"

#include "mirror/report/endpoint.hpp"
#include "mirror/report/excerpt.hpp"
#include "mirror/report/json_text.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <tuple>
#include <cmath>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::difference_kind;

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

// The key of a difference within its endpoint: status differences by their two codes, body
// differences by normalised path, header differences by name.
std::string difference_key(difference_kind kind, std::string_view where,
                           const std::optional<json::value>& live,
                           const std::optional<json::value>& shadow, bool noise) {
  std::string key(to_string(kind));
  key.push_back(noise ? '\x1e' : '\x1f');
  if (diff::is_status_kind(kind)) key += value_key(live) + "\x1f" + value_key(shadow);
  key += where;
  return key;
}

// Inserts the item `make()` for `id` into `list` (ids in `Order`, at most `max`) unless it is
// there already or `max` ids before it in that order are. ULIDs sort by time, so std::greater
// keeps the newest and std::less the oldest, whatever order records (or merged summaries) arrive
// in; `make` runs only for an item kept.
template <typename Order, typename T, typename IdOf, typename Make>
void keep_first(std::vector<T>& list, const std::string& id, std::size_t max, IdOf id_of,
                Make make) {
  if (id.empty() || max == 0) return;
  const auto at =
      std::lower_bound(list.begin(), list.end(), id, [&](const T& item, const std::string& key) {
        return Order{}(id_of(item), key);
      });
  if ((at != list.end() && id_of(*at) == id) || (list.size() >= max && at == list.end())) return;
  list.insert(at, make());
  if (list.size() > max) list.pop_back();
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

// ---- summary ----

summary_options summary_options_from(const config::config& cfg) {
  summary_options options;
  options.reports = cfg.reports;
  for (const auto& route : cfg.routes) {
    if (route.mirror) {
      options.route_regression_ratios[route.name] = route.mirror->compare.latency.regression_ratio;
    }
  }
  return options;
}

summary::summary(summary_options options)
    : options_(std::move(options)), since_(std::chrono::system_clock::now()) {}

void summary::count_sampled(std::string_view route, std::string_view endpoint, std::uint64_t n) {
  const std::lock_guard lock(mutex_);
  endpoint_locked(route, endpoint).sampled += n;
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
    count_shadow_error_locked(e, r.shadow.error.value_or("unknown"), 1);
    break;
  }
  }
  e.live_latency.add(r.live.latency_ms);
  if (r.outcome != outcome::shadow_error) e.shadow_latency.add(r.shadow.latency_ms);
  for (const auto& d : r.differences)
    add_difference_locked(e, d, r.id, false);
  for (const auto& d : r.noise)
    add_difference_locked(e, d, r.id, true);
  if (r.outcome != outcome::match) add_endpoint_example_locked(e, r.id);
}

void summary::add_endpoint_example_locked(endpoint_stat& e, const std::string& id) const {
  // The newest ids: the likeliest still in the (rotated) logs.
  keep_first<std::greater<>>(
      e.examples, id, options_.max_examples,
      [](const std::string& s) -> const std::string& { return s; }, [&] { return id; });
}

template <typename Make>
void summary::add_example_with(difference_stat& stat, const std::string& id, Make make) const {
  // Values are cut again here so that examples stay small whatever max_body_excerpt_bytes is.
  const auto cut = [&](std::optional<json::value>& v) {
    if (v) v = excerpt_json(*v, {}, options_.example_value_bytes);
  };
  // The oldest values: once a difference has its examples, later records cost nothing here
  // (making one runs the record writer; the newest would mean that for every record).
  keep_first<std::less<>>(
      stat.examples, id, options_.max_difference_examples,
      [](const difference_example& x) -> const std::string& { return x.id; },
      [&] {
        difference_example example = make();
        cut(example.live);
        cut(example.shadow);
        example.path = excerpt(example.path, options_.example_value_bytes);
        return example;
      });
}

void summary::add_example_locked(difference_stat& stat, difference_example example) const {
  add_example_with(stat, example.id, [&] { return std::move(example); });
}

void summary::add_difference_locked(endpoint_stat& e, const diff::difference& d,
                                    const std::string& id, bool noise) {
  difference_stat prototype;
  prototype.kind = d.kind;
  prototype.noise = noise;
  switch (d.kind) {
  case difference_kind::body: prototype.where = normalised_pointer(d.path); break;
  case difference_kind::header:
  case difference_kind::trailer: prototype.where = d.name; break;
  case difference_kind::status:
  case difference_kind::grpc_status:
    prototype.live = d.live;
    prototype.shadow = d.shadow;
    break;
  case difference_kind::body_text:
  case difference_kind::body_bytes: break;
  }
  auto* stat = difference_locked(e, prototype, 1);
  if (stat == nullptr || id.empty()) return; // a match (only noise) has no record to show
  add_example_with(*stat, id, [&] {
    difference_example example;
    example.id = id;
    if (d.kind == difference_kind::body && d.path != stat->where) example.path = d.path;
    // The values exactly as the record's log line holds them: redacted and excerpted by the
    // record writer itself, never the raw response values.
    std::tie(example.live, example.shadow) = written_values(d, options_.reports);
    return example;
  });
}

summary::difference_stat* summary::difference_locked(endpoint_stat& e,
                                                     const difference_stat& prototype,
                                                     std::uint64_t count) {
  auto key = difference_key(prototype.kind, prototype.where, prototype.live, prototype.shadow,
                            prototype.noise);
  auto it = e.differences.find(key);
  if (it == e.differences.end()) {
    if (e.differences.size() >= options_.max_difference_keys) {
      e.other_differences += count;
      return nullptr;
    }
    it = e.differences.emplace(std::move(key), prototype).first;
  }
  it->second.count += count;
  return &it->second;
}

void summary::count_shadow_error_locked(endpoint_stat& e, std::string kind, std::uint64_t n) {
  if (e.shadow_errors.size() >= max_error_kinds && !e.shadow_errors.contains(kind)) {
    kind = "other";
  }
  e.shadow_errors[kind] += n;
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
  // Real differences first, then noise; each by count.
  const auto by_count = [](const difference_stat* a, const difference_stat* b) {
    if (a->noise != b->noise) return b->noise;
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
    case difference_kind::header:
    case difference_kind::trailer: d["name"] = stat.where; break;
    case difference_kind::status:
    case difference_kind::grpc_status:
      d["live"] = stat.live ? *stat.live : json::value(nullptr);
      d["shadow"] = stat.shadow ? *stat.shadow : json::value(nullptr);
      break;
    case difference_kind::body_text:
    case difference_kind::body_bytes: break;
    }
    d["count"] = stat.count;
    // Noise: the secondary (a second live instance) showed the same difference.
    if (!diff::is_status_kind(stat.kind) || stat.noise) d["noise"] = stat.noise;
    json::array examples;
    for (const auto& x : stat.examples) {
      json::object example{{"id", x.id}};
      if (!x.path.empty()) example["path"] = x.path;
      if (x.live) example["live"] = *x.live;
      if (x.shadow) example["shadow"] = *x.shadow;
      examples.push_back(std::move(example));
    }
    d["examples"] = std::move(examples);
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
  o["latency_histogram_ms"] =
      json::object{{"live", e.live_latency.to_json()}, {"shadow", e.shadow_latency.to_json()}};
  if (e.regression_ratio > 0) o["regression_ratio"] = e.regression_ratio;
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
