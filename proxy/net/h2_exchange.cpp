// The upstream exchange over HTTP/2 (`protocol: h2|h2c`): one stream on a connection shared
// with other exchanges. The request is sent (head from the source's fields, body as DATA under
// the upstream's flow control), then the response is relayed to the sink: interim heads, the
// final head with the body as it arrives, trailers before the last piece. When the response
// begins while the rest of a full-duplex source's body (an HTTP/2 client's) is awaited, the
// request goes on being sent while the response is relayed (gRPC's bidirectional streaming):
// two coroutines, the response's end stopping the sending, a failed sending stopping the
// exchange. Requests whose body is whole before any answer (most) take one coroutine. Every
// wait has a deadline: io_timeout for room to send and for each piece of the body,
// request_timeout for the final head (counted from the request's end, or while it is still
// sent from the stream's latest event). A stream the server never processed (REFUSED_STREAM,
// beyond its GOAWAY, or still queued when the connection closed) is sent again on another
// connection when the request can be: it has no body, or one of at most retry_body_limit,
// kept while it was sent; up to refused_attempts times in all (the connection a retry takes
// may be going away too), once when only the part of the body taken so far was kept.

#include <boost/asio/experimental/parallel_group.hpp>

#include <nghttp2/nghttp2.h>

#include "proxy/net/h2_upstream.hpp"
#include "proxy/net/upstream_exchange.hpp"

