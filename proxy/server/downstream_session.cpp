#include "proxy/server/downstream_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include <openssl/ssl.h>

#include "proxy/http/redact.hpp"
#include "proxy/http/serializer.hpp"
#include "proxy/server/h2_connection.hpp"
#include "proxy/server/worker.hpp"

namespace parallax::proxy::server {

using clock = std::chrono::steady_clock;
using net::timed_stream;

downstream_session::downstream_session(worker& w, tcp::socket socket,
                                       const listener_binding& listener)
    : worker_(w), rt_(w.rt()),
      client_(rt_->listener_tls[listener.index]
                  ? net::stream(std::move(socket), *rt_->listener_tls[listener.index])
                  : net::stream(std::move(socket))),
      client_io_(w.registry(), &client_), listener_(listener),
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

void downstream_session::on_drain() {
  draining_ = true;
  // An idle keep-alive connection has nothing in flight: close it now. A busy one finishes
  // its exchange and closes with `Connection: close`.
  if (phase_ == phase::idle) client_.cancel();
}

void downstream_session::force_close() {
  closed_ = true;
  client_.close();
  if (active_ != nullptr) active_->abort();
}

awaitable<void> downstream_session::run(std::shared_ptr<downstream_session> self) {
  auto& s = *self;
  // Limits are read from the session's snapshot at each use: a request head may replace it.
  s.first_head_deadline_ = timed_stream::after(s.rt_->cfg->limits.header_timeout);
  if (s.client_.is_tls()) {
    s.phase_ = phase::head;
    const auto r =
        co_await s.client_io_.handshake(asio::ssl::stream_base::server, s.first_head_deadline_);
    if (!r.ok()) {
      spdlog::debug("TLS handshake with {} failed: {}", s.client_ip_,
                    r.timed_out ? "timed out" : r.ec.message());
      s.client_.close();
      co_return;
    }
    const unsigned char* alpn = nullptr;
    unsigned alpn_size = 0;
    SSL_get0_alpn_selected(s.client_.native_tls(), &alpn, &alpn_size);
    if (std::string_view(reinterpret_cast<const char*>(alpn), alpn_size) == "h2") {
      co_await s.serve_h2({});
      co_return;
    }
    if (!s.offers(config::listener_protocol::http1)) {
      s.client_.close(); // HTTP/2 only, and the client did not ask for it
      co_return;
    }
  }
  while (!s.closed_) {
    if (!s.buf_) {
      // Idle with nothing buffered: wait for the next request here, in the outermost frame,
      // into the small inline buffer, so an idle keep-alive connection holds no pooled buffer
      // and no deeper coroutine frames. A new connection's first request is due within
      // header_timeout of its start (slow-open clients cannot hold a connection for
      // idle_timeout); later requests wait idle_timeout between them.
      s.phase_ = phase::idle;
      if (s.draining_) break;
      const auto deadline = s.exchanges_ == 0
                                ? s.first_head_deadline_
                                : timed_stream::after(s.rt_->cfg->limits.idle_timeout);
      const auto [ec, n] = co_await s.client_io_.read_some(asio::buffer(s.idle_buf_), deadline);
      if (ec == asio::error::eof) s.saw_eof_ = true;
      if (ec) break;
      auto got = n;
      if (s.exchanges_ == 0 && !s.client_.is_tls() && s.offers(config::listener_protocol::h2)) {
        const bool h2 = co_await s.sniff_preface(got);
        if (h2) {
          co_await s.serve_h2({s.idle_buf_.data(), got});
          co_return;
        }
        if (got == 0 || !s.offers(config::listener_protocol::http1)) break;
      }
      s.buf_ = s.worker_.resources().take_buffer();
      std::memcpy(s.buf_.get(), s.idle_buf_.data(), got);
      s.begin_ = 0;
      s.end_ = got;
    }
    if (co_await s.serve_one() == outcome::close) break;
    // Between requests, unless a pipelined one is already buffered, the buffer goes back.
    if (s.begin_ == s.end_) s.release_buffers();
  }
  co_await s.close_gracefully();
}

bool downstream_session::offers(config::listener_protocol p) const {
  const auto& protocols = rt_->cfg->listeners[listener_.index].protocols;
  return std::find(protocols.begin(), protocols.end(), p) != protocols.end();
}

// Reads on until the first bytes of a plain connection tell whether they are the HTTP/2
// preface: true when they are; `n` (the bytes in idle_buf_) is 0 when the client went away.
awaitable<bool> downstream_session::sniff_preface(std::size_t& n) {
  const auto deadline = first_head_deadline_; // a new connection's first bytes
  for (;;) {
    const auto have = std::min(n, h2_preface.size());
    if (std::string_view(idle_buf_.data(), have) != h2_preface.substr(0, have)) co_return false;
    if (have == h2_preface.size()) co_return true;
    const auto [ec, got] = co_await client_io_.read_some(
        asio::buffer(idle_buf_.data() + n, idle_buf_.size() - n), deadline);
    if (ec) {
      n = 0;
      co_return false;
    }
    n += got;
  }
}

awaitable<void> downstream_session::serve_h2(std::string_view received) {
  phase_ = phase::h2;
  // The connection keeps its own deadlines: the one left armed by reading the preface
  // (header_timeout) would otherwise cancel its reads later, ending a busy connection.
  client_io_.clear_deadline();
  h2_connection connection(worker_, client_, listener_, client_ip_);
  co_await connection.run(received);
  closed_ = true;
  client_.close();
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
    const auto deadline = timed_stream::after(std::chrono::seconds(2));
    std::size_t drained = 0;
    const auto sink = buf_ ? asio::buffer(buf_.get(), io_buffer_size) : asio::buffer(idle_buf_);
    while (drained < 1024UL * 1024UL) {
      const auto [ec, n] = co_await client_io_.read_some(sink, deadline);
      if (ec) break;
      drained += n;
    }
  }
  client_.close();
}

