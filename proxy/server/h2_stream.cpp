// One HTTP/2 request stream as an exchange: admitted and routed like an HTTP/1.1 request,
// forwarded through the upstream exchange (the stream's body as its source, translated to
// HTTP/1.1 framing; the stream's response queue as its sink), observed by the same tap; run
// by the connection's stream runners (run_streams).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <nghttp2/nghttp2.h>

#include "proxy/http/serializer.hpp"
#include "proxy/server/exchange_accounting.hpp"
#include "proxy/server/h2_stream.hpp"
#include "proxy/server/runtime.hpp"
#include "proxy/server/worker.hpp"

namespace parallax::proxy::server {

namespace {
constexpr std::string_view crlf = "\r\n";

enum class woken { notified, timed_out, upstream_readable };

// Like wait_notice(), but also ends when `watched` (the upstream) turns readable: an early answer.
awaitable<woken> wait_or_readable(std::chrono::steady_clock::time_point deadline,
                                  asio::steady_timer& wake, net::stream& watched) {
  wake.expires_at(deadline);
  const auto [order, timer_ec, watch_ec] =
      co_await asio::experimental::make_parallel_group(
          wake.async_wait(asio::deferred),
          watched.socket().async_wait(tcp::socket::wait_read, asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), use_nothrow);
  if (order[0] == 1 && !watch_ec) co_return woken::upstream_readable;
  co_return timer_ec == asio::error::operation_aborted ? woken::notified : woken::timed_out;
}
} // namespace

/// The stream's request: the head as an HTTP/1.1 upstream gets it (Host from :authority, a
/// body with the client's Content-Length or else chunked), then the DATA bytes as they come.
/// Bytes taken reopen the stream's window when the next ones are taken (their buffers were
/// written by then).
class h2_connection::stream_source final : public net::request_source {
public:
  stream_source(h2_connection& c, stream_state& st, http::body_framing framing)
      : c_(c), st_(st), framing_(framing) {}

  ~stream_source() override { release(); }

  net::request_parts parts() override { return {&st_.head, {c_.client_ip_, c_.client_.is_tls()}}; }

  std::string_view head(std::string& scratch) override {
    http::write_request_head(scratch, st_.head, {c_.client_ip_, c_.client_.is_tls()}, framing_,
                             st_.head.frame.content_length.value_or(0));
    return scratch;
  }

  net::source_step take(std::vector<asio::const_buffer>& out) override {
    release();
    if (st_.body_less || ended_) return net::source_step::done;
    const bool chunked = framing_ == http::body_framing::chunked;
    if (!st_.in.empty()) {
      std::swap(st_.in, st_.lent);
      body_bytes_ += st_.lent.size();
      const auto limit = st_.rt->cfg->limits.max_request_body_bytes;
      if (limit != 0 && body_bytes_ > limit) {
        st_.fault = client_fault::body_too_large;
        return net::source_step::failed;
      }
      if (chunked) {
        chunk_line_.clear();
        http::write_chunk_size(chunk_line_, st_.lent.size());
        out.emplace_back(chunk_line_.data(), chunk_line_.size());
      }
      out.emplace_back(st_.lent.data(), st_.lent.size());
      if (chunked) out.emplace_back(crlf.data(), crlf.size());
      if (st_.tap) st_.tap->request_body({std::string_view(st_.lent)});
    }
    if (!st_.request_ended) return net::source_step::more;
    if (chunked) { // the last chunk, with the client's trailer fields that may be passed on
      last_chunk_.clear();
      http::write_last_chunk(last_chunk_, st_.request_trailers);
      out.emplace_back(last_chunk_.data(), last_chunk_.size());
    }
    ended_ = true;
    return net::source_step::done;
  }

  awaitable<net::source_step> next(std::vector<asio::const_buffer>& out,
                                   net::stream* watch) override {
    for (;;) {
      const auto before = out.size();
      const auto step = take(out);
      if (step != net::source_step::more || out.size() != before) co_return step;
      if (interrupt_) {
        interrupt_ = false;
        co_return net::source_step::interrupted;
      }
      if (st_.closed) break;
      const auto deadline = clock::now() + st_.rt->cfg->limits.client_io_timeout;
      auto why = woken::notified;
      if (watch != nullptr) {
        why = co_await wait_or_readable(deadline, st_.wake, *watch);
      } else if (!notified(co_await wait_notice(st_.wake, deadline))) {
        why = woken::timed_out;
      }
      if (why == woken::upstream_readable) co_return net::source_step::interrupted;
      if (why == woken::timed_out && st_.in.empty() && !st_.request_ended && !relaying_) break;
    }
    st_.fault = client_fault::gone;
    co_return net::source_step::failed;
  }

