#include "mirror/shadow_dispatcher.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include <deque>

#include <spdlog/spdlog.h>

#include "mirror/engine.hpp"
#include "mirror/grpc/messages.hpp"
#include "proxy/http/ascii.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/http/serializer.hpp"
#include "proxy/net/upstream_exchange.hpp"
#include "proxy/net/upstream_pool.hpp"
#include "proxy/server/pool_set.hpp"
#include "proxy/server/runtime.hpp"
#include "proxy/server/worker.hpp"

namespace parallax::mirror {

namespace http = proxy::http;
namespace net = proxy::net;
namespace asio = proxy::asio;
using proxy::awaitable;
using proxy::server::exchange_end;
using steady = std::chrono::steady_clock;

/// Shadow work yields to live work. A leg about to do a step (build and send its request,
/// process bytes it read) waits for a turn; turns are given by a pump that runs on its own
/// turn of the event loop and stops once it has run for `slice`, re-posting itself behind
/// whatever live work was queued meanwhile. When a slow shadow answers hundreds of requests
/// at once, live steps wait for one slice, not for the whole burst.
class shadow_turns {
public:
  static constexpr auto slice = std::chrono::microseconds(200);

  explicit shadow_turns(asio::io_context& io) : io_(io) {}

  /// Resumes the caller in a later slice.
  awaitable<void> wait() {
    return asio::async_initiate<decltype(asio::use_awaitable), void()>(
        [this](auto handler) {
          waiting_.emplace_back(std::move(handler));
          schedule();
        },
        asio::use_awaitable);
  }
  /// Drops waiting steps (their coroutines are destroyed) when the worker stops.
  void clear() noexcept { waiting_.clear(); }

private:
  void schedule() {
    if (posted_) return;
    posted_ = true;
    asio::post(io_, [this] { pump(); });
  }
  void pump() {
    posted_ = false;
    const auto until = steady::now() + slice;
    while (!waiting_.empty()) {
      auto step = std::move(waiting_.front());
      waiting_.pop_front();
      std::move(step)(); // runs the leg until its next suspension
      if (steady::now() >= until) break;
    }
    if (!waiting_.empty()) schedule();
  }