void downstream_session::adopt(const std::shared_ptr<const runtime>& rt) {
  rt_ = rt;
  const auto& limits = rt_->cfg->limits;
  request_parser_.set_limits(limits.max_request_header_bytes, limits.max_request_headers);
}

void downstream_session::release_buffers() {
  begin_ = end_ = 0;
  worker_.resources().buffers.give(std::move(buf_));
}

awaitable<bool> downstream_session::read_client(timed_stream::time_point deadline) {
  // Only called during an exchange, which holds buf_ (run() borrows it when bytes arrive).
  const auto [ec, n] = co_await client_io_.read_some(
      asio::buffer(buf_.get() + end_, io_buffer_size - end_), deadline);
  if (ec == asio::error::eof) saw_eof_ = true;
  if (ec) co_return false;
  end_ += n;
  co_return true;
}

awaitable<std::tuple<error_code, std::size_t>>
downstream_session::write_client(std::span<const asio::const_buffer> bufs) {
  return client_io_.write(bufs, timed_stream::after(rt_->cfg->limits.client_io_timeout));
}

awaitable<downstream_session::outcome> downstream_session::serve_one() {
  route_index_ = -1;
  response_bytes_ = 0;
  fault_ = client_fault::none;
  phase_ = phase::head;
  if (!head_buffered()) {
    outcome failed = outcome::close;
    if (!co_await read_head(failed)) co_return failed;
  }
  started_ = clock::now();
  ++exchanges_;
  // A reload applies from the next request head on, on open connections too; this request
  // keeps the snapshot it takes here until it ends.
  if (rt_ != worker_.rt()) adopt(worker_.rt());
  outcome result = outcome::close;
  // A refusal counts under the route it matched too.
  if (const auto refused = admit(*rt_, request_parser_.request(), route_index_)) {
    result = co_await send_failure(refused->why, refused->detail);
  } else {
    result = co_await forward(static_cast<std::size_t>(route_index_));
  }
  if (tap_) {
    tap_->finish(tap_end_);
    tap_.reset();
  }
  co_return result;
}

// Phase 1: a complete request head. run() has bytes of it buffered (read while idle, or
// pipelined behind the previous request); usually they hold the whole head.
bool downstream_session::head_buffered() {
  const auto r = request_parser_.feed({buf_.get() + begin_, end_ - begin_});
  if (r.status == http::parse_status::error) return false; // read_head() answers it
  begin_ += r.consumed;
  return r.status == http::parse_status::head_complete;
}

