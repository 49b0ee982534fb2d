#include "proxy/server/downstream_session.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <spdlog/spdlog.h>

#include <cstring>

#include "proxy/http/redact.hpp"
#include "proxy/http/serializer.hpp"
#include "proxy/server/worker.hpp"

namespace parallax::proxy::server {

using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

namespace {
constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

// Result of sending a request and waiting for its response head.
enum class attempt_result { head_received, retry, client_failed, upstream_failed, timed_out };
} // namespace

downstream_session::downstream_session(worker& w, tcp::socket socket,
                                       const listener_binding& listener)
    : worker_(w), rt_(w.rt()), client_(listener.tls ? net::stream(std::move(socket), *listener.tls)
                                                    : net::stream(std::move(socket))),
      listener_(listener),
      request_parser_(http::parser::mode::request, rt_->cfg->limits.max_request_header_bytes,
                      rt_->cfg->limits.max_request_headers) {
  error_code ec;
  const auto remote = client_.socket().remote_endpoint(ec);
  client_ip_ = ec ? "unknown" : remote.address().to_string();
  worker_.registry().add(this);
  worker_.connection_opened();
  listener_.stats->connections.fetch_add(1, std::memory_order_relaxed);
}

downstream_session::~downstream_session() {
  release_buffers();
  worker_.registry().remove(this);
  listener_.stats->connections.fetch_sub(1, std::memory_order_relaxed);
  worker_.state().connections.fetch_sub(1, std::memory_order_relaxed);
  worker_.connection_closed();
}

void downstream_session::on_deadline() {
  expired_ = true;
  client_.cancel();
  if (active_upstream_ != nullptr) active_upstream_->stream().cancel();
}

void downstream_session::on_drain() {
  draining_ = true;
  // An idle keep-alive connection has nothing in flight: close it now. A busy one finishes
  // its exchange and closes with `Connection: close`.
  if (phase_ == phase::idle) client_.cancel();
}

void downstream_session::force_close() {
  closed_ = true;
  client_.close();
  if (active_upstream_ != nullptr) active_upstream_->stream().close();
}

awaitable<void> downstream_session::run(std::shared_ptr<downstream_session> self) {
  auto& s = *self;
  const auto& limits = s.rt_->cfg->limits;
  if (s.client_.is_tls()) {
    s.phase_ = phase::head;
    s.set_deadline(clock::now() + limits.header_timeout);
    const auto ec = co_await s.client_.handshake(asio::ssl::stream_base::server);
    s.clear_deadline();
    if (ec || s.expired_) {
      spdlog::debug("TLS handshake with {} failed: {}", s.client_ip_, ec.message());
      s.client_.close();
      co_return;
    }
  }
  while (!s.closed_) {
    if (!s.buf_) {
      // Idle with nothing buffered: wait for the next request here, in the outermost frame,
      // into the small inline buffer, so an idle keep-alive connection holds no pooled buffer
      // and no deeper coroutine frames. A new connection gets header_timeout for its first
      // request (slow-open clients cannot hold a connection for idle_timeout); later requests
      // wait idle_timeout between them.
      s.phase_ = phase::idle;
      s.expired_ = false;
      if (s.draining_) break;
      s.set_deadline(clock::now() +
                     (s.exchanges_ == 0 ? limits.header_timeout : limits.idle_timeout));
      auto [ec, n] = co_await s.client_.read_some(asio::buffer(s.idle_buf_));
      s.clear_deadline();
      if (ec == asio::error::eof) s.saw_eof_ = true;
      if (ec || s.expired_) break;
      s.buf_ = s.worker_.take_buffer();
      std::memcpy(s.buf_.get(), s.idle_buf_.data(), n);
      s.begin_ = 0;
      s.end_ = n;
    }
    if (co_await s.serve_one() == outcome::close) break;
    // Between requests, unless a pipelined one is already buffered, the buffers go back.
    if (s.begin_ == s.end_) s.release_buffers();
  }
  co_await s.close_gracefully();
}

awaitable<void> downstream_session::close_gracefully() {
  if (closed_ || !client_.is_open()) co_return;
  // An idle connection (between requests) has nothing in flight to protect: close at once.
  const bool mid_exchange = phase_ != phase::idle;
  phase_ = phase::closing;
  if (!client_.is_tls() && !saw_eof_ && mid_exchange) {
    // Lingering close: stop sending, then read and drop what the client still sends for a
    // short bounded time, so a final response is not destroyed by a reset (RFC 9112 9.6).
    error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    set_deadline(clock::now() + std::chrono::seconds(2));
    std::size_t drained = 0;
    const auto sink = buf_ ? asio::buffer(buf_.get(), io_buffer_size) : asio::buffer(idle_buf_);
    while (drained < 1024UL * 1024UL && !expired_) {
      auto [ec, n] = co_await client_.read_some(sink);
      if (ec) break;
      drained += n;
    }
    clear_deadline();
  }
  client_.close();
}

void downstream_session::release_buffers() {
  begin_ = end_ = 0;
  worker_.give(std::move(buf_));
  worker_.give(std::move(upstream_buf_));
  worker_.give(std::move(response_parser_));
}

awaitable<bool> downstream_session::read_client() {
  // Only called during an exchange, which holds buf_ (run() borrows it when bytes arrive).
  auto [ec, n] = co_await client_.read_some(asio::buffer(buf_.get() + end_, io_buffer_size - end_));
  if (ec == asio::error::eof) saw_eof_ = true;
  if (ec || expired_) co_return false;
  end_ += n;
  co_return true;
}

awaitable<error_code> downstream_session::write_client(std::string_view data) {
  auto [ec, n] = co_await client_.write(asio::buffer(data.data(), data.size()));
  co_return ec;
}

awaitable<downstream_session::outcome> downstream_session::serve_one() {
  const auto& limits = rt_->cfg->limits;
  expired_ = false;
  route_index_ = -1;
  response_bytes_ = 0;

  // 1. A complete request head. run() calls this with bytes of it buffered (read while idle,
  // or pipelined behind the previous request): the header timeout runs from the first byte.
  phase_ = phase::head;
  set_deadline(clock::now() + limits.header_timeout);
  for (;;) {
    if (begin_ < end_) {
      const auto r = request_parser_.feed({buf_.get() + begin_, end_ - begin_});
      if (r.status == http::parse_status::error) {
        clear_deadline();
        co_return co_await send_failure(request_parser_.head_too_large() ? failure::head_too_large
                                                                         : failure::bad_request,
                                        request_parser_.error_reason());
      }
      begin_ += r.consumed;
      if (r.status == http::parse_status::head_complete) break;
    }
    begin_ = end_ = 0;
    if (!co_await read_client()) {
      clear_deadline();
      if (expired_) {
        expired_ = false;
        co_return co_await send_failure(failure::head_timeout, "request head timed out");
      }
      co_return outcome::close;
    }
  }
  clear_deadline();
  started_ = clock::now();
  ++exchanges_;

  // 2. Act on the head.
  auto& req = request_parser_.request();
  if (req.method == "CONNECT") {
    co_return co_await send_failure(failure::method_not_allowed, "CONNECT");
  }
  if (limits.max_request_body_bytes != 0 && req.frame.content_length &&
      *req.frame.content_length > limits.max_request_body_bytes) {
    co_return co_await send_failure(failure::body_too_large, "Content-Length above the limit");
  }
  const auto route = rt_->router.match(req);
  if (!route) co_return co_await send_failure(failure::no_route, "no route");
  route_index_ = static_cast<int>(*route);
  const auto result = co_await forward(*route);
  if (tap_) {
    tap_->finish(tap_end_);
    tap_.reset();
  }
  co_return result;
}

awaitable<downstream_session::outcome> downstream_session::send_failure(failure f,
                                                                        std::string_view detail) {
  const auto resp = response_for(f);
  const auto& req = request_parser_.request();
  // The connection can only be reused when the whole request has been read.
  const bool request_done = request_parser_.message_done() ||
                            (request_parser_.head_done() && !req.has_body() && !req.frame.upgrade);
  const bool close = resp.close || draining_ || !request_done || !req.frame.keep_alive;
  spdlog::debug("{} {} {}: {} ({})", client_ip_, req.method, req.target, resp.status, detail);
  out_.clear();
  http::write_error_response(out_, resp.status, resp.body, close);
  const auto ec = co_await write_client(out_);
  finish_exchange(resp.status);
  if (ec || close) co_return outcome::close;
  if (!request_parser_.message_done()) {
    // A body-less request is complete once its (empty) body is consumed.
    request_parser_.feed({});
  }
  co_return outcome::keep_alive;
}

void downstream_session::finish_exchange(int status) {
  auto* stats = route_index_ >= 0 ? rt_->route_stats[static_cast<std::size_t>(route_index_)]
                                  : rt_->unmatched_stats;
  stats->count(status);
  const auto elapsed = started_ == clock::time_point{}
                           ? 0.0
                           : std::chrono::duration<double>(clock::now() - started_).count();
  stats->duration.observe(elapsed);
  if (worker_.state().access_log) log_access(status, response_bytes_);
}

void downstream_session::log_access(int status, std::uint64_t bytes) const {
  const auto& req = request_parser_.request();
  const auto elapsed =
      started_ == clock::time_point{}
          ? 0.0
          : std::chrono::duration<double, std::milli>(clock::now() - started_).count();
  const char* route = route_index_ >= 0
                          ? rt_->cfg->routes[static_cast<std::size_t>(route_index_)].name.c_str()
                          : "-";
  spdlog::info("access {} \"{} {} HTTP/1.{}\" {} {} {:.3f}ms route={}", client_ip_, req.method,
               http::redact_query(req.target, rt_->cfg->reports.redact.query_params),
               req.version_minor, status, bytes, elapsed, route);
}

awaitable<bool> downstream_session::send_request_body(net::upstream_connection& up, bool chunked,
                                                      body_error& err) {
  const auto& limits = rt_->cfg->limits;
  if (request_parser_.message_done()) {
    // A retry of a body-less request: the parser is past it already; only the head goes out.
    auto [ec, n] = co_await up.stream().write(asio::buffer(out_));
    if (ec || expired_) {
      err = body_error::upstream_failed_before_send;
      co_return false;
    }
    co_return true;
  }
  bool head_pending = true;
  for (;;) {
    request_parser_.clear_body();
    const auto r = request_parser_.feed({buf_.get() + begin_, end_ - begin_});
    if (r.status == http::parse_status::error) {
      err = body_error::client_malformed;
      co_return false;
    }
    begin_ += r.consumed;
    if (limits.max_request_body_bytes != 0 &&
        request_parser_.body_bytes() > limits.max_request_body_bytes) {
      err = body_error::too_large;
      co_return false;
    }
    const bool done = r.status == http::parse_status::message_complete;
    if (tap_ && !request_parser_.body().empty()) tap_->request_body(request_parser_.body());
    // One gathered write: head (first time), chunk framing, body pieces, last chunk.
    std::size_t total = 0;
    for (auto piece : request_parser_.body())
      total += piece.size();
    if (!head_pending) out_.clear();
    if (chunked && total > 0) http::write_chunk_size(out_, total);
    gather_.clear();
    if (!out_.empty()) gather_.emplace_back(out_.data(), out_.size());
    for (auto piece : request_parser_.body())
      gather_.emplace_back(piece.data(), piece.size());
    if (chunked && total > 0) gather_.emplace_back(crlf.data(), crlf.size());
    if (chunked && done) gather_.emplace_back(last_chunk.data(), last_chunk.size());
    if (!gather_.empty()) {
      auto [ec, n] = co_await up.stream().write(gather_);
      if (ec || expired_) {
        err = head_pending ? body_error::upstream_failed_before_send : body_error::upstream_failed;
        co_return false;
      }
    }
    head_pending = false;
    out_.clear();
    if (done) co_return true;
    if (begin_ == end_) begin_ = end_ = 0;
    set_deadline(clock::now() + limits.idle_timeout);
    if (!co_await read_client()) {
      clear_deadline();
      err = body_error::client_failed;
      co_return false;
    }
    clear_deadline();
  }
}

awaitable<downstream_session::outcome> downstream_session::forward(std::size_t route_index) {
  auto& req = request_parser_.request();
  const auto& route = rt_->cfg->routes[route_index];
  if (!upstream_buf_) upstream_buf_ = worker_.take_buffer();
  if (!response_parser_) response_parser_ = worker_.take_response_parser();
  auto& pool = worker_.pool(route.upstream);
  auto* up_stats = rt_->route_upstream_stats[route_index];
  const auto count_error = [&](net::upstream_error e) {
    up_stats->errors[static_cast<std::size_t>(e) - 1].fetch_add(1, std::memory_order_relaxed);
  };

  const bool websocket =
      request_parser_.upgrade() && req.frame.upgrade &&
      http::list_contains(req.headers.find(http::field::upgrade).value_or(""), "websocket");
  // Other upgrades (h2c) are not offered upstream; such a connection closes after the exchange.
  const bool other_upgrade = request_parser_.upgrade() && !websocket;
  if (!websocket) req.frame.upgrade = false;
  if (auto* observer = worker_.observer(); observer != nullptr && !websocket) {
    tap_ = observer->begin({route_index, &req, client_ip_, client_.is_tls()});
    tap_end_ = exchange_end::live_error; // until the live response head arrives
  }
  const bool chunked = req.frame.chunked;
  const auto framing = chunked                    ? http::body_framing::chunked
                       : req.frame.content_length ? http::body_framing::content_length
                                                  : http::body_framing::none;
  const bool expect_continue = req.expect_continue && req.has_body();
  // Expect is answered here: the upstream sees the body arrive directly.
  req.headers.remove(http::field::expect);
  const bool replayable = !req.has_body();

  std::unique_ptr<net::upstream_connection> conn;
  std::size_t ep = 0;
  bool sent_continue = false;
  std::size_t ub = 0;
  std::size_t ue = 0;
  bool response_complete = false; // a body-less final response already ended at its head
  for (int attempt = 0;; ++attempt) {
    if (attempt == 0) conn = pool.take_idle(ep, !replayable);
    if (!conn) {
      phase_ = phase::upstream;
      auto res = co_await pool.connect(ep);
      if (!res.conn) {
        count_error(res.error);
        spdlog::warn("upstream {}: {}", route.upstream, res.detail);
        co_return co_await send_failure(failure::upstream_unavailable, res.detail);
      }
      conn = std::move(res.conn);
    }
    active_upstream_ = conn.get();
    if (expect_continue && !sent_continue && begin_ == end_) {
      // The client waits for this before sending its body; the upstream is now ready for it.
      sent_continue = true;
      if (co_await write_client(continue_line)) {
        active_upstream_ = nullptr;
        tap_end_ = exchange_end::client_aborted;
        co_return outcome::close;
      }
    }
    out_.clear();
    http::write_request_head(out_, req, {client_ip_, client_.is_tls()}, framing,
                             req.frame.content_length.value_or(0));
    phase_ = phase::body;
    body_error berr = body_error::none;
    if (!co_await send_request_body(*conn, chunked, berr)) {
      active_upstream_ = nullptr;
      switch (berr) {
      case body_error::too_large:
        tap_end_ = exchange_end::body_too_large;
        co_return co_await send_failure(failure::body_too_large, "body above the limit");
      case body_error::client_malformed:
        tap_end_ = exchange_end::client_aborted;
        co_return co_await send_failure(failure::bad_request, request_parser_.error_reason());
      case body_error::client_failed:
        tap_end_ = exchange_end::client_aborted;
        co_return outcome::close;
      case body_error::upstream_failed_before_send:
      case body_error::upstream_failed:
      case body_error::none: break;
      }
      if (conn->reused() && replayable && attempt == 0) {
        conn.reset(); // a pooled connection the upstream had closed: retry once, fresh
        continue;
      }
      count_error(net::upstream_error::reset);
      co_return co_await send_failure(failure::upstream_unavailable, "upstream write failed");
    }

    if (tap_) tap_->request_complete(); // idempotent: a retried attempt calls it again

    // Wait for the response head (interim 1xx responses are relayed).
    phase_ = phase::upstream;
    response_parser_->reset();
    response_parser_->set_head_request(req.method == "HEAD");
    const auto timeout = pool.config().request_timeout;
    set_deadline(clock::now() + timeout);
    bool got_bytes = false;
    attempt_result result = attempt_result::upstream_failed;
    net::upstream_error kind = net::upstream_error::reset;
    while (result == attempt_result::upstream_failed) {
      auto [ec, n] =
          co_await conn->stream().read_some(asio::buffer(upstream_buf_.get(), io_buffer_size));
      if (expired_) {
        result = attempt_result::timed_out;
        break;
      }
      if (ec) {
        if (!got_bytes && conn->reused() && replayable && attempt == 0) {
          result = attempt_result::retry;
        }
        kind = net::upstream_error::reset;
        break;
      }
      got_bytes = true;
      ub = 0;
      ue = n;
      for (;;) {
        const auto r = response_parser_->feed({upstream_buf_.get() + ub, ue - ub});
        if (r.status == http::parse_status::error) {
          kind = net::upstream_error::malformed_response;
          break;
        }
        ub += r.consumed;
        if (r.status == http::parse_status::need_more) break;
        const int status = response_parser_->response().status;
        if (status >= 100 && status < 200 && status != 101) {
          if (r.status == http::parse_status::head_complete && status != 100) {
            out_.clear();
            http::write_interim_head(out_, response_parser_->response());
            if (co_await write_client(out_)) {
              result = attempt_result::client_failed;
              break;
            }
          }
          continue; // the interim message completes; the final response follows
        }
        response_complete = r.status == http::parse_status::message_complete;
        result = attempt_result::head_received;
        break;
      }
      if (kind == net::upstream_error::malformed_response) break;
      if (result == attempt_result::client_failed) break;
    }
    clear_deadline();
    if (result == attempt_result::retry) {
      active_upstream_ = nullptr;
      conn.reset();
      continue;
    }
    if (result == attempt_result::client_failed) {
      active_upstream_ = nullptr;
      tap_end_ = exchange_end::client_aborted;
      co_return outcome::close;
    }
    if (result == attempt_result::timed_out) {
      expired_ = false;
      active_upstream_ = nullptr;
      count_error(net::upstream_error::timeout);
      spdlog::warn("upstream {}: no response head within {}ms", route.upstream, timeout.count());
      co_return co_await send_failure(failure::upstream_timeout, "request_timeout");
    }
    if (result != attempt_result::head_received) {
      active_upstream_ = nullptr;
      count_error(kind);
      spdlog::warn("upstream {}: {} before a response head", route.upstream,
                   net::upstream_error_name(kind));
      co_return co_await send_failure(failure::upstream_unavailable, "upstream failed");
    }
    break;
  }

  // 3. Relay the response.
  auto& res = response_parser_->response();
  const int status = res.status;
  phase_ = phase::response;
  if (status == 101) {
    if (!websocket) {
      active_upstream_ = nullptr;
      count_error(net::upstream_error::malformed_response);
      co_return co_await send_failure(failure::upstream_unavailable, "unexpected 101");
    }
    co_return co_await tunnel(*conn, ub, ue);
  }
  if (tap_) tap_end_ = exchange_end::client_aborted; // until the whole response is relayed
  const bool no_body = req.method == "HEAD" || status == 204 || status == 304;
  bool client_keep = req.frame.keep_alive && !draining_ && !other_upgrade;
  auto out_framing = http::body_framing::content_length;
  if (no_body) {
    out_framing = http::body_framing::none;
  } else if (res.frame.chunked || !res.frame.content_length) {
    // Chunked or close-delimited upstream bodies go to HTTP/1.1 clients chunked (keeping the
    // connection); HTTP/1.0 clients get a close-delimited body.
    if (req.version_minor >= 1) {
      out_framing = http::body_framing::chunked;
    } else {
      out_framing = http::body_framing::close_delimited;
      client_keep = false;
    }
  }
  out_.clear();
  http::write_response_head(out_, res, out_framing, res.frame.content_length.value_or(0),
                            client_keep, req.version_minor);
  const bool chunked_out = out_framing == http::body_framing::chunked;
  bool head_pending = true;
  bool complete = response_complete;
  bool upstream_broken = false;
  const auto timeout = pool.config().request_timeout;
  for (;;) {
    response_parser_->clear_body();
    if (!complete) {
      const auto r = response_parser_->feed({upstream_buf_.get() + ub, ue - ub});
      if (r.status == http::parse_status::error) {
        upstream_broken = true;
        count_error(net::upstream_error::malformed_response);
        break;
      }
      ub += r.consumed;
      complete = r.status == http::parse_status::message_complete;
    }
    if (complete && tap_) tap_->response_received();
    std::size_t total = 0;
    for (auto piece : response_parser_->body())
      total += piece.size();
    if (!head_pending) out_.clear();
    if (chunked_out && total > 0) http::write_chunk_size(out_, total);
    gather_.clear();
    if (!out_.empty()) gather_.emplace_back(out_.data(), out_.size());
    for (auto piece : response_parser_->body())
      gather_.emplace_back(piece.data(), piece.size());
    if (chunked_out && total > 0) gather_.emplace_back(crlf.data(), crlf.size());
    if (chunked_out && complete) gather_.emplace_back(last_chunk.data(), last_chunk.size());
    if (!gather_.empty()) {
      set_deadline(clock::now() + rt_->cfg->limits.idle_timeout);
      auto [ec, n] = co_await client_.write(gather_);
      clear_deadline();
      if (ec || expired_) {
        active_upstream_ = nullptr;
        finish_exchange(status);
        co_return outcome::close; // the client went away mid-response
      }
      response_bytes_ += total;
      // Copied after the client has its bytes, so observing never delays the response.
      if (tap_) {
        if (head_pending) tap_->response_head(res);
        if (total > 0) tap_->response_body(response_parser_->body());
      }
    }
    head_pending = false;
    out_.clear();
    if (complete) break;
    set_deadline(clock::now() + timeout);
    auto [ec, n] =
        co_await conn->stream().read_some(asio::buffer(upstream_buf_.get(), io_buffer_size));
    clear_deadline();
    if (expired_) {
      upstream_broken = true;
      count_error(net::upstream_error::timeout);
      break;
    }
    ub = 0;
    ue = 0;
    if (ec) {
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        const auto r = response_parser_->finish();
        if (r.status == http::parse_status::message_complete) {
          if (tap_) tap_->response_received();
          // A close-delimited body ended; terminate the chunked stream for the client.
          if (chunked_out) {
            co_await write_client(last_chunk);
          }
          active_upstream_ = nullptr;
          conn.reset();
          break;
        }
      }
      upstream_broken = true;
      count_error(net::upstream_error::reset);
      break;
    }
    ue = n;
  }
  active_upstream_ = nullptr;
  if (upstream_broken) {
    tap_end_ = exchange_end::live_broken;
    // The status is already sent: close so the client sees a truncated message.
    spdlog::warn("upstream {}: response body broken off after {} bytes", route.upstream,
                 response_bytes_);
    finish_exchange(status);
    closed_ = true;
    client_.close();
    co_return outcome::close;
  }
  if (conn && res.frame.keep_alive && ub == ue && !response_parser_->needs_eof()) {
    conn->count_request();
    pool.release(std::move(conn));
  }
  tap_end_ = exchange_end::complete;
  finish_exchange(status);
  co_return client_keep ? outcome::keep_alive : outcome::close;
}