  asio::io_context& io_;
  std::deque<asio::any_completion_handler<void()>> waiting_;
  bool posted_ = false;
};

namespace {
double ms_between(steady::time_point from, steady::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// One request to the shadow or the secondary upstream, and what came back. Tracked by the
// worker's registry while it runs: its deadline bounds the whole leg by the upstream's
// request_timeout (connect, write and read together), on top of the exchange's own deadlines.
struct leg final : proxy::net::tracked_connection {
  leg(std::string up, std::uint64_t max_body, bool keep_body)
      : capture(max_body, keep_body), upstream(std::move(up)) {}
  ~leg() override {
    if (registry != nullptr) registry->remove(this);
  }
  leg(const leg&) = delete;
  leg& operator=(const leg&) = delete;

  void on_deadline() override {
    expired = true;
    if (exchange != nullptr) exchange->abort();
  }
  void on_drain() override {} // finishes within its own request_timeout
  void force_close() override {
    if (exchange != nullptr) exchange->abort();
  }

  response_capture capture;
  std::string upstream;
  std::string wire;           // the whole request: head and body (HTTP/2 upstreams: the body only)
  http::request_head h2_head; // HTTP/2 upstreams: the request's fields
  http::forwarding_info forwarding; // HTTP/2 upstreams: for X-Forwarded-*
  bool h2 = false;
  bool body_taken = false;
  bool head_request = false;
  bool replayable = true;       // body-less: may be retried once on a dead pooled connection
  std::size_t max_messages = 0; // a gRPC call: the response is cancelled after this many
  grpc::message_counter messages;
  net::upstream_exchange* exchange = nullptr; // while it runs
  proxy::net::connection_registry* registry = nullptr;
  bool expired = false;
  steady::time_point sent{};      // when the request went out (after connecting)
  steady::time_point last_read{}; // when the latest response bytes arrived
  steady::time_point received{};  // when the complete response had arrived
};

// The leg's whole request, written at once.
class leg_source final : public net::request_source {
public:
  explicit leg_source(leg& l) : l_(l) {}
  net::request_parts parts() override {
    if (!l_.h2) return {};
    l_.sent = steady::now();
    return {&l_.h2_head, l_.forwarding};
  }
  std::string_view head(std::string&) override {
    l_.sent = steady::now(); // connecting is not in the latency
    return l_.wire; // head and body: written as they are, not copied
  }
  net::source_step take(std::vector<asio::const_buffer>& out) override {
    if (l_.h2 && !l_.body_taken && !l_.wire.empty())
      out.emplace_back(l_.wire.data(), l_.wire.size());
    l_.body_taken = true;
    return net::source_step::done;
  }
  awaitable<net::source_step> next(std::vector<asio::const_buffer>&, net::stream*) override {
    co_return net::source_step::done;
  }
  [[nodiscard]] bool replayable() const override { return l_.replayable; }
  // Latency counts from the whole request having been written (or queued whole on an HTTP/2
  // connection), exactly as live's does (its tap's request_complete comes from this same call
  // of the same exchange code); head() and parts() set it first for a request that fails
  // before.
  void sent() override { l_.sent = steady::now(); }

private:
  leg& l_;
};

// The leg's capture. Each read yields to live work first (shadow_turns); its arrival time is
// taken before, so the shadow's latency does not include the time it yields.
class leg_sink final : public net::response_sink {
public:
  leg_sink(leg& l, shadow_turns& turns) : l_(l), turns_(turns) {}
  awaitable<bool> interim(const http::response_head&) override { co_return true; }
  net::delivery deliver(const http::response_head& head, const std::vector<std::string_view>& body,
                        bool first, bool complete) override {
    if (first) l_.capture.head(head);
    l_.capture.body(body);
    if (complete) l_.received = l_.last_read;
    if (l_.max_messages > 0 && !complete) {
      for (auto piece : body)
        l_.messages.feed(piece);
      const auto n = l_.messages.complete();
      if (n > l_.max_messages || (n == l_.max_messages && l_.messages.partial())) {
        // Enough to compare (mirror.grpc.max_messages), and the stream goes on: the rest is
        // not read (a call that ends after max_messages keeps its status and trailers).
        l_.capture.cut = true;
        l_.received = l_.last_read;
        return net::delivery::failed;
      }
    }
    return net::delivery::done;
  }
  void trailers(const http::header_list& fields) override { l_.capture.trailers(fields); }
  void arrived() override { l_.last_read = steady::now(); }
  [[nodiscard]] bool paced() const override { return true; }
  awaitable<void> pace() override;

private:
  leg& l_;
  shadow_turns& turns_;
};

awaitable<void> leg_sink::pace() {
  co_await turns_.wait();
}
} // namespace

/// One sampled exchange: the live side as the proxy reports it, and the shadow legs.
class shadow_exchange final : public proxy::server::exchange_tap,
                              public std::enable_shared_from_this<shadow_exchange> {
public:
  shadow_exchange(shadow_dispatcher& d, std::shared_ptr<route_state> r,
                  const proxy::server::exchange_start& s)
      : dispatcher_(d), route_holder_(std::move(r)), route_(*route_holder_), snapshot_(*s.snapshot),
        client_ip_(s.client_ip), tls_(s.downstream_tls),
        live_(route_.policy.compare.body.max_bytes, route_.policy.compare.body.enabled) {
    const auto& from = *s.request;
    request_.method = from.method;
    request_.target = from.target;
    request_.version_minor = from.version_minor;
    request_.frame = from.frame;
    request_.frame.upgrade = false;
    request_.headers.reserve(from.headers.size());
    for (const auto& h : from.headers) {
      if (h.id != http::field::expect) request_.headers.add(h);
    }
  }
  ~shadow_exchange() override { route_.stats->inflight.fetch_sub(1, std::memory_order_relaxed); }
  shadow_exchange(const shadow_exchange&) = delete;
  shadow_exchange& operator=(const shadow_exchange&) = delete;

  void request_body(const std::vector<std::string_view>& pieces) override {
    if (too_large_ || dispatched_ || abandoned_) return;
    guarded([&] {
      for (auto p : pieces) {
        if (body_.size() + p.size() > route_.policy.max_body_bytes) {
          too_large_ = true;
          std::string().swap(body_);
          return;
        }
        body_.append(p);
      }
    });
  }

  void request_complete() override {
    if (dispatched_ || abandoned_) return;
    if (too_large_) {
      abandon(skip_reason::body_too_large);
      return;
    }
    const bool grpc_call =
        grpc::is_grpc_content_type(request_.headers.find("content-type").value_or(""));
    if (grpc_call && !route_.policy.grpc.streaming && sends_a_stream()) {
      abandon(skip_reason::method);
      return;
    }
    guarded([&] {
      dispatched_ = true;
      sent_ = steady::now();
      time_ = std::chrono::system_clock::now();
      request_body_bytes_ = body_.size();
      const auto& cmp = route_.policy.compare.body;
      shadow_ = std::make_unique<leg>(route_.policy.upstream, cmp.max_bytes, cmp.enabled);
      if (!route_.policy.secondary.empty()) {
        secondary_ = std::make_unique<leg>(route_.policy.secondary, cmp.max_bytes, cmp.enabled);
      }
      // The legs start on the next turn of the event loop (run_leg posts itself first), so
      // nothing of theirs (serialising, connecting, the first send) runs before live's
      // response is awaited.
      auto& io = dispatcher_.worker().io();
      for (auto* l : {shadow_.get(), secondary_.get()}) {
        if (l == nullptr) continue;
        l->head_request = request_.method == "HEAD";
        l->replayable = request_body_bytes_ == 0;
        if (grpc_call) l->max_messages = route_.policy.grpc.max_messages;
        ++legs_pending_;
        ++unserialized_;
        asio::co_spawn(io, run_leg(shared_from_this(), *l), asio::detached);
      }
    });
  }

  void response_head(const http::response_head& head) override {
    if (!abandoned_) guarded([&] { live_.head(head); });
  }

  void response_body(const std::vector<std::string_view>& pieces) override {
    if (!abandoned_) guarded([&] { live_.body(pieces); });
  }

  void response_trailers(const http::header_list& fields) override {
    if (!abandoned_) guarded([&] { live_.trailers(fields); });
  }

  void response_received() override { live_end_ = steady::now(); }

  void finish(exchange_end end) override {
    switch (end) {
    case exchange_end::complete: break;
    case exchange_end::client_aborted: abandon(skip_reason::client_aborted); return;
    case exchange_end::body_too_large: abandon(skip_reason::body_too_large); return;
    case exchange_end::live_error:
    case exchange_end::live_broken: abandon(skip_reason::live_error); return;
    }
    if (abandoned_ || !dispatched_) return;
    const auto end_time = live_end_ == steady::time_point{} ? steady::now() : live_end_;
    live_.latency_ms = ms_between(sent_, end_time);
    route_.stats->live_duration.observe(live_.latency_ms / 1000.0);
    guarded([&] { live_.finish(); });
    live_done_ = true;
    maybe_submit();
  }

private:
  // The request as sent to a leg: the shadow gets every rewrite, the secondary (a copy of
  // the live version) only the header changes, so both are marked as copies.
  std::string serialize(bool shadow, http::request_head* h2_fields = nullptr) const {
    const auto& rw = route_.policy.rewrite;
    // Built in a per-thread scratch head whose header storage survives clear(): after the
    // first requests, copying the headers allocates nothing.
    static thread_local http::request_head h;
    h.clear();
    h.method = request_.method;
    h.version_minor = request_.version_minor;
    h.frame = request_.frame;
    std::string_view target = http::origin_form(request_.target);
    if (shadow && !rw.path_prefix.from.empty() && target.starts_with(rw.path_prefix.from)) {
      h.target = rw.path_prefix.to;
      h.target.append(target.substr(rw.path_prefix.from.size()));
      if (h.target.empty() || (h.target.front() != '/' && h.target.front() != '?')) {
        h.target.insert(0, "/");
      }
    } else {
      h.target = target;
    }
    for (const auto& f : request_.headers)
      h.headers.add(f);
    if (shadow && !rw.host.empty()) h.headers.set("Host", rw.host);
    for (const auto& name : rw.remove_headers)
      h.headers.remove(name);
    for (const auto& [name, value] : rw.set_headers)
      h.headers.set(name, value);
    const bool with_body = request_.has_body() || !body_.empty();
    if (h2_fields != nullptr) {
      // An HTTP/2 upstream gets the fields and the body apart; the body's length is known.
      *h2_fields = h;
      h2_fields->frame.chunked = false;
      h2_fields->frame.content_length = body_.size();
      if (!with_body) h2_fields->frame.content_length.reset();
      return body_;
    }
    std::string out;
    out.reserve(512 + body_.size());
    http::write_request_head(
        out, h, {client_ip_, tls_},
        with_body ? http::body_framing::content_length : http::body_framing::none, body_.size());
    out.append(body_);
    return out;
  }

  static awaitable<void> run_leg(std::shared_ptr<shadow_exchange> self, leg& l) {
    auto& d = self->dispatcher_;
    co_await d.turns().wait(); // never inline on the live path: a later turn of the loop
    auto& w = d.worker();
    const auto& snap = *self->snapshot_;
    auto& pool = d.pool(snap, snap.cfg->upstreams.at(l.upstream));
    auto failure = net::upstream_error::none;
    l.registry = &w.registry();
    w.registry().add(&l);
    // A gRPC call's shadow gets no more time than the client gave the call (grpc-timeout).
    auto budget =
        std::chrono::duration_cast<std::chrono::nanoseconds>(pool.config().request_timeout);
    if (const auto t = self->request_.headers.find("grpc-timeout")) {
      if (const auto call = grpc::parse_grpc_timeout(*t)) budget = std::min(budget, *call);
    }
    l.set_deadline(steady::now() + budget);
    try {
      l.h2 = pool.config().protocol != config::upstream_protocol::http1;
      l.forwarding = {self->client_ip_, self->tls_};
      l.wire = self->serialize(&l == self->shadow_.get(), l.h2 ? &l.h2_head : nullptr);
      if (--self->unserialized_ == 0) std::string().swap(self->body_);
      if (self->abandoned_) throw std::runtime_error("abandoned before sending");
      std::string unused;
      std::vector<asio::const_buffer> gather;
      net::upstream_exchange exchange(w.resources(), pool, unused, gather);
      leg_source source(l);
      leg_sink sink(l, d.turns());
      net::exchange_options options;
      options.head_request = l.head_request;
      options.detect_early = false; // the whole request is one write, bounded by io_timeout
      l.exchange = &exchange;
      const auto result = co_await exchange.run(source, sink, options);
      l.exchange = nullptr;
      failure = l.expired ? net::upstream_error::timeout : net::upstream_error_of(result.error);
      if (l.capture.cut) failure = net::upstream_error::none; // ended on purpose
    } catch (const std::exception& e) {
      l.exchange = nullptr;
      if (!self->abandoned_) spdlog::warn("shadow request to {} failed: {}", l.upstream, e.what());
      failure = net::upstream_error::reset;
    }
    l.clear_deadline();
    w.registry().remove(&l);
    l.registry = nullptr;
    if (failure != net::upstream_error::none) {
      l.capture.error = net::upstream_error_name(failure);
      const auto& stats = self->snapshot_->upstream_stats;
      if (const auto it = stats.find(l.upstream); it != stats.end() && !self->abandoned_) {
        it->second->errors[static_cast<std::size_t>(failure) - 1].fetch_add(
            1, std::memory_order_relaxed);
      }
    }
    // Up to the read that completed the response (when it completed), else until now.
    const auto from = l.sent == steady::time_point{} ? steady::now() : l.sent;
    l.capture.latency_ms =
        ms_between(from, l.received != steady::time_point{} ? l.received : steady::now());
    l.capture.finish();
    if (&l == self->shadow_.get() && failure == net::upstream_error::none) {
      self->route_.stats->shadow_duration.observe(l.capture.latency_ms / 1000.0);
    }
    --self->legs_pending_;
    self->maybe_submit();
  }

  // Runs `f`; an exception (allocation failure) abandons this exchange instead of reaching
  // the live path.
  template <typename F>
  void guarded(F&& f) noexcept {
    try {
      f();
    } catch (const std::exception& e) {
      spdlog::error("mirroring of a {} request abandoned: {}", route_.name, e.what());
      abandoned_ = true;
      close_legs();
    }
  }

  // Whether the gRPC request carried more than one message: only client-streaming and
  // bidirectional calls do, which are not mirrored without `streaming: true`. (The descriptors
  // tell a method's kind before the call, mirror::grpc::mirror_policy; this also catches the
  // listed methods they do not know.)
  [[nodiscard]] bool sends_a_stream() const noexcept {
    grpc::message_counter counter;
    return counter.feed(body_) > 1;
  }

  // Counts the exchange as skipped (once) and stops its shadow requests: their result would
  // be thrown away, so they should not keep reading on this worker.
  void abandon(skip_reason reason) noexcept {
    if (abandoned_) return;
    abandoned_ = true;
    route_.stats->skip(reason);
    dispatcher_.owner().note_uncompared(route_holder_, request_);
    close_legs();
  }

  void close_legs() noexcept {
    for (auto* l : {shadow_.get(), secondary_.get()}) {
      if (l != nullptr && l->exchange != nullptr) l->exchange->abort();
    }
  }

  void maybe_submit() {
    if (submitted_ || abandoned_ || !live_done_ || legs_pending_ > 0) return;
    submitted_ = true;
    guarded([&] {
      auto job = std::make_unique<compare_job>();
      job->route = route_holder_;
      job->time = time_;
      job->request = std::move(request_);
      job->request_body_bytes = request_body_bytes_;
      job->live = std::move(live_);
      job->shadow = std::move(shadow_->capture);
      if (secondary_) job->secondary = std::move(secondary_->capture);
      dispatcher_.owner().submit(std::move(job));
    });
  }

  shadow_dispatcher& dispatcher_;
  std::shared_ptr<route_state> route_holder_; // this exchange's generation of the route
  route_state& route_;
  std::shared_ptr<const proxy::server::runtime> snapshot_; // its configuration (shadow pools)
  http::request_head request_;
  std::string client_ip_;
  bool tls_;
  std::string body_;
  std::uint64_t request_body_bytes_ = 0;
  bool too_large_ = false;
  bool dispatched_ = false;
  bool abandoned_ = false;
  bool live_done_ = false;
  bool submitted_ = false;
  int legs_pending_ = 0;
  int unserialized_ = 0; // legs that have not built their request yet (they need body_)
  steady::time_point sent_{};
  steady::time_point live_end_{};
  std::chrono::system_clock::time_point time_{};
  response_capture live_;
  std::unique_ptr<leg> shadow_;
  std::unique_ptr<leg> secondary_;
};

namespace {
// Whether `req` carries a header the route's rewrite sets on its shadow requests, with that
// value (`x-parallax-shadow: 1` by default): it is a shadow request of some parallax.
bool carries_shadow_marker(const http::request_head& req, const config::mirror_policy& policy) {
  for (const auto& [name, value] : policy.rewrite.set_headers) {
    for (const auto& h : req.headers) {
      if (h.value == value && http::iequals(h.name, name)) return true;
    }
  }
  return false;
}
} // namespace

shadow_dispatcher::shadow_dispatcher(engine& e, proxy::server::worker& w)
    : engine_(e), worker_(w), exchanges_(e.exchange_counter()),
      pools_(std::make_unique<proxy::server::pool_set>(w.io())),
      turns_(std::make_unique<shadow_turns>(w.io())) {}

shadow_dispatcher::~shadow_dispatcher() = default;

std::shared_ptr<proxy::server::exchange_tap>
shadow_dispatcher::begin(const proxy::server::exchange_start& start) {
  // Single writer: a plain load and store, no read-modify-write on a shared cache line.
  exchanges_.store(exchanges_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // The route as the request's own configuration generation has it (the engine made it).
  const auto* gen = static_cast<const mirror_generation*>((*start.snapshot)->observer.get());
  if (gen == nullptr || stopped_ || start.route_index >= gen->routes.size()) return nullptr;
  const auto& shared_route = gen->routes[start.route_index];
  auto* route = shared_route.get();
  if (route == nullptr) return nullptr;
  auto& stats = *route->stats;
  const auto& req = *start.request;
  // A WebSocket upgrade is an exchange, but a tunnel is never mirrored.
  if (start.websocket) return nullptr;
  // A sampled exchange that is not mirrored: counted, and noted for its endpoint's count.
  const auto skip = [&](skip_reason reason) -> std::shared_ptr<proxy::server::exchange_tap> {
    stats.skip(reason);
    engine_.note_uncompared(shared_route, req);
    return nullptr;
  };
  switch (route->sampler.decide_before_rate_limit(req)) {
  case decision::not_sampled: return nullptr;
  case decision::skip_method:
    stats.sampled.fetch_add(1, std::memory_order_relaxed);
    return skip(skip_reason::method);
  case decision::skip_rate_limited: // not returned before the rate limit
  case decision::mirror: break;
  }
  stats.sampled.fetch_add(1, std::memory_order_relaxed);
  if (carries_shadow_marker(req, route->policy)) {
    return skip(skip_reason::shadow_request); // two proxies never mirror each other in a loop
  }
  if (stats.paused.load(std::memory_order_relaxed)) return skip(skip_reason::paused);
  if (req.frame.content_length && *req.frame.content_length > route->policy.max_body_bytes) {
    return skip(skip_reason::body_too_large);
  }
  if (stats.inflight.fetch_add(1, std::memory_order_relaxed) >=
      static_cast<std::int64_t>(route->policy.max_inflight)) {
    stats.inflight.fetch_sub(1, std::memory_order_relaxed);
    return skip(skip_reason::saturated);
  }
  // A max_rps token is spent only by an exchange that is otherwise mirrored.
  if (!route->sampler.try_take_token()) {
    stats.inflight.fetch_sub(1, std::memory_order_relaxed);
    return skip(skip_reason::rate_limited);
  }
  try {
    return std::make_shared<shadow_exchange>(*this, shared_route, start);
  } catch (const std::exception& e) {
    stats.inflight.fetch_sub(1, std::memory_order_relaxed); // the destructor never ran
    spdlog::error("mirroring of a {} request abandoned: {}", route->name, e.what());
    return nullptr;
  }
}

void shadow_dispatcher::stop() {
  stopped_ = true;
  turns_->clear();
  pools_->stop(); // the pools go with this dispatcher, after the worker's event loop
}

void shadow_dispatcher::reconfigured(const proxy::server::runtime& rt) {
  pools_->update(rt);
}

net::upstream_pool& shadow_dispatcher::pool(const proxy::server::runtime& rt,
                                            const config::upstream& settings) {
  return pools_->get(rt, settings, worker_.resolver());
}

} // namespace parallax::mirror
