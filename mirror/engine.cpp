#include "mirror/engine.hpp"

#include <boost/json/array.hpp>
#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "mirror/admin_routes.hpp"
#include "mirror/grpc/messages.hpp"
#include "mirror/metrics_text.hpp"
#include "mirror/report/summary_file.hpp"
#include "mirror/shadow_dispatcher.hpp"
#include "proxy/server/server.hpp"

namespace parallax::mirror {

namespace {
using steady = std::chrono::steady_clock;

// A request's endpoint (reports.md): a gRPC call's is its method, `gRPC /pkg.Service/Method`.
std::string endpoint_of(const report::endpoint_namer& namer, std::string_view method,
                        std::string_view target, bool grpc_call) {
  return grpc_call ? "gRPC " + std::string(report::target_path(target))
                   : namer.name(method, target);
}

bool is_grpc_request(const proxy::http::request_head& request) {
  return grpc::is_grpc_content_type(request.headers.find("content-type").value_or(""));
}
} // namespace

engine::engine(std::shared_ptr<const config::config> cfg, queue_limits limits)
    : summary_(report::summary_options_from(*cfg)), queue_(limits) {
  apply(cfg);
  thread_ = std::thread([this] { run(); });
}

engine::~engine() {
  shutdown();
}

void engine::attach(proxy::server::server& srv) {
  // Every worker gets a dispatcher even when no route is mirrored yet: a reload may add one.
  srv.set_observer_factory(
      [this](proxy::server::worker& w) { return std::make_unique<shadow_dispatcher>(*this, w); });
  srv.set_observer_generation_factory(
      [this](const std::shared_ptr<const config::config>& cfg) { return apply(cfg); });
  add_admin_routes(srv, *this);
}

namespace {
// Whether a reload changes what a route's comparisons mean: its report window restarts then.
bool window_changes(const route_state& old, const config::config& next_cfg,
                    const config::mirror_policy& next) {
  const auto& was = old.policy;
  const auto settings = [](const config::config& c, const std::string& name) {
    const auto it = c.upstreams.find(name);
    return it == c.upstreams.end() ? nullptr : &it->second;
  };
  const auto same_upstream = [&](const std::string& a, const std::string& b) {
    if (a != b) return false;
    if (a.empty()) return true;
    const auto* x = settings(*old.cfg, a);
    const auto* y = settings(next_cfg, b);
    return x != nullptr && y != nullptr && *x == *y;
  };
  return !same_upstream(was.upstream, next.upstream) ||
         !same_upstream(was.secondary, next.secondary) || !(was.compare == next.compare);
}
} // namespace

std::shared_ptr<const mirror_generation>
engine::apply(const std::shared_ptr<const config::config>& cfg) {
  std::vector<std::shared_ptr<route_state>> restarted;
  std::vector<std::string> fresh; // routes whose counters start now (new, or mirrored again)
  std::shared_ptr<const mirror_generation> result;
  {
    const std::lock_guard lock(control_mutex_);
    if (current_ && current_->cfg == cfg) return current_;
  }
  // New report sinks when `reports` changed, checked first: a path that cannot be written stops
  // the start (or rejects the reload) rather than losing records silently later.
  std::shared_ptr<report_setup> sinks;
  bool new_sinks = false;
  {
    const std::lock_guard lock(setup_mutex_);
    new_sinks = !setup_ || !(setup_->cfg->reports == cfg->reports);
  }
  if (new_sinks) {
    if (auto problem = report::report_path_problem(cfg->reports))
      throw std::runtime_error(*problem);
    sinks = std::make_shared<report_setup>(cfg);
  }
  {
    const std::lock_guard lock(control_mutex_);
    auto gen = std::make_shared<mirror_generation>();
    gen->cfg = cfg;
    gen->routes.resize(cfg->routes.size());
    std::map<std::string, std::shared_ptr<route_stats>, std::less<>> stats;
    for (std::size_t i = 0; i < cfg->routes.size(); ++i) {
      const auto& r = cfg->routes[i];
      if (!r.mirror) continue;
      auto& slot = stats[r.name];
      const auto kept = stats_.find(r.name);
      slot = kept != stats_.end() ? kept->second : std::make_shared<route_stats>();
      if (kept == stats_.end()) fresh.push_back(r.name);
      std::shared_ptr<route_state> old;
      if (current_) {
        for (const auto& o : current_->routes) {
          if (o && o->name == r.name) old = o;
        }
      }
      // Built before anything changes: a policy the comparer rejects leaves all as it was.
      auto state = std::make_shared<route_state>(i, cfg, slot);
      if (old && window_changes(*old, *cfg, *r.mirror)) restarted.push_back(state);
      gen->routes[i] = std::move(state);
    }
    // A restarted route's exchanges mirrored under the previous generation no longer count
    // in its summary (process() compares windows).
    for (const auto& r : restarted)
      r->window = r->stats->window.fetch_add(1, std::memory_order_relaxed) + 1;
    // Routes that are gone lose their counters and overrides (a route added again later
    // starts afresh).
    stats_ = std::move(stats);
    current_ = gen;
    result = gen;
  }
  summary_.set_options(report::summary_options_from(*cfg));
  if (sinks) {
    const std::lock_guard lock(setup_mutex_);
    if (setup_) retired_write_errors_ += setup_->log.write_errors();
    setup_ = std::move(sinks);
  }
  if (!fresh.empty()) {
    // New counters count from 0: a window base taken from a route of that name that was
    // removed meanwhile would make its totals wrap around below zero.
    const std::lock_guard lock(window_mutex_);
    for (const auto& name : fresh)
      route_base_.erase(name);
  }
  for (const auto& r : restarted)
    restart_route_window(*r);
  return result;
}

std::shared_ptr<const mirror_generation> engine::generation() const {
  const std::lock_guard lock(control_mutex_);
  return current_;
}

std::size_t engine::control(std::optional<std::string_view> name,
                            const std::function<void(route_state&)>& fn) {
  const std::lock_guard lock(control_mutex_);
  std::size_t n = 0;
  for (const auto& r : current_->routes) {
    if (r && (!name || r->name == *name)) {
      fn(*r);
      ++n;
    }
  }
  return n;
}

std::shared_ptr<engine::report_setup> engine::setup() const {
  const std::lock_guard lock(setup_mutex_);
  return setup_;
}

std::atomic<std::uint64_t>& engine::exchange_counter() {
  const std::lock_guard lock(counters_mutex_);
  return exchange_counters_.emplace_back(0);
}

bool engine::submit(std::unique_ptr<compare_job> job) {
  if (queue_.push(std::move(job))) return true; // refused: `job` is still whole
  job->route->stats->dropped.fetch_add(1, std::memory_order_relaxed);
  note_uncompared(job->route, job->request);
  settle_one();
  return false;
}

void engine::note_uncompared(const std::shared_ptr<route_state>& route,
                             const proxy::http::request_head& request) noexcept {
  try {
    if (queue_.note({route, request.method, std::string(report::target_path(request.target)),
                     is_grpc_request(request)})) {
      return;
    }
  } catch (const std::exception&) { // no memory for the note: counted, not named
  }
  count_unnamed(*route);
}

void engine::count_unnamed(const route_state& route) noexcept {
  route.stats->unnamed_sampled.fetch_add(1, std::memory_order_relaxed);
  unnamed_pending_.store(true, std::memory_order_release);
}

void engine::count_uncompared() {
  // One list per thread that drains (the comparison thread, the admin thread): its capacity is
  // reused from one drain to the next.
  thread_local std::vector<uncompared_exchange> notes;
  queue_.take_notes(notes);
  if (!notes.empty()) {
    const auto sinks = setup();
    for (const auto& n : notes) {
      // Like a comparison: an exchange sampled before its route's window restarted belongs to
      // no window's summary.
      if (n.route->window != n.route->stats->window.load(std::memory_order_relaxed)) continue;
      summary_.count_sampled(n.route->name, endpoint_of(sinks->namer, n.method, n.path, n.grpc));
    }
    notes.clear(); // the routes they hold go now
  }
  if (!unnamed_pending_.exchange(false, std::memory_order_acq_rel)) return;
  for (const auto& r : generation()->routes) {
    if (!r) continue;
    if (const auto n = r->stats->unnamed_sampled.exchange(0, std::memory_order_relaxed); n > 0)
      summary_.count_sampled(r->name, report::other_endpoint, n);
  }
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
  setup()->log.flush(); // what was awaited is on disk
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
  auto sinks = setup();
  auto last_job = steady::now();
  auto last_flush = steady::now();
  auto last_summary = steady::now();
  bool dirty = false;
  for (;;) {
    if (auto now_in_force = setup(); now_in_force != sinks) {
      sinks->log.flush(); // replaced by a reload: what it holds goes out now
      sinks = std::move(now_in_force);
    }
    // A reload may change the summary file's path and interval: read them each turn.
    const auto interval = sinks->cfg->reports.summary.interval;
    const bool periodic = !sinks->cfg->reports.summary.path.empty() && interval.count() > 0;
    const auto next_summary = last_summary + interval;
    const auto now = steady::now();
    const bool deep = now - last_job > quiet && !dirty;
    auto until = deep ? now + 24h : now + poll;
    if (periodic) until = std::min(until, next_summary);
    auto job = queue_.pop(until, deep);
    count_uncompared();
    if (job) {
      try {
        process(*job, *sinks);
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
      sinks->log.flush();
      dirty = false;
      last_flush = after;
    }
    if (periodic && after >= next_summary) {
      write_summary_file(*sinks);
      last_summary = after;
    }
  }
  write_summary_file(*setup());
  sinks->log.flush();
  setup()->log.flush();
}

void engine::process(compare_job& job, report_setup& sinks) {
  auto& route = *job.route;
  report::record r;
  r.time = job.time;
  r.route = route.name;
  const auto path = report::target_path(job.request.target);
  r.endpoint = endpoint_of(sinks.namer, job.request.method, job.request.target,
                           is_grpc_request(job.request));
  r.live = {job.live.status, job.live.latency_ms, job.live.body_bytes, {}};
  r.shadow = {
      job.shadow.status, job.shadow.latency_ms, job.shadow.body_bytes, {}, job.shadow.error};
  route.comparer.compare(job.live, job.shadow, job.secondary ? &*job.secondary : nullptr, r, path);

  route.stats->count_compared(r);
  // What only a written record needs (its id also names a difference's example) is filled in
  // only then: most compared exchanges match, and they cost no more than the comparison.
  const bool write = report::should_write(r.outcome, sinks.cfg->reports.discrepancies);
  if (write || r.outcome != report::outcome::match) r.id = report::make_record_id(job.time);
  // An exchange mirrored before its route's window restarted belongs to no window's summary.
  if (route.window == route.stats->window.load(std::memory_order_relaxed)) {
    summary_.count_sampled(r.route, r.endpoint);
    summary_.add(r);
  }
  if (!write) return;
  r.request.method = job.request.method;
  r.request.target = job.request.target;
  r.request.headers.reserve(job.request.headers.size());
  for (const auto& h : job.request.headers)
    r.request.headers.emplace_back(h.name, h.value);
  r.request.body_bytes = job.request_body_bytes;
  r.live.body_sha256 = job.live.body_sha256();
  r.shadow.body_sha256 = job.shadow.body_sha256();
  sinks.log.write(r);
}

report::proxy_totals engine::proxy_totals() const {
  report::proxy_totals totals;
  {
    const std::lock_guard lock(counters_mutex_);
    for (const auto& c : exchange_counters_)
      totals.exchanges += c.load(std::memory_order_relaxed);
  }
  totals.exchanges -= exchanges_base_;
  // Each route counts from its own window's start (a reload may have restarted it).
  const auto gen = generation();
  for (const auto& r : gen->routes) {
    if (!r) continue;
    report::proxy_totals route;
    r->stats->add_to(route);
    const auto base = route_base_.find(r->name);
    if (base != route_base_.end()) route = route.since(base->second);
    totals.sampled += route.sampled;
    for (std::size_t i = 0; i < totals.skipped.size(); ++i)
      totals.skipped[i] += route.skipped[i];
    totals.comparisons_dropped += route.comparisons_dropped;
  }
  return totals;
}

boost::json::object engine::summary_json() {
  // Totals come from the proxy's counters, which see every exchange (the comparison thread
  // only sees the mirrored ones), counted from the window's start.
  count_uncompared();
  std::lock_guard lock(window_mutex_);
  auto out = summary_.to_json(summary_.since(), std::chrono::system_clock::now(), proxy_totals());
  // The mirrored routes in force (docs/report.md `routes`): where each one's shadow goes.
  boost::json::array routes;
  for (const auto& r : generation()->routes) {
    if (!r) continue;
    routes.push_back(boost::json::object{{"name", r->name},
                                         {"shadow_upstream", r->policy.upstream},
                                         {"percent", r->effective_percent()}});
  }
  out["routes"] = std::move(routes);
  return out;
}

std::chrono::system_clock::time_point engine::reset_window() {
  count_uncompared(); // the exchanges noted so far belong to the window that ends
  std::lock_guard lock(window_mutex_);
  exchanges_base_ += proxy_totals().exchanges;
  route_base_.clear();
  for (const auto& r : generation()->routes) {
    if (r) r->stats->add_to(route_base_[r->name]);
  }
  summary_.reset();
  return summary_.since();
}

void engine::restart_route_window(const route_state& r) {
  std::lock_guard lock(window_mutex_);
  auto& base = route_base_[r.name];
  base = {};
  r.stats->add_to(base);
  summary_.reset_route(r.name);
  spdlog::info("route {}: its mirror upstream or compare rules changed; its report window "
               "restarts",
               r.name);
}

void engine::render_metrics(std::string& out) const {
  append_mirror_metrics(out, generation()->routes);
  std::uint64_t log_errors = 0;
  {
    const std::lock_guard lock(setup_mutex_);
    log_errors = retired_write_errors_ + setup_->log.write_errors();
  }
  out += "# HELP parallax_report_write_errors_total Report writes that failed, by sink.\n";
  out += "# TYPE parallax_report_write_errors_total counter\n";
  out +=
      fmt::format("parallax_report_write_errors_total{{sink=\"discrepancies\"}} {}\n", log_errors);
  out += fmt::format("parallax_report_write_errors_total{{sink=\"summary\"}} {}\n",
                     summary_write_errors_.load(std::memory_order_relaxed));
}

void engine::write_summary_file(const report_setup& sinks) {
  const auto& path = sinks.cfg->reports.summary.path;
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
