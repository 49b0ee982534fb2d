#include "proxy/server/metrics.hpp"

#include <algorithm>

#include "proxy/server/process_metrics.hpp"
#include "proxy/version.hpp"

#include <fmt/format.h>

namespace parallax::proxy::server {

void histogram::observe(double seconds) noexcept {
  // The first bound >= seconds (`le` is inclusive); past the last one, the +Inf bucket.
  const auto i = static_cast<std::size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  std::uint64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, bounds[i], cumulative);
  }
  cumulative += buckets_[bounds.size()].load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, cumulative);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels,
                     static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_.load(std::memory_order_relaxed));
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

route_metrics& metrics_registry::route(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = routes_[name];
  if (!slot) slot = std::make_unique<route_metrics>();
  return *slot;
}

upstream_metrics& metrics_registry::upstream(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = upstreams_[name];
  if (!slot) slot = std::make_unique<upstream_metrics>();
  return *slot;
}

listener_metrics& metrics_registry::listener(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = listeners_[name];
  if (!slot) slot = std::make_unique<listener_metrics>();
  return *slot;
}

void metrics_registry::count_reload(bool ok) noexcept {
  (ok ? reloads_ok_ : reloads_rejected_).fetch_add(1, std::memory_order_relaxed);
  last_reload_ok_.store(ok, std::memory_order_relaxed);
}

void metrics_registry::set_generation(std::uint64_t generation, double applied_at) noexcept {
  generation_.store(generation, std::memory_order_relaxed);
  applied_at_.store(applied_at, std::memory_order_relaxed);
}

void metrics_registry::add_section(std::function<void(std::string&)> section) {
  std::lock_guard lock(mutex_);
  sections_.push_back(std::move(section));
}

std::string metrics_registry::render() const {
  static constexpr const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  static constexpr const char* kinds[] = {"connect_failed", "timeout", "reset",
                                          "malformed_response", "tls"};
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP parallax_requests_total Requests answered, by route and status class.\n";
  out += "# TYPE parallax_requests_total counter\n";
  for (const auto& [name, m] : routes_) {
    for (std::size_t i = 0; i < 5; ++i) {
      out += fmt::format("parallax_requests_total{{route=\"{}\",code=\"{}\"}} {}\n",
                         escape_label(name), classes[i],
                         m->responses[i].load(std::memory_order_relaxed));
    }
  }
  out += "# HELP parallax_request_duration_seconds Time from request head to response end.\n";
  out += "# TYPE parallax_request_duration_seconds histogram\n";
  for (const auto& [name, m] : routes_) {
    m->duration.render(out, "parallax_request_duration_seconds",
                       fmt::format("route=\"{}\"", escape_label(name)));
  }
  out += "# HELP parallax_downstream_connections Open client connections, by listener.\n";
  out += "# TYPE parallax_downstream_connections gauge\n";
  for (const auto& [name, m] : listeners_) {
    out += fmt::format("parallax_downstream_connections{{listener=\"{}\"}} {}\n",
                       escape_label(name), m->connections.load(std::memory_order_relaxed));
  }
  out += "# HELP parallax_upstream_errors_total Upstream failures, by upstream and kind.\n";
  out += "# TYPE parallax_upstream_errors_total counter\n";
  for (const auto& [name, m] : upstreams_) {
    for (std::size_t i = 0; i < 5; ++i) {
      out +=
          fmt::format("parallax_upstream_errors_total{{upstream=\"{}\",kind=\"{}\"}} {}\n",
                      escape_label(name), kinds[i], m->errors[i].load(std::memory_order_relaxed));
    }
  }
  out += "# HELP parallax_config_reloads_total Configuration reloads, by result.\n";
  out += "# TYPE parallax_config_reloads_total counter\n";
  out += fmt::format("parallax_config_reloads_total{{result=\"ok\"}} {}\n",
                     reloads_ok_.load(std::memory_order_relaxed));
  out += fmt::format("parallax_config_reloads_total{{result=\"rejected\"}} {}\n",
                     reloads_rejected_.load(std::memory_order_relaxed));
  out += "# HELP parallax_config_last_reload_successful 1 unless the last reload was rejected "
         "(the file then differs from the configuration in force).\n";
  out += "# TYPE parallax_config_last_reload_successful gauge\n";
  out += fmt::format("parallax_config_last_reload_successful {}\n",
                     last_reload_ok_.load(std::memory_order_relaxed) ? 1 : 0);
  out += "# HELP parallax_config_generation The configuration in force: 1 at start, +1 per "
         "applied reload.\n";
  out += "# TYPE parallax_config_generation gauge\n";
  out +=
      fmt::format("parallax_config_generation {}\n", generation_.load(std::memory_order_relaxed));
  out += "# HELP parallax_config_last_reload_success_timestamp_seconds When the configuration in "
         "force was applied (Unix time).\n";
  out += "# TYPE parallax_config_last_reload_success_timestamp_seconds gauge\n";
  out += fmt::format("parallax_config_last_reload_success_timestamp_seconds {:.3f}\n",
                     applied_at_.load(std::memory_order_relaxed));
  out += "# HELP parallax_build_info The running build (always 1).\n";
  out += "# TYPE parallax_build_info gauge\n";
  out += fmt::format("parallax_build_info{{version=\"{}\"}} 1\n", PARALLAX_VERSION);
  for (const auto& section : sections_)
    section(out);
  append_process_metrics(out);
  return out;
}

} // namespace parallax::proxy::server
