#include "proxy/net/upstream_exchange.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>

#include "proxy/net/h2_upstream.hpp"
#include "proxy/net/timed_stream.hpp"

namespace parallax::proxy::net {

using namespace asio::experimental::awaitable_operators;

namespace {
// Largest upstream response head (status line and fields) accepted, live or shadow.
constexpr std::uint64_t max_response_head_bytes = 256ULL * 1024ULL;

bool is_eof(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}
} // namespace

exchange_error connect_error(upstream_error e) noexcept {
  switch (e) {
  case upstream_error::timeout: return exchange_error::connect_timeout;
  case upstream_error::tls: return exchange_error::tls;
  default: return exchange_error::connect_failed;
  }
}

const char* exchange_error_name(exchange_error e) noexcept {
  switch (e) {
  case exchange_error::none: return "none";
  case exchange_error::connect_failed: return "connect failed";
  case exchange_error::connect_timeout: return "connect timed out";
  case exchange_error::tls: return "TLS handshake failed";
  case exchange_error::write_failed: return "closed while the request was written";
  case exchange_error::write_timeout: return "stopped reading the request (io_timeout)";
  case exchange_error::reset: return "closed before a response head";
  case exchange_error::head_timeout: return "no response head within request_timeout";
  case exchange_error::malformed: return "malformed response";
  case exchange_error::body_timeout: return "response body stalled (io_timeout)";
  case exchange_error::body_reset: return "response body broken off";
  case exchange_error::body_malformed: return "malformed response body";
  case exchange_error::source_failed: return "request source failed";
  case exchange_error::sink_failed: return "response sink failed";
  }
  return "unknown";
}

upstream_error upstream_error_of(exchange_error e) noexcept {
  switch (e) {
  case exchange_error::connect_failed: return upstream_error::connect_failed;
  case exchange_error::connect_timeout:
  case exchange_error::write_timeout:
  case exchange_error::head_timeout:
  case exchange_error::body_timeout: return upstream_error::timeout;
  case exchange_error::tls: return upstream_error::tls;
  case exchange_error::write_failed:
  case exchange_error::reset:
  case exchange_error::body_reset: return upstream_error::reset;
  case exchange_error::malformed:
  case exchange_error::body_malformed: return upstream_error::malformed_response;
  case exchange_error::none:
  case exchange_error::source_failed:
  case exchange_error::sink_failed: break;
  }
  return upstream_error::none;
}

std::unique_ptr<char[]> exchange_resources::take_buffer() const {
  return buffers.take([] { return std::unique_ptr<char[]>(new char[io_buffer_size]); });
}

std::unique_ptr<http::parser> exchange_resources::take_parser() const {
  return parsers.take([] {
    return std::make_unique<http::parser>(http::parser::mode::response, max_response_head_bytes);
  });
}

upstream_exchange::upstream_exchange(const exchange_resources& res, upstream_pool& pool,
                                     std::string& head, std::vector<asio::const_buffer>& gather)
    : res_(res), pool_(pool), io_(res.deadlines), head_(head), gather_(gather) {
  pool_.add_user(); // a reload may retire the pool meanwhile: it lives until this ends
}

upstream_exchange::~upstream_exchange() {
  if (h2_conn_ && h2_stream_) h2_conn_->release(*h2_stream_);
  if (const auto home = h2_home_.lock()) home->recycle(std::move(h2_stream_));
  pool_.remove_user();
  res_.buffers.give(std::move(buf_));
  res_.parsers.give(std::move(parser_));
}

void upstream_exchange::abort() noexcept {
  aborted_ = true; // also when it comes while a connection is still being opened
  if (conn_) conn_->stream().close();
  if (h2_conn_ && h2_stream_) {
    h2_conn_->release(*h2_stream_); // RST_STREAM: the other streams go on
    h2_stream_->closed = true;
    h2_stream_->notify();
  }
}

const http::response_head& upstream_exchange::response() const noexcept {
  return h2_stream_ ? h2_stream_->head : parser_->response();
}

awaitable<exchange_result> upstream_exchange::run(request_source& source, response_sink& sink,
                                                  const exchange_options& options) {
  if (pool_.config().protocol != config::upstream_protocol::http1) {
    return run_h2(source, sink, options);
  }
  if (!parser_) parser_ = res_.take_parser();
  return attempt(source, sink, options); // no coroutine frame of its own
}

// The I/O buffer, borrowed when the first response bytes are there to read.
void upstream_exchange::take_buffer() {
  if (!buf_) buf_ = res_.take_buffer();
}

// How the exchange ended: the connection is kept only after a success (or an upgrade).
exchange_result upstream_exchange::finish(exchange_error e) {
  io_.clear_deadline(); // no stale deadline may reach a connection back in the pool
  io_.bind(nullptr);
  result_.error = e;
  if (e != exchange_error::none && !result_.upgraded) conn_.reset();
  return std::move(result_);
}

// One attempt on one connection. One that failed on a pooled connection before the upstream
// sent anything, with a request that can be written again, is made once more on a fresh one.
awaitable<exchange_result> upstream_exchange::attempt(request_source& source, response_sink& sink,
                                                      const exchange_options& options) {
  auto& result = result_;
  result.request_complete = false;
  const auto& cfg = pool_.config();
  if (!conn_ && !fresh_) conn_ = pool_.take_idle(endpoint_, !source.replayable());
  if (!conn_) {
    auto c = co_await pool_.connect(endpoint_);
    if (!c.conn) {
      result.detail = std::move(c.detail);
      co_return finish(connect_error(c.error));
    }
    conn_ = std::move(c.conn);
    if (aborted_) {
      // Aborted while connecting: nothing is sent; the fresh connection goes back unused.
      pool_.release(std::move(conn_));
      result.detail = "aborted";
      co_return finish(exchange_error::sink_failed);
    }
  }
  io_.bind(&conn_->stream());
  const bool retryable = conn_->reused() && source.replayable();
  parser_->reset();
  parser_->set_head_request(options.head_request);
  begin_ = end_ = 0;
  got_bytes_ = false;

  // 1. The request. A TLS connection's readable bytes may be session tickets rather than a
  // response, so early responses are only watched for on plain connections. A request whose
  // bytes are all at hand and that the socket takes at once needs no waiting (the common case).
  bool final_head = false;
  head_.clear();
  const auto request_head = source.head(head_);
  gather_.clear();
  gather_.emplace_back(request_head.data(), request_head.size());
  const auto step = source.take(gather_);
  const bool watch = options.detect_early && !conn_->stream().is_tls() &&
                     (gather_.size() > 1 || step == source_step::more);
  error_code write_error;
  if (step == source_step::done && io_.write_now(gather_, write_error) && gather_.empty()) {
    result.request_complete = true;
    source.sent();
  } else if (const auto e = co_await send_request(source, sink, step, watch, result, final_head);
             e != exchange_error::none) {
    if (e == exchange_error::write_failed && retryable && !got_bytes_) {
      co_return co_await retry(source, sink, options);
    }
    co_return finish(e);
  }

  // 2. The final response head, within request_timeout of the request going out.
  const auto deadline = timed_stream::after(cfg.request_timeout);
  while (!final_head) {
    auto progress = parse_head(result);
    if (progress == head_progress::interim) progress = co_await parse_and_relay(sink, result);
    switch (progress) {
    case head_progress::interim:
    case head_progress::final_head: final_head = true; continue;
    case head_progress::failed: co_return finish(result.error);
    case head_progress::need_more: break;
    }
    // On plain TCP the wait holds no I/O buffer (a slow or silent upstream costs the exchange,
    // not 16 KiB) and no read is tried before the socket is readable.
    error_code ec;
    std::size_t n = 0;
    if (conn_->stream().is_tls()) {
      take_buffer();
      std::tie(ec, n) =
          co_await io_.read_some(asio::buffer(buf_.get() + end_, io_buffer_size - end_), deadline);
    } else {
      std::tie(ec) = co_await io_.wait_readable(deadline);
      if (!ec) {
        take_buffer();
        n = io_.read_now(asio::buffer(buf_.get() + end_, io_buffer_size - end_), ec);
        if (!ec && n == 0) continue; // woken, yet nothing to read: wait again
      }
    }
    sink.arrived();
    if (sink.paced()) co_await sink.pace();
    if (io_.timed_out(ec)) co_return finish(exchange_error::head_timeout);
    if (ec) {
      if (retryable && !got_bytes_ && result.request_complete) {
        co_return co_await retry(source, sink, options);
      }
      result.detail = ec.message();
      co_return finish(exchange_error::reset);
    }
    got_bytes_ = true;
    end_ += n;
  }

  // 3. Upgrade, or the body.
  const auto& head = parser_->response();
  if (head.status == 101) {
    if (!options.allow_upgrade) {
      result.detail = "unexpected 101";
      co_return finish(exchange_error::malformed);
    }
    result.upgrade_leftover = {buf_.get() + begin_, end_ - begin_};
    result.upgraded = std::move(conn_);
    co_return finish(exchange_error::none);
  }
  // The head goes with the first body bytes; a response that is complete in the buffer and
  // that the sink takes at once needs no further waiting (the common case).
  body_state body{parser_->message_done()};
  const auto d = deliver_buffered(sink, result, body);
  if (d == delivery::failed) co_return finish(body.error);
  if (d == delivery::done && body.complete) {
    release_if_clean(result);
    co_return finish(exchange_error::none);
  }
  co_return finish(co_await relay_body(sink, result, body, d == delivery::pending));
}

// The second attempt, on a fresh connection (the pooled one had been closed by the upstream).
awaitable<exchange_result> upstream_exchange::retry(request_source& source, response_sink& sink,
                                                    const exchange_options& options) {
  conn_.reset();
  fresh_ = true;
  return attempt(source, sink, options);
}

// Writes the head and the body. With `detect_early`, writes of a request with a body stop when
// the upstream sends something: a final response that arrives before the request is complete
// ends the sending (RFC 9110 allows it; the upstream usually closes after it); an interim one
// is relayed and the writing goes on from where it stopped.
awaitable<exchange_error> upstream_exchange::send_request(request_source& source,
                                                          response_sink& sink, source_step step,
                                                          bool watch, exchange_result& result,
                                                          bool& final_head) {
  const auto io_timeout = pool_.config().io_timeout;
  for (;;) {
    if (step == source_step::failed) co_return exchange_error::source_failed;
    while (!gather_.empty()) {
      bool readable = false;
      io_result w;
      if (!io_.write_now(gather_, w.ec)) {
        // broken: handled below like a failed write
      } else if (gather_.empty()) {
        break;
      } else if (watch) { // the rest waits for room, or for the upstream to answer early
        w = co_await io_.write_unless_readable(gather_, timed_stream::after(io_timeout), readable);
      } else {
        const auto [ec, n] = co_await io_.write(gather_, timed_stream::after(io_timeout));
        w = {ec, n, io_.timed_out(ec)};
      }
      if (readable) {
        consume_buffers(gather_, w.bytes);
        const auto e = co_await check_early(sink, result, false, final_head);
        if (e != exchange_error::none || final_head) co_return e;
        continue; // an interim response or part of a head: go on writing
      }
      if (w.timed_out) co_return exchange_error::write_timeout;
      if (w.ec) {
        result.detail = w.ec.message();
        if (!watch) co_return exchange_error::write_failed;
        // The upstream may have answered, then closed: its response is still readable.
        const auto e = co_await check_early(sink, result, true, final_head);
        co_return e != exchange_error::none || final_head ? e : exchange_error::write_failed;
      }
      gather_.clear();
    }
    if (step == source_step::done) {
      result.request_complete = true;
      source.sent();
      co_return exchange_error::none;
    }
    // The upstream's last deadline must not fire into the watch while the client is awaited
    // (the client's own deadline bounds that wait).
    io_.clear_deadline();
    step = co_await source.next(gather_, watch ? &conn_->stream() : nullptr);
    if (step == source_step::interrupted) {
      // The upstream spoke while the client's body was awaited: an early response, an interim
      // one (then the wait goes on), or the close of a failed connection.
      const auto e = co_await check_early(sink, result, false, final_head);
      if (e != exchange_error::none || final_head) co_return e;
      step = source_step::more;
    }
  }
}

// Reads what the upstream sent while the request was being written. Sets `final_head` when a
// final response head is complete; an interim response is relayed.
awaitable<exchange_error> upstream_exchange::check_early(response_sink& sink,
                                                         exchange_result& result, bool write_failed,
                                                         bool& final_head) {
  const auto deadline = timed_stream::after(pool_.config().io_timeout);
  take_buffer();
  for (;;) {
    const auto [ec, n] =
        co_await io_.read_some(asio::buffer(buf_.get() + end_, io_buffer_size - end_), deadline);
    sink.arrived();
    if (ec) {
      if (io_.timed_out(ec)) co_return exchange_error::write_timeout;
      result.detail = ec.message();
      co_return got_bytes_ ? exchange_error::reset : exchange_error::write_failed;
    }
    got_bytes_ = true;
    end_ += n;
    auto progress = parse_head(result);
    if (progress == head_progress::interim) progress = co_await parse_and_relay(sink, result);
    switch (progress) {
    case head_progress::interim:
    case head_progress::final_head:
      final_head = true;
      result.early_response = true;
      co_return exchange_error::none;
    case head_progress::failed: co_return result.error;
    case head_progress::need_more: break;
    }
    // A partial head or interim responses: after a failed write, the rest must follow (the
    // upstream closed); otherwise the request goes on.
    if (!write_failed) co_return exchange_error::none;
  }
}

// Parses buffered response bytes up to the end of a head; stops at an interim head (the caller
// relays it) so that the common case costs no coroutine frame.
upstream_exchange::head_progress upstream_exchange::parse_head(exchange_result& result) {
  while (begin_ < end_) {
    const auto r = parser_->feed({buf_.get() + begin_, end_ - begin_});
    if (r.status == http::parse_status::error) {
      result.detail = parser_->error_reason();
      result.error = exchange_error::malformed;
      return head_progress::failed;
    }
    begin_ += r.consumed;
    if (r.status == http::parse_status::need_more) break;
    const auto& head = parser_->response();
    if (head.status >= 100 && head.status < 200 && head.status != 101) {
      if (r.status == http::parse_status::head_complete) return head_progress::interim;
      continue; // the interim message completes; the final response follows
    }
    return head_progress::final_head; // head_complete, or message_complete if body-less
  }
  begin_ = end_ = 0;
  return head_progress::need_more;
}

// Relays the interim head parse_head() stopped at, and any that follow in the buffer, up to a
// final head or the end of the buffered bytes (never returns `interim`).
awaitable<upstream_exchange::head_progress>
upstream_exchange::parse_and_relay(response_sink& sink, exchange_result& result) {
  auto progress = head_progress::interim;
  while (progress == head_progress::interim) {
    if (!co_await sink.interim(parser_->response())) {
      result.error = exchange_error::sink_failed;
      co_return head_progress::failed;
    }
    progress = parse_head(result);
  }
  co_return progress;
}

// Parses the buffered response bytes (none left unparsed afterwards unless the message ended)
// and hands the body pieces to the sink, with the head the first time.
delivery upstream_exchange::deliver_buffered(response_sink& sink, exchange_result& result,
                                             body_state& body) {
  parser_->clear_body();
  if (!body.complete) { // also with no bytes: a body-less response completes at its head
    const auto r = parser_->feed({buf_.get() + begin_, end_ - begin_});
    if (r.status == http::parse_status::error) {
      result.detail = parser_->error_reason();
      body.error = exchange_error::body_malformed;
      return delivery::failed;
    }
    begin_ += r.consumed;
    body.complete = r.status == http::parse_status::message_complete;
  }
  result.head_delivered = true;
  if (body.complete && !parser_->trailers().empty()) sink.trailers(parser_->trailers());
  const auto d = sink.deliver(parser_->response(), parser_->body(), body.first, body.complete);
  if (d == delivery::failed) body.error = exchange_error::sink_failed;
  body.first = false;
  return d;
}

// Reused only when both messages ended exactly: bytes past the response (or a request the
// upstream did not read to its end) would be taken for the next exchange's.
void upstream_exchange::release_if_clean(const exchange_result& result) {
  if (conn_ && result.request_complete && parser_->response().frame.keep_alive && begin_ == end_ &&
      !parser_->needs_eof()) {
    conn_->count_request();
    pool_.release(std::move(conn_));
  }
}

// Streams the rest of the final response's body into the sink (after deliver_buffered()):
// `pending` when the sink still has the last pieces to finish.
awaitable<exchange_error> upstream_exchange::relay_body(response_sink& sink,
                                                        exchange_result& result, body_state& body,
                                                        bool pending) {
  const auto io_timeout = pool_.config().io_timeout;
  for (;;) {
    if (pending) {
      const bool flushed = co_await sink.flush();
      if (!flushed) co_return exchange_error::sink_failed;
    }
    if (body.complete) break;
    begin_ = end_ = 0;
    const auto [ec, n] = co_await io_.read_some(asio::buffer(buf_.get(), io_buffer_size),
                                                timed_stream::after(io_timeout));
    sink.arrived();
    if (sink.paced()) co_await sink.pace();
    if (io_.timed_out(ec)) co_return exchange_error::body_timeout;
    if (ec) {
      result.detail = ec.message();
      if (!is_eof(ec) || parser_->finish().status != http::parse_status::message_complete) {
        co_return exchange_error::body_reset;
      }
      // A close-delimited body ended: the connection is spent.
      conn_.reset();
      parser_->clear_body();
      const auto d = sink.deliver(parser_->response(), parser_->body(), false, true);
      if (d == delivery::failed) co_return exchange_error::sink_failed;
      if (d == delivery::pending) {
        if (!co_await sink.flush()) co_return exchange_error::sink_failed;
      }
      co_return exchange_error::none;
    }
    end_ = n;
    const auto d = deliver_buffered(sink, result, body);
    if (d == delivery::failed) co_return body.error;
    pending = d == delivery::pending;
  }
  release_if_clean(result);
  co_return exchange_error::none;
}

} // namespace parallax::proxy::net