namespace parallax::proxy::net {

namespace {
using clock = std::chrono::steady_clock;

// Request body bytes queued for DATA frames before the source is asked for more.
constexpr std::size_t request_queue_limit = 64UL * 1024UL;

// What the receiving half of a full-duplex exchange returns: a type of its own, so the
// parallel group's condition tells the two halves apart.
struct received {
  exchange_error error;
};

// When a half of a full-duplex exchange ends, whether the other is cancelled: the sending half
// when the response ended (however), the receiving half when the sending failed.
struct duplex_condition {
  asio::cancellation_type_t operator()(const std::exception_ptr&, const received&) const {
    return asio::cancellation_type::terminal;
  }
  asio::cancellation_type_t operator()(const std::exception_ptr& ep, exchange_error e) const {
    return ep || (e != exchange_error::none && e != exchange_error::write_failed)
               ? asio::cancellation_type::terminal
               : asio::cancellation_type::none;
  }
};

bool refused(const h2_upstream_stream& st) {
  return st.closed && st.close_code == NGHTTP2_REFUSED_STREAM && !st.have_head &&
         st.interims.empty();
}

// A request body up to this size is kept while it is sent, so a stream the server refused
// (REFUSED_STREAM, or above its GOAWAY: never processed) can be sent again on another
// connection, as nghttpx does; nginx's http2_max_requests (1000) sends such GOAWAYs routinely.
constexpr std::size_t retry_body_limit = 64UL * 1024UL;
// Attempts of a request whose streams the servers keep refusing: a bound, not a budget (each
// attempt is a stream submitted on another connection; no server ever saw the earlier ones).
constexpr int refused_attempts = 4;
} // namespace

void upstream_exchange::drop_h2_stream() {
  if (!h2_conn_ || !h2_stream_) return;
  h2_conn_->release(*h2_stream_);
  h2_conn_->recycle(std::move(h2_stream_));
}

exchange_result upstream_exchange::h2_finish(exchange_error e) {
  if (h2_conn_ && h2_stream_) {
    h2_conn_->release(*h2_stream_);
    h2_home_ = h2_conn_; // the stream (its head: response()) goes back when the exchange ends
  }
  // A large kept body is not held by an idle connection or stream until its next exchange.
  if (head_.capacity() > 16UL * 1024UL) std::string().swap(head_);
  h2_conn_.reset();
  result_.error = e;
  return std::move(result_);
}

awaitable<exchange_result> upstream_exchange::run_h2(request_source& source, response_sink& sink,
                                                     const exchange_options& options) {
  const auto& cfg = pool_.config();
  const auto parts = source.parts();
  if (parts.head == nullptr) {
    result_.detail = "this request cannot be sent to an HTTP/2 upstream";
    co_return h2_finish(exchange_error::source_failed);
  }
  const auto& req = *parts.head;
  std::string_view path = http::origin_form(req.target);
  std::string fixed_path; // only for a target without its leading "/"
  if (path.empty() || path.front() == '?') {
    fixed_path.assign("/").append(path);
    path = fixed_path;
  }
  const auto authority = req.headers.find(http::field::host).value_or(cfg.endpoints.front().host);
  h2::request_fields request{req.method,
                             cfg.protocol == config::upstream_protocol::h2 ? "https" : "http",
                             authority,
                             path,
                             {}};
  const bool body = req.has_body();
  // The caller's head storage (HTTP/1.1 heads only) keeps the body for a refused stream's retry:
  // reused from exchange to exchange, it allocates nothing once it has grown.
  head_.clear();
  h2_keep_ = false;
  h2_kept_whole_ = false;
  (void)options; // HEAD: the upstream's HEADERS end the stream; no body is waited for
  for (int attempt = 0;; ++attempt) {
    connect_result failure;
    h2_conn_ = pool_.available_h2();
    if (!h2_conn_) h2_conn_ = co_await pool_.take_h2(res_.deadlines, failure);
    if (aborted_) {
      result_.detail = "aborted";
      co_return h2_finish(exchange_error::sink_failed); // the caller gave up meanwhile
    }
    if (!h2_conn_) {
      result_.detail = std::move(failure.detail);
      co_return h2_finish(connect_error(failure.error));
    }
    h2_stream_ = h2_conn_->new_stream();
    // The fields go into the connection's reused list; the codec copies them as it submits.
    request.headers = h2_conn_->forwarded_fields(req, parts.forwarding);
    if (!h2_conn_->submit(*h2_stream_, request, body)) {
      if (attempt == 0) continue; // it went away meanwhile: another connection
      result_.detail = "the HTTP/2 connection took no new stream";
      co_return h2_finish(exchange_error::connect_failed);
    }
    // A refused stream's body (all that was taken of it) goes again first; the rest, if any,
    // still comes from the source.
    const bool resend = attempt > 0 && (h2_keep_ || h2_kept_whole_);
    h2_keep_ = attempt == 0 && body && !source.replayable();
    source_step first = source_step::done;
    if (resend) {
      gather_.clear();
      gather_.emplace_back(head_.data(), head_.size());
      if (!h2_kept_whole_) first = source_step::more; // else it goes again as it is
    } else {
      first = source.take(gather_);
    }
    // A whole request the windows take at once needs no sending coroutine (most unary calls).
    auto e = first != source_step::failed && h2_queue(source, first)
                 ? exchange_error::none
                 : co_await h2_send(source, first);
    if (h2_switch_ && !aborted_) {
      co_return h2_finish(co_await h2_duplex(source, sink, source_step::more));
    }
    if (aborted_) {
      result_.detail = "aborted";
      co_return h2_finish(exchange_error::sink_failed);
    }
    const bool again = attempt + 1 < refused_attempts &&
                       (source.replayable() || h2_keep_ || (attempt > 0 && h2_kept_whole_));
    if (refused(*h2_stream_) && again) {
      drop_h2_stream();
      continue;
    }
    // Sent, or answered early (the rest of the body is not sent; the stream is cancelled when
    // the exchange ends), or reset after a response head: the response decides.
    if (e == exchange_error::none || (e == exchange_error::write_failed && h2_stream_->have_head)) {
      e = co_await h2_receive(sink);
      if (e == exchange_error::reset && refused(*h2_stream_) && again && !aborted_ &&
          !h2_interims_sent_) {
        drop_h2_stream(); // refused after it was sent: nothing reached the sink
        continue;
      }
    }
    co_return h2_finish(e);
  }
}

// Queues what the source's last take gave (`step`) on the stream. True when that completed a
// request the flow-control windows take at once (most unary calls): it goes out with the
// connection's next write, nothing is waited for (the response's wait covers the rest: a
// connection that cannot write fails, and its streams with it).
bool upstream_exchange::h2_queue(request_source& source, source_step step) {
  auto& st = *h2_stream_;
  for (const auto& b : gather_) {
    const std::string_view piece(static_cast<const char*>(b.data()), b.size());
    st.req.append(piece);
    if (h2_keep_ && head_.size() + piece.size() <= retry_body_limit) {
      head_.append(piece);
    } else {
      h2_keep_ = false;
    }
  }
  gather_.clear();
  if (step == source_step::done) {
    st.req_end = true;
    st.req_trailers = source.trailers();
    if (h2_keep_) h2_kept_whole_ = true; // stays so while the kept body is sent again
  }
  h2_conn_->resume(st);
  if (!st.req_end || st.closed || st.ended || aborted_ || !h2_conn_->window_takes(st)) return false;
  result_.request_complete = true;
  source.sent();
  if (h2_sending_) st.notify(); // the response's head deadline now counts from here
  return true;
}

// The request body into the stream's queue, as the upstream's window takes it (`step` is what
// the source's last take() gave; queuing it again after h2_queue() adds nothing).
awaitable<exchange_error> upstream_exchange::h2_send(request_source& source, source_step step) {
  auto& st = *h2_stream_;
  const auto io_timeout = pool_.config().io_timeout;
  for (;;) {
    if (step == source_step::failed) co_return exchange_error::source_failed;
    if (h2_queue(source, step)) co_return exchange_error::none;
    // Wait for room (or for the end of what was queued to go out). A complete response that
    // comes first ends the sending: the upstream answered early. (A response head alone does
    // not: a streaming call answers while the client still sends.)
    while (!st.closed && !st.ended &&
           (st.req.size() - st.req_off > request_queue_limit || (st.req_end && !st.req.empty()))) {
      if (!notified(co_await wait_notice(st.room, clock::now() + io_timeout)) && !st.closed &&
          !st.ended && !st.req.empty()) {
        co_return exchange_error::write_timeout; // the upstream stopped taking the body
      }
      // An answer while the body waits for room (the upstream may read no more until its
      // response is taken): both directions at once from here.
      if (!h2_sending_ && source.full_duplex() && !st.ended &&
          (st.have_head || !st.interims.empty() || !st.body.empty())) {
        h2_switch_ = true;
        co_return exchange_error::none;
      }
    }
    if (aborted_) co_return exchange_error::sink_failed;
    if (st.ended && !(st.req_end && st.req.empty())) {
      result_.early_response = true;
      co_return exchange_error::none;
    }
    if (st.closed && !(st.req_end && st.req.empty())) co_return exchange_error::write_failed;
    if (st.req_end) {
      result_.request_complete = true;
      source.sent();
      if (h2_sending_) st.notify(); // the response's head deadline now counts from here
      co_return exchange_error::none;
    }
    if (!h2_sending_ && source.full_duplex()) {
      // The rest of the body is awaited; a response that begins meanwhile (a bidirectional
      // call's answer to what was sent, an early answer) switches to both directions at once.
      if (refused(st)) co_return exchange_error::write_failed; // retried by the caller
      if (st.have_head || !st.interims.empty() || !st.body.empty() || st.ended || st.closed) {
        h2_switch_ = true;
        co_return exchange_error::none;
      }
      st.waiting = &source;
      step = co_await source.next(gather_, nullptr);
      st.waiting = nullptr;
      if (step == source_step::interrupted) {
        if (refused(st)) co_return exchange_error::write_failed; // retried by the caller
        h2_switch_ = true;
        co_return exchange_error::none;
      }
    } else {
      step = co_await source.next(gather_, nullptr);
    }
    if (aborted_) co_return exchange_error::sink_failed;
  }
}

// The response: interim heads, the final head, the body as it comes, trailers, the end.
awaitable<exchange_error> upstream_exchange::h2_receive(response_sink& sink) {
  auto& st = *h2_stream_;
  const auto& cfg = pool_.config();
  auto head_deadline = clock::now() + cfg.request_timeout;
  bool from_end = !h2_sending_; // the head deadline counts from the request's end
  for (;;) {
    // Interim heads first, in order, also when the final one came in the same read.
    for (const auto& interim : st.interims) {
      h2_interims_sent_ = true;
      if (!co_await sink.interim(interim)) co_return exchange_error::sink_failed;
    }
    st.interims.clear();
    if (aborted_)
      co_return exchange_error::sink_failed; // the caller gave up: not the upstream's fault
    if (st.have_head) break;
    if (st.closed) {
      result_.detail = "HTTP/2 stream reset with code " + std::to_string(st.close_code);
      co_return exchange_error::reset;
    }
    // While the request is still sent, request_timeout counts from the stream's latest event
    // (the sending wakes this on its progress and at its end).
    if (!from_end) {
      head_deadline = clock::now() + cfg.request_timeout;
      from_end = result_.request_complete;
    }
    if (!notified(co_await wait_notice(st.wake, head_deadline)) && !st.have_head &&
        st.interims.empty() && !st.closed) {
      co_return exchange_error::head_timeout;
    }
  }
  bool first = true;
  // The body at hand is swapped into the stream's relay buffer while it is handed on (more may
  // arrive meanwhile); both buffers stay with the stream for its next exchange.
  auto& piece = st.relay;
  auto& pieces = st.pieces;
  for (;;) {
    if (first || !st.body.empty() || st.ended) {
      piece.clear();
      piece.swap(st.body);
      const bool complete = st.ended;
      if (complete && st.have_trailers) sink.trailers(st.trailers);
      pieces.clear();
      if (!piece.empty()) pieces.emplace_back(piece);
      sink.arrived();
      if (sink.paced()) co_await sink.pace(); // a shadow leg yields to live work
      const auto d = sink.deliver(st.head, pieces, first, complete);
      first = false;
      result_.head_delivered = true;
      if (d == delivery::failed) co_return exchange_error::sink_failed;
      if (d == delivery::pending && !co_await sink.flush()) co_return exchange_error::sink_failed;
      h2_conn_->consume(st, piece.size()); // handed on: the upstream may send as much again
      if (complete) co_return exchange_error::none;
      continue;
    }
    if (aborted_) co_return exchange_error::sink_failed;
    if (st.closed) {
      result_.detail = "HTTP/2 stream reset with code " + std::to_string(st.close_code);
      co_return exchange_error::body_reset;
    }
    if (!notified(co_await wait_notice(st.wake, clock::now() + cfg.io_timeout)) &&
        st.body.empty() && !st.ended && !st.closed) {
      co_return exchange_error::body_timeout;
    }
  }
}

// Both directions at once: the rest of the request body while the response is relayed. The
// exchange ends with the response (a request still being sent is cancelled: the stream's
// release resets it) or with a failed sending (the response's relay is cancelled).
awaitable<exchange_error> upstream_exchange::h2_duplex(request_source& source, response_sink& sink,
                                                       source_step step) {
  h2_sending_ = true;
  h2_stream_->relaying = true;
  source.relaying(); // its waits for the client end with the relay, not at a deadline of their own
  const auto ex = co_await asio::this_coro::executor;
  auto send = [this, &source, step]() -> awaitable<exchange_error> {
    co_return co_await h2_send(source, step);
  };
  auto receive = [this, &sink]() -> awaitable<received> {
    co_return received{co_await h2_receive(sink)};
  };
  const auto [order, send_ep, sent, receive_ep, got] =
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(ex, send(), asio::deferred), asio::co_spawn(ex, receive(), asio::deferred))
          .async_wait(duplex_condition{}, asio::deferred);
  h2_sending_ = false;
  if (h2_stream_) h2_stream_->relaying = false;
  if (aborted_) co_return exchange_error::sink_failed;
  // The response decides, unless the sending failed first (then the relay was cancelled).
  const bool send_failed =
      send_ep || (sent != exchange_error::none && sent != exchange_error::write_failed);
  if (order[0] == 0 && send_failed) co_return send_ep ? exchange_error::source_failed : sent;
  if (receive_ep) co_return exchange_error::reset;
  // The response ended while the client still sent: an early answer, as on the one-way path.
  if (got.error == exchange_error::none && !result_.request_complete) result_.early_response = true;
  co_return got.error;
}

} // namespace parallax::proxy::net