// The rest of phase 1, when the buffered bytes did not complete the head (or were malformed):
// a new connection's first head is due at first_head_deadline_; a later one header_timeout
// from here (its first bytes).
awaitable<bool> downstream_session::read_head(outcome& failed) {
  const auto deadline =
      exchanges_ == 0 ? first_head_deadline_ : timed_stream::after(rt_->cfg->limits.header_timeout);
  for (;;) {
    if (begin_ < end_) {
      const auto r = request_parser_.feed({buf_.get() + begin_, end_ - begin_});
      if (r.status == http::parse_status::error) {
        failed = co_await send_failure(request_parser_.head_too_large() ? failure::head_too_large
                                                                        : failure::bad_request,
                                       request_parser_.error_reason());
        co_return false;
      }
      begin_ += r.consumed;
      if (r.status == http::parse_status::head_complete) co_return true;
    }
    // Every buffered byte was parsed. On plain TCP the wait holds no pooled buffer: a client
    // that sends its head slowly (a slowloris) costs its session and nothing more.
    std::size_t n = 0;
    error_code ec;
    if (client_.is_tls()) {
      begin_ = end_ = 0;
      std::tie(ec, n) =
          co_await client_io_.read_some(asio::buffer(buf_.get(), io_buffer_size), deadline);
    } else {
      release_buffers();
      std::tie(ec) = co_await client_io_.wait_readable(deadline);
      if (!ec) {
        buf_ = worker_.resources().take_buffer();
        n = client_io_.read_now(asio::buffer(buf_.get(), io_buffer_size), ec);
        if (!ec && n == 0) continue; // readable, yet nothing there after all: wait again
      }
    }
    if (ec == asio::error::eof) saw_eof_ = true;
    if (client_io_.timed_out(ec)) {
      failed = co_await send_failure(failure::head_timeout, "request head timed out");
      co_return false;
    }
    if (ec) {
      failed = outcome::close;
      co_return false;
    }
    end_ = n;
  }
}

// The one place an exchange's failure becomes what the client gets, the observer's end, the
// upstream error metric and the log line.
awaitable<downstream_session::outcome>
downstream_session::finish_failed(net::exchange_error e, const net::exchange_result& r,
                                  const std::string& upstream, int status_sent) {
  const auto plan = outcome_for(e, r.head_delivered, fault_);
  tap_end_ = plan.tap_end;
  count_upstream_failure(*rt_, static_cast<std::size_t>(route_index_), e, r.detail, upstream);
  switch (plan.what) {
  case exchange_outcome::action::respond:
    co_return co_await send_failure(plan.response, net::exchange_error_name(e));
  case exchange_outcome::action::truncate:
    // The status is already sent: close so the client sees a truncated message.
    spdlog::warn("upstream {}: response broken off after {} body bytes", upstream, response_bytes_);
    finish_exchange(status_sent);
    break;
  case exchange_outcome::action::close:
    if (r.head_delivered) finish_exchange(status_sent);
    break;
  }
  closed_ = true;
  client_.close();
  co_return outcome::close;
}

awaitable<downstream_session::outcome> downstream_session::send_failure(failure f,
                                                                        std::string_view detail) {
  const auto resp = response_for(f);
  const auto& req = request_parser_.request();
  // The connection can only be reused when the whole request has been read.
  const bool request_done = request_parser_.message_done() ||
                            (request_parser_.head_done() && !req.has_body() && !req.frame.upgrade);
  const bool close = resp.close || draining_ || !request_done || !req.frame.keep_alive;
  if (spdlog::should_log(spdlog::level::debug)) { // the target redacted as in every log line
    spdlog::debug("{} {} {}: {} ({})", client_ip_, req.method,
                  http::redact_query(req.target, rt_->cfg->reports.redact.query_params),
                  resp.status, detail);
  }
  out_.clear();
  http::write_error_response(out_, resp.status, resp.body, close);
  const asio::const_buffer buf(out_.data(), out_.size());
  const auto [ec, n] = co_await write_client({&buf, 1});
  const bool written = !ec;
  finish_exchange(resp.status);
  if (!written || close) co_return outcome::close;
  if (!request_parser_.message_done()) {
    // A body-less request is complete once its (empty) body is consumed.
    request_parser_.feed({});
  }
  co_return outcome::keep_alive;
}

void downstream_session::finish_exchange(int status) {
  record_exchange(*rt_, {&request_parser_.request(), client_ip_,
                         http1_protocol(request_parser_.request()), route_index_, status,
                         response_bytes_, started_});
}

} // namespace parallax::proxy::server