awaitable<downstream_session::outcome> downstream_session::tunnel(net::upstream_connection& up,
                                                                  std::size_t ub, std::size_t ue) {
  phase_ = phase::tunnel;
  auto& res = response_parser_->response();
  out_.clear();
  http::write_response_head(out_, res, http::body_framing::none, 0, true, 1);
  gather_.clear();
  gather_.emplace_back(out_.data(), out_.size());
  if (ub < ue) gather_.emplace_back(upstream_buf_.get() + ub, ue - ub);
  auto [ec, n] = co_await client_.write(gather_);
  finish_exchange(101);
  if (ec) co_return outcome::close;
  if (begin_ < end_) {
    auto [ec2, n2] = co_await up.stream().write(asio::buffer(buf_.get() + begin_, end_ - begin_));
    if (ec2) co_return outcome::close;
  }
  begin_ = end_ = 0;
  const auto idle = rt_->cfg->limits.idle_timeout;
  // Both directions are copied until either side closes or the tunnel is idle too long.
  auto pump = [this, idle](net::stream& from, net::stream& to, char* buffer) -> awaitable<void> {
    for (;;) {
      set_deadline(clock::now() + idle);
      auto [rec, got] = co_await from.read_some(asio::buffer(buffer, io_buffer_size));
      if (rec || expired_) co_return;
      auto [wec, put] = co_await to.write(asio::buffer(buffer, got));
      if (wec || expired_) co_return;
    }
  };
  co_await (pump(client_, up.stream(), buf_.get()) ||
            pump(up.stream(), client_, upstream_buf_.get()));
  clear_deadline();
  active_upstream_ = nullptr;
  up.stream().close();
  closed_ = true;
  client_.close();
  co_return outcome::close;
}

} // namespace parallax::proxy::server