  [[nodiscard]] bool replayable() const override { return st_.body_less; }
  const http::header_list* trailers() override {
    return st_.request_trailers.empty() ? nullptr : &st_.request_trailers;
  }
  [[nodiscard]] bool full_duplex() const override { return true; }
  void interrupt() override {
    interrupt_ = true;
    st_.wake.cancel();
  }
  void relaying() override { relaying_ = true; }

  void sent() override {
    if (st_.tap) st_.tap->request_complete();
  }

private:
  // The bytes lent to the last write were written: the client may send as many again.
  void release() {
    if (st_.lent.empty()) return;
    c_.codec_->consume(st_.id, st_.lent.size());
    st_.lent.clear();
    c_.wake_writer();
  }

  h2_connection& c_;
  stream_state& st_;
  http::body_framing framing_;
  std::uint64_t body_bytes_ = 0;
  bool ended_ = false;
  bool interrupt_ = false; // interrupt() was called: next() returns `interrupted`
  bool relaying_ = false;  // relaying() was called: no client_io_timeout while waiting
  std::string chunk_line_;
  std::string last_chunk_; // with the client's trailer fields, if any
};

/// The stream's response: interim heads as HEADERS, the final head (HTTP/1.1 connection
/// fields left out), then the body through the stream's bounded queue; each piece goes to the
/// tap once queued.
class h2_connection::stream_sink final : public net::response_sink {
public:
  stream_sink(h2_connection& c, stream_state& st) : c_(c), st_(st) {}

  awaitable<bool> interim(const http::response_head& head) override {
    if (head.status == 100) co_return true; // Expect is not forwarded
    if (st_.closed || !c_.codec_->interim(st_.id, {head.status, &head.headers, {}})) {
      st_.fault = client_fault::gone;
      co_return false;
    }
    c_.wake_writer();
    co_return true;
  }

  void trailers(const http::header_list& fields) override {
    st_.trailers = fields;
    st_.have_trailers = true;
    if (st_.tap) st_.tap->response_trailers(fields);
  }

  net::delivery deliver(const http::response_head& head, const std::vector<std::string_view>& body,
                        bool first, bool complete) override {
    if (st_.closed) {
      st_.fault = client_fault::gone;
      return net::delivery::failed;
    }
    if (complete && st_.tap) st_.tap->response_received();
    const auto total = total_size(body);
    if (first) {
      if (st_.tap) st_.tap_end = exchange_end::client_aborted; // until the response is out
      const bool no_body = st_.head.method == "HEAD" || head.status == 204 || head.status == 304;
      // Trailers need DATA to follow the head (they end the stream after it).
      with_body_ = !no_body && !(complete && total == 0 && !st_.have_trailers);
      st_.responded = true;
      if (!c_.codec_->respond(st_.id, {head.status, &head.headers, {}}, with_body_)) {
        st_.fault = client_fault::gone;
        return net::delivery::failed;
      }
    }
    if (with_body_) {
      for (auto piece : body)
        st_.out.append(piece);
      if (complete) st_.out_end = true;
      c_.codec_->resume(st_.id);
    } else if (complete) {
      st_.out_end = true;
    }
    c_.wake_writer();
    pending_ = {&head, &body, first, total};
    if (st_.queued() > c_.response_queue_limit()) return net::delivery::pending;
    delivered();
    return net::delivery::done;
  }

  awaitable<bool> flush() override {
    while (st_.queued() > c_.response_queue_limit() && !st_.closed) {
      const auto deadline = clock::now() + st_.rt->cfg->limits.client_io_timeout;
      if (!notified(co_await wait_notice(st_.room, deadline)) &&
          st_.queued() > c_.response_queue_limit())
        break;
    }
    if (st_.closed || st_.queued() > c_.response_queue_limit()) {
      st_.fault = client_fault::gone;
      co_return false;
    }
    delivered();
    co_return true;
  }

private:
  void delivered() { pending_.delivered(st_.tap.get(), st_.response_bytes); }

