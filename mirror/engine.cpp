#include "mirror/engine.hpp"

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "mirror/admin_routes.hpp"
#include "mirror/metrics_text.hpp"
#include "mirror/report/summary_file.hpp"
#include "mirror/shadow_dispatcher.hpp"
#include "proxy/server/server.hpp"

namespace parallax::mirror {

namespace {
using steady = std::chrono::steady_clock;
} // namespace

engine::engine(std::shared_ptr<const config::config> cfg, queue_limits limits)
    : cfg_(std::move(cfg)), namer_(cfg_->reports.endpoints),
      summary_(report::summary_options_from(*cfg_)), log_(cfg_->reports), queue_(limits) {
  routes_.resize(cfg_->routes.size());
  for (std::size_t i = 0; i < cfg_->routes.size(); ++i) {
    if (cfg_->routes[i].mirror) routes_[i] = std::make_unique<route_state>(i, cfg_->routes[i]);
  }
  thread_ = std::thread([this] { run(); });
}

engine::~engine() {
  shutdown();
}

void engine::attach(proxy::server::server& srv) {
  const bool any =
      std::any_of(routes_.begin(), routes_.end(), [](const auto& r) { return r != nullptr; });
  if (any) {
    // Without a mirrored route the proxy runs with no observer at all (nothing per request).
    srv.set_observer_factory(
        [this](proxy::server::worker& w) { return std::make_unique<shadow_dispatcher>(*this, w); });
  }
  add_admin_routes(srv, *this);
}

std::atomic<std::uint64_t>& engine::exchange_counter() {
  const std::lock_guard lock(counters_mutex_);
  return exchange_counters_.emplace_back(0);
}

bool engine::submit(std::unique_ptr<compare_job> job) {
  auto* route = job->route;
  if (queue_.push(std::move(job))) return true;
  route->dropped.fetch_add(1, std::memory_order_relaxed);
  settle_one();
  return false;
}

void engine::settle_one() {
  {
    const std::lock_guard lock(settled_mutex_);
    ++settled_;
  }
  settled_cv_.notify_all();
}

bool engine::wait_settled(std::uint64_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(settled_mutex_);
  const bool done = settled_cv_.wait_for(lock, timeout, [&] { return settled_ >= n; });
  lock.unlock();
  log_.flush(); // what was awaited is on disk
  return done;
}

void engine::run() {
  using namespace std::chrono_literals;
  // While exchanges arrive, the thread wakes every `poll` (or when a batch is waiting) and
  // flushes the log at most every `flush_every`; after `quiet` without work it sleeps until a
  // push wakes it (or the next summary is due).
  constexpr auto poll = 20ms;
  constexpr auto flush_every = 100ms;
  constexpr auto quiet = 1s;
  const auto interval = cfg_->reports.summary.interval;
  const bool periodic = !cfg_->reports.summary.path.empty() && interval.count() > 0;
  auto next_summary = steady::now() + interval;
  auto last_job = steady::now();
  auto last_flush = steady::now();
  bool dirty = false;
  for (;;) {
    const auto now = steady::now();
    const bool deep = now - last_job > quiet && !dirty;
    auto until = deep ? now + 24h : now + poll;
    if (periodic) until = std::min(until, next_summary);
    auto job = queue_.pop(until, deep);
    if (job) {
      try {
        process(*job);
      } catch (const std::exception& e) {
        spdlog::error("comparison failed: {}", e.what());
      }
      dirty = true;
      last_job = steady::now();
      settle_one();
    } else if (stopped_.load()) {
      break; // closed and empty
    }
    const auto after = steady::now();
    if (dirty && (!job || after - last_flush >= flush_every)) {
      log_.flush();
      dirty = false;
      last_flush = after;
    }
    if (periodic && after >= next_summary) {
      write_summary_file();
      next_summary = after + interval;
    }
  }
  write_summary_file();
  log_.flush();
}

void engine::process(compare_job& job) {
  auto& route = *job.route;
  report::record r;
  r.time = job.time;
  r.route = route.name;
  r.endpoint = namer_.name(job.request.method, job.request.target);
  r.live = {job.live.status, job.live.latency_ms, job.live.body_bytes, {}};
  r.shadow = {
      job.shadow.status, job.shadow.latency_ms, job.shadow.body_bytes, {}, job.shadow.error};
  route.comparer.compare(job.live, job.shadow, job.secondary ? &*job.secondary : nullptr, r);

  route.count_compared(r);
  // What only a written record needs (its id also names a difference's example) is filled in
  // only then: most compared exchanges match, and they cost no more than the comparison.
  const bool write = report::should_write(r.outcome, cfg_->reports.discrepancies);
  if (write || r.outcome != report::outcome::match) r.id = report::make_record_id(job.time);
  summary_.count_sampled(r.route, r.endpoint);
  summary_.add(r);
  if (!write) return;
  r.request.method = job.request.method;
  r.request.target = job.request.target;
  r.request.headers.reserve(job.request.headers.size());
  for (const auto& h : job.request.headers)
    r.request.headers.emplace_back(h.name, h.value);
  r.request.body_bytes = job.request_body_bytes;
  r.live.body_sha256 = job.live.body_sha256();
  r.shadow.body_sha256 = job.shadow.body_sha256();
  log_.write(r);
}

report::proxy_totals engine::proxy_totals() const {
  report::proxy_totals totals;
  {
    const std::lock_guard lock(counters_mutex_);
    for (const auto& c : exchange_counters_)
      totals.exchanges += c.load(std::memory_order_relaxed);
  }
  for (const auto& r : routes_) {
    if (r) r->add_to(totals);
  }
  return totals;
}

boost::json::object engine::summary_json() const {
  // Totals come from the proxy's counters, which see every exchange (the comparison thread
  // only sees the mirrored ones), counted from the window's start.
  std::lock_guard lock(window_mutex_);
  return summary_.to_json(summary_.since(), std::chrono::system_clock::now(),
                          proxy_totals().since(window_base_));
}

route_state* engine::route_named(std::string_view name) const noexcept {
  for (const auto& r : routes_) {
    if (r && r->name == name) return r.get();
  }
  return nullptr;
}

std::chrono::system_clock::time_point engine::reset_window() {
  std::lock_guard lock(window_mutex_);
  window_base_ = proxy_totals();
  summary_.reset();
  return summary_.since();
}

void engine::render_metrics(std::string& out) const {
  append_mirror_metrics(out, routes_);
  out += "# HELP parallax_report_write_errors_total Report writes that failed, by sink.\n";
  out += "# TYPE parallax_report_write_errors_total counter\n";
  out += fmt::format("parallax_report_write_errors_total{{sink=\"discrepancies\"}} {}\n",
                     log_.write_errors());
  out += fmt::format("parallax_report_write_errors_total{{sink=\"summary\"}} {}\n",
                     summary_write_errors_.load(std::memory_order_relaxed));
}

void engine::write_summary_file() const {
  const auto& path = cfg_->reports.summary.path;
  if (!path.empty() && !report::write_summary_file(path, summary_json())) {
    summary_write_errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

void engine::shutdown() {
  if (stopped_.exchange(true)) return;
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

} // namespace parallax::mirror
