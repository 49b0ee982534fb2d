// The upstream exchange over HTTP/2 (`protocol: h2|h2c`): one stream on a connection shared
// with other exchanges. The request is sent (head from the source's fields, body as DATA under
// the upstream's flow control), then the response is relayed to the sink: interim heads, the
// final head with the body as it arrives, trailers before the last piece. Every wait has a
// deadline: io_timeout for room to send and for each piece of the body, request_timeout for
// the final head. A stream the server refused (REFUSED_STREAM, or beyond its GOAWAY) is retried
// once on another connection when the request can be sent again.

#include <nghttp2/nghttp2.h>

#include "proxy/net/h2_upstream.hpp"
#include "proxy/net/upstream_exchange.hpp"

namespace parallax::proxy::net {

namespace {
using clock = std::chrono::steady_clock;

// Request body bytes queued for DATA frames before the source is asked for more.
constexpr std::size_t request_queue_limit = 64UL * 1024UL;

// Waits for `st` to be notified, until `deadline`; false when the deadline passed.
awaitable<bool> wait(h2_upstream_stream& st, clock::time_point deadline) {
  st.wake.expires_at(deadline);
  const auto [ec] = co_await st.wake.async_wait(use_nothrow);
  co_return ec == asio::error::operation_aborted;
}

bool refused(const h2_upstream_stream& st) {
  return st.closed && st.close_code == NGHTTP2_REFUSED_STREAM && !st.have_head;
}
} // namespace

exchange_result upstream_exchange::h2_finish(exchange_error e) {
  if (h2_conn_ && h2_stream_) h2_conn_->release(*h2_stream_);
  h2_conn_.reset();
  result_.error = e;
  return std::move(result_);
}

awaitable<exchange_result> upstream_exchange::run_h2(request_source& source,
                                                     response_sink& sink,
                                                     const exchange_options& options) {
  const auto& cfg = pool_.config();
  const auto parts = source.parts();
  if (parts.head == nullptr) {
    result_.detail = "this request cannot be sent to an HTTP/2 upstream";
    co_return h2_finish(exchange_error::source_failed);
  }
  const auto& req = *parts.head;
  http::header_list fields;
  http::forwarded_fields(fields, req, parts.forwarding);
  std::string path(http::origin_form(req.target));
  if (path.empty() || path.front() == '?') path.insert(0, "/");
  const auto authority = req.headers.find(http::field::host).value_or(cfg.endpoints.front().host);
  const h2::request_fields request{req.method, cfg.protocol == config::upstream_protocol::h2 ? "https" : "http",
                                   authority, path, &fields};
  const bool body = req.has_body();
  (void)options; // HEAD: the upstream's HEADERS end the stream; no body is waited for
  for (int attempt = 0;; ++attempt) {
    connect_result failure;
    h2_conn_ = co_await pool_.take_h2(res_.deadlines, failure);
    if (aborted_) {
      result_.detail = "aborted";
      co_return h2_finish(exchange_error::sink_failed); // the caller gave up meanwhile
    }
    if (!h2_conn_) {
      result_.detail = std::move(failure.detail);
      co_return h2_finish(connect_error(failure.error));
    }
    h2_stream_ = std::make_unique<h2_upstream_stream>(h2_conn_->executor());
    if (!h2_conn_->submit(*h2_stream_, request, body)) {
      if (attempt == 0) continue; // it went away meanwhile: another connection
      result_.detail = "the HTTP/2 connection took no new stream";
      co_return h2_finish(exchange_error::connect_failed);
    }
    auto e = co_await h2_send(source);
    if (aborted_) {
      result_.detail = "aborted";
      co_return h2_finish(exchange_error::sink_failed);
    }
    if (refused(*h2_stream_) && attempt == 0 && source.replayable()) {
      h2_conn_->release(*h2_stream_);
      continue;
    }
    // Sent, or answered early (the rest of the body is not sent; the stream is cancelled when
    // the exchange ends), or reset after a response head: the response decides.
    if (e == exchange_error::none || (e == exchange_error::write_failed && h2_stream_->have_head)) {
      e = co_await h2_receive(sink);
    }
    co_return h2_finish(e);
  }
}

// The request body into the stream's queue, as the upstream's window takes it.
awaitable<exchange_error> upstream_exchange::h2_send(request_source& source) {
  auto& st = *h2_stream_;
  const auto io_timeout = pool_.config().io_timeout;
  auto step = source.take(gather_);
  for (;;) {
    if (step == source_step::failed) co_return exchange_error::source_failed;
    for (const auto& b : gather_)
      st.req.append(static_cast<const char*>(b.data()), b.size());
    gather_.clear();
    if (step == source_step::done) st.req_end = true;
    h2_conn_->resume(st);
    // Wait for room (or for the end of what was queued to go out). A complete response that
    // comes first ends the sending: the upstream answered early. (A response head alone does
    // not: a streaming call answers while the client still sends.)
    while (!st.closed && !st.ended &&
           (st.req.size() - st.req_off > request_queue_limit || (st.req_end && !st.req.empty()))) {
      if (!co_await wait(st, clock::now() + io_timeout) && !st.closed && !st.ended &&
          !st.req.empty()) {
        co_return exchange_error::write_timeout; // the upstream stopped taking the body
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
      co_return exchange_error::none;
    }
    step = co_await source.next(gather_, nullptr);
    if (aborted_) co_return exchange_error::sink_failed;
  }
}

// The response: interim heads, the final head, the body as it comes, trailers, the end.
awaitable<exchange_error> upstream_exchange::h2_receive(response_sink& sink) {
  auto& st = *h2_stream_;
  const auto& cfg = pool_.config();
  const auto head_deadline = clock::now() + cfg.request_timeout;
  for (;;) {
    // Interim heads first, in order, also when the final one came in the same read.
    for (const auto& interim : st.interims) {
      if (!co_await sink.interim(interim)) co_return exchange_error::sink_failed;
    }
    st.interims.clear();
    if (aborted_) co_return exchange_error::sink_failed; // the caller gave up: not the upstream's fault
    if (st.have_head) break;
    if (st.closed) {
      result_.detail = "HTTP/2 stream reset with code " + std::to_string(st.close_code);
      co_return exchange_error::reset;
    }
    if (!co_await wait(st, head_deadline) && !st.have_head && st.interims.empty() && !st.closed) {
      co_return exchange_error::head_timeout;
    }
  }
  bool first = true;
  std::string piece;
  std::vector<std::string_view> pieces;
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
    if (!co_await wait(st, clock::now() + cfg.io_timeout) && st.body.empty() && !st.ended &&
        !st.closed) {
      co_return exchange_error::body_timeout;
    }
  }
}

} // namespace parallax::proxy::net