  h2_connection& c_;
  stream_state& st_;
  bool with_body_ = false;
  pending_delivery pending_;
};

bool h2_connection::admit_stream(stream_state& st, std::size_t& route) {
  st.started = clock::now();
  st.rt = worker_.rt(); // the snapshot in force when the head arrived, for the whole stream
  if (st.refused == h2::head_refusal::too_large) {
    respond_failure(st, failure::head_too_large);
    return false;
  }
  // A refusal counts under the route it matched too.
  if (const auto refused = admit(*st.rt, st.head, st.route_index)) {
    respond_failure(st, refused->why);
    return false;
  }
  route = static_cast<std::size_t>(st.route_index);
  if (st.closed) {
    st.fault = client_fault::gone; // reset in the read that opened it: never forwarded
    return false;
  }
  return true;
}

void h2_connection::end_stream(stream_state& st) {
  record_exchange(*st.rt, {&st.head, client_ip_, "HTTP/2.0", st.route_index, st.status,
                           st.response_bytes, st.started});
  if (st.tap) {
    st.tap->finish(st.tap_end);
    st.tap.reset();
  }
  finish_stream(st);
}

awaitable<void> h2_connection::run_streams(std::shared_ptr<stream_state> st) {
  stream_runner self(worker_.io().get_executor());
  while (st) {
    // The stream's exchange, in this frame: no coroutine frame of its own.
    if (std::size_t route = 0; admit_stream(*st, route)) {
      auto& pool = begin_forward(*st, route);
      // HTTP/2 upstreams take the body as it is (DATA frames); HTTP/1.1 ones need a length or
      // chunks.
      const bool h2_upstream = pool.config().protocol != config::upstream_protocol::http1;
      const auto framing = st->body_less ? http::body_framing::none
                           : st->head.frame.content_length || h2_upstream
                               ? http::body_framing::content_length
                               : http::body_framing::chunked;
      net::upstream_exchange exchange(worker_.resources(), pool, st->upstream_head, st->gather);
      stream_source source(*this, *st, framing);
      stream_sink sink(*this, *st);
      net::exchange_options options;
      options.head_request = st->head.method == "HEAD";
      st->active = &exchange;
      const auto result = co_await exchange.run(source, sink, options);
      st->active = nullptr;
      st->status = result.head_delivered ? exchange.response().status : 0;
      end_forward(*st, route, result);
    }
    end_stream(*st);
    st.reset(); // its state may be reused (spare_) once it left streams_
    // Idle until the next stream; none comes once the reader stopped.
    if (!reading_ || closed_ || idle_runners_.size() >= idle_runner_limit) break;
    idle_runners_.push_back(&self);
    co_await wait_notice(self.wake, clock::time_point::max());
    st = std::move(self.next);
  }
  if (--runners_ == 0) streams_done_.cancel();
}

net::upstream_pool& h2_connection::begin_forward(stream_state& st, std::size_t route_index) {
  const auto& rt = *st.rt;
  if (auto* observer = worker_.observer(); observer != nullptr) {
    st.tap = observer->begin({route_index, &st.rt, &st.head, client_ip_, client_.is_tls()});
    st.tap_end = exchange_end::live_error; // until the live response head arrives
  }
  return worker_.pool(rt, *rt.route_upstreams[route_index]);
}

void h2_connection::end_forward(stream_state& st, std::size_t route_index,
                                const net::exchange_result& result) {
  if (result.error == net::exchange_error::none) {
    st.tap_end = result.early_response ? exchange_end::live_error : exchange_end::complete;
    return;
  }
  const auto& rt = *st.rt;
  const auto plan = outcome_for(result.error, result.head_delivered, st.fault);
  st.tap_end = plan.tap_end;
  count_upstream_failure(rt, route_index, result.error, result.detail,
                         rt.cfg->routes[route_index].upstream);
  switch (plan.what) {
  case exchange_outcome::action::respond: respond_failure(st, plan.response); break;
  case exchange_outcome::action::truncate:
    // The head is out: the client sees the stream reset, never a shortened body.
    if (!st.closed) codec_->reset(st.id, NGHTTP2_INTERNAL_ERROR);
    break;
  case exchange_outcome::action::close:
    if (!st.closed) codec_->reset(st.id, NGHTTP2_CANCEL);
    break;
  }
  wake_writer();
}

void h2_connection::respond_failure(stream_state& st, failure f) {
  const auto resp = response_for(f);
  st.status = resp.status;
  if (st.closed || st.responded) return;
  st.responded = true;
  st.out.assign(resp.body);
  st.out_off = 0;
  st.out_end = true;
  codec_->respond(st.id, {resp.status, nullptr, "text/plain"}, true);
  wake_writer();
}

void h2_connection::finish_stream(stream_state& st) {
  st.finished = true;
  // Body bytes nobody will take still count against the connection's window.
  codec_->consume(st.id, st.in.size() + st.lent.size());
  st.in.clear();
  st.lent.clear();
  wake_writer();
  if (const auto it = streams_.find(st.id); st.closed && it != streams_.end()) {
    auto gone = std::move(it->second); // `st` lives on in its runner until end_stream() returns
    streams_.erase(it);
    stream_gone(std::move(gone));
  }
}

} // namespace parallax::proxy::server
