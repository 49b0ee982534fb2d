#include "mirror/engine.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "mirror/report/format.hpp"
#include "mirror/shadow_dispatcher.hpp"
#include "proxy/server/server.hpp"

namespace parallax::mirror {

namespace {
using steady = std::chrono::steady_clock;

} // namespace

route_state::route_state(std::size_t i, const config::route& r)
    : index(i), name(r.name), policy(*r.mirror), sampler(*r.mirror), comparer(r.mirror->compare) {}

std::size_t compare_job::memory_bytes() const noexcept {
  return sizeof(*this) + request.method.capacity() + request.target.capacity() +
         header_bytes(request.headers) + live.memory_bytes() + shadow.memory_bytes() +
         (secondary ? secondary->memory_bytes() : 0);
}

bool compare_queue::push(std::unique_ptr<compare_job> job) {
  const auto bytes = job->memory_bytes();
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    if (closed_ || jobs_.size() >= limits_.max_jobs || bytes_ + bytes > limits_.max_bytes) {
      return false;
    }
    jobs_.push_back(std::move(job));
    bytes_ += bytes;
    wake = deep_sleep_ || jobs_.size() == wake_batch;
  }
  if (wake) cv_.notify_one();
  return true;
}

std::unique_ptr<compare_job> compare_queue::pop(steady::time_point until, bool deep) {
  std::unique_lock lock(mutex_);
  if (jobs_.empty() && !closed_) {
    deep_sleep_ = deep;
    cv_.wait_until(lock, until, [&] { return !jobs_.empty() || closed_; });
    deep_sleep_ = false;
  }
  if (jobs_.empty()) return nullptr;
  auto job = std::move(jobs_.front());
  jobs_.pop_front();
  bytes_ -= std::min(bytes_, job->memory_bytes());
  return job;
}

void compare_queue::close() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::size_t compare_queue::size() const {
  const std::lock_guard lock(mutex_);
  return jobs_.size();
}

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
  srv.admin().handle("/report", [this](std::string_view, std::string_view) {
    return proxy::server::admin_response{200, "application/json",
                                         report::render_json(summary_json(), true)};
  });
  srv.admin().handle("/report.html", [this](std::string_view, std::string_view) {
    return proxy::server::admin_response{200, "text/html; charset=utf-8",
                                         report::render_html(summary_json())};
  });
  srv.state().metrics.add_section([this](std::string& out) { render_metrics(out); });
}

std::atomic<std::uint64_t>& engine::exchange_counter() {
  const std::lock_guard lock(counters_mutex_);
  return exchange_counters_.emplace_back(0);
}

bool engine::submit(std::unique_ptr<compare_job> job) {
  auto* route = job->route;
  if (queue_.push(std::move(job))) return true;
  route->dropped.fetch_add(1, std::memory_order_relaxed);
  {
    const std::lock_guard lock(settled_mutex_);
    ++settled_;
  }
  settled_cv_.notify_all();
  return false;
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
      {
        const std::lock_guard lock(settled_mutex_);
        ++settled_;
      }
      settled_cv_.notify_all();
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
  // only sees the mirrored ones).
  return summary_.to_json(summary_.since(), std::chrono::system_clock::now(), proxy_totals());
}

void engine::render_metrics(std::string& out) const {
  using proxy::server::escape_label;
  const auto each = [&](auto&& f) {
    for (const auto& r : routes_)
      if (r) f(*r, escape_label(r->name));
  };
  out += "# HELP parallax_mirror_sampled_total Exchanges the sampler chose for mirroring.\n";
  out += "# TYPE parallax_mirror_sampled_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    out += fmt::format("parallax_mirror_sampled_total{{route=\"{}\"}} {}\n", l,
                       r.sampled.load(std::memory_order_relaxed));
  });
  out += "# HELP parallax_mirror_skipped_total Sampled exchanges not mirrored, by reason.\n";
  out += "# TYPE parallax_mirror_skipped_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    for (std::size_t i = 0; i < report::skip_reason_count; ++i) {
      out += fmt::format("parallax_mirror_skipped_total{{route=\"{}\",reason=\"{}\"}} {}\n", l,
                         report::to_string(static_cast<report::skip_reason>(i)),
                         r.skipped[i].load(std::memory_order_relaxed));
    }
  });
  out += "# HELP parallax_mirror_compared_total Compared exchanges, by outcome.\n";
  out += "# TYPE parallax_mirror_compared_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    for (std::size_t i = 0; i < report::outcome_count; ++i) {
      out += fmt::format("parallax_mirror_compared_total{{route=\"{}\",outcome=\"{}\"}} {}\n", l,
                         report::to_string(static_cast<report::outcome>(i)),
                         r.compared[i].load(std::memory_order_relaxed));
    }
  });
  out += "# HELP parallax_mirror_differences_total Differences found, by kind.\n";
  out += "# TYPE parallax_mirror_differences_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    for (std::size_t i = 0; i < report::difference_metric_count; ++i) {
      out += fmt::format("parallax_mirror_differences_total{{route=\"{}\",kind=\"{}\"}} {}\n", l,
                         report::to_string(static_cast<report::difference_metric>(i)),
                         r.differences[i].load(std::memory_order_relaxed));
    }
  });
  out += "# HELP parallax_mirror_inflight Mirrored exchanges in flight.\n";
  out += "# TYPE parallax_mirror_inflight gauge\n";
  each([&](const route_state& r, const std::string& l) {
    out += fmt::format("parallax_mirror_inflight{{route=\"{}\"}} {}\n", l,
                       r.inflight.load(std::memory_order_relaxed));
  });
  out += "# HELP parallax_mirror_shadow_duration_seconds Shadow request to response end.\n";
  out += "# TYPE parallax_mirror_shadow_duration_seconds histogram\n";
  each([&](const route_state& r, const std::string& l) {
    r.shadow_duration.render(out, "parallax_mirror_shadow_duration_seconds",
                             fmt::format("route=\"{}\"", l));
  });
  out += "# HELP parallax_mirror_comparisons_dropped_total Mirrored exchanges not compared "
         "because the comparison queue was full.\n";
  out += "# TYPE parallax_mirror_comparisons_dropped_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    out += fmt::format("parallax_mirror_comparisons_dropped_total{{route=\"{}\"}} {}\n", l,
                       r.dropped.load(std::memory_order_relaxed));
  });
}

void engine::write_summary_file() const {
  const auto& path = cfg_->reports.summary.path;
  if (path.empty()) return;
  const auto text = report::render_json(summary_json(), true);
  const auto tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) {
      spdlog::error("cannot write summary file {}", tmp);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) spdlog::error("cannot replace summary file {}: {}", path, ec.message());
}

void engine::shutdown() {
  if (stopped_.exchange(true)) return;
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

} // namespace parallax::mirror
