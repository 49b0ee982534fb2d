// The forward and relay phases of a client session: the client's request as the upstream
// exchange's source, the client (and the observer's tap) as its sink, and the WebSocket tunnel.

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <spdlog/spdlog.h>

#include "proxy/http/serializer.hpp"
#include "proxy/server/downstream_session.hpp"
#include "proxy/server/worker.hpp"

namespace parallax::proxy::server {

using namespace asio::experimental::awaitable_operators;
using net::timed_stream;

namespace {
constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
} // namespace

/// The client's request: the head as the upstream gets it, then the body as the client sends
/// it (re-chunked when it came chunked), each piece copied to the tap once sent.
class downstream_session::live_source final : public net::request_source {
public:
  live_source(downstream_session& s, http::body_framing framing, bool expect_continue)
      : s_(s), framing_(framing), expect_continue_(expect_continue) {}

  net::request_parts parts() override {
    return {&s_.request_parser_.request(), {s_.client_ip_, s_.client_.is_tls()}};
  }

  std::string_view head(std::string& scratch) override {
    const auto& req = s_.request_parser_.request();
    http::write_request_head(scratch, req, {s_.client_ip_, s_.client_.is_tls()}, framing_,
                             req.frame.content_length.value_or(0));
    return scratch;
  }

  net::source_step take(std::vector<asio::const_buffer>& out) override {
    auto& parser = s_.request_parser_;
    if (parser.message_done()) return net::source_step::done; // a retried body-less request
    const auto limit = s_.rt_->cfg->limits.max_request_body_bytes;
    parser.clear_body();
    const auto r = parser.feed({s_.buf_.get() + s_.begin_, s_.end_ - s_.begin_});
    if (r.status == http::parse_status::error) {
      s_.fault_ = client_fault::malformed_body;
      return net::source_step::failed;
    }
    s_.begin_ += r.consumed;
    if (limit != 0 && parser.body_bytes() > limit) {
      s_.fault_ = client_fault::body_too_large;
      return net::source_step::failed;
    }
    const bool done = r.status == http::parse_status::message_complete;
    const auto total = total_size(parser.body());
    if (total == 0 && !done) return net::source_step::more;
    chunk_line_.clear();
    const bool chunked = framing_ == http::body_framing::chunked;
    if (chunked && total > 0) {
      http::write_chunk_size(chunk_line_, total);
      out.emplace_back(chunk_line_.data(), chunk_line_.size());
    }
    for (auto piece : parser.body())
      out.emplace_back(piece.data(), piece.size());
    if (chunked && total > 0) out.emplace_back(crlf.data(), crlf.size());
    if (chunked && done) { // the last chunk, with the client's trailer fields that may be passed on
      last_chunk_.clear();
      http::write_last_chunk(last_chunk_, parser.trailers());
      out.emplace_back(last_chunk_.data(), last_chunk_.size());
    }
    if (s_.tap_ && total > 0) s_.tap_->request_body(parser.body());
    return done ? net::source_step::done : net::source_step::more;
  }

  awaitable<net::source_step> next(std::vector<asio::const_buffer>& out,
                                   net::stream* watch) override {
    for (;;) {
      const auto before = out.size();
      const auto step = take(out);
      if (step != net::source_step::more || out.size() != before) co_return step;
      // Nothing at hand: wait for the client.
      if (s_.begin_ == s_.end_) s_.begin_ = s_.end_ = 0;
      if (expect_continue_) {
        // The client waits for this before sending its body; the upstream is ready for it.
        expect_continue_ = false;
        const asio::const_buffer line(continue_line.data(), continue_line.size());
        const auto [ec, n] = co_await s_.write_client({&line, 1});
        if (ec) {
          s_.fault_ = client_fault::gone;
          co_return net::source_step::failed;
        }
      }
      const auto deadline = timed_stream::after(s_.rt_->cfg->limits.client_io_timeout);
      if (watch != nullptr && !s_.client_.is_tls()) {
        // While the client's body is awaited, the upstream may answer early (a TLS client is
        // not watched: cancelling a TLS read could cut a record).
        bool readable = false;
        const auto got = co_await s_.client_io_.read_some_unless_readable(
            asio::buffer(s_.buf_.get() + s_.end_, io_buffer_size - s_.end_), *watch, deadline,
            readable);
        s_.end_ += got.bytes;
        if (got.bytes > 0) continue;
        if (readable) co_return net::source_step::interrupted;
        if (got.ec == asio::error::eof) s_.saw_eof_ = true;
        s_.fault_ = client_fault::gone;
        co_return net::source_step::failed;
      }
      if (!co_await s_.read_client(deadline)) {
        s_.fault_ = client_fault::gone;
        co_return net::source_step::failed;
      }
    }
  }

  [[nodiscard]] bool replayable() const override {
    return !s_.request_parser_.request().has_body();
  }

  const http::header_list* trailers() override {
    const auto& fields = s_.request_parser_.trailers();
    return fields.empty() ? nullptr : &fields;
  }

  void sent() override {
    if (s_.tap_) s_.tap_->request_complete(); // idempotent: a retried attempt calls it again
  }

private:
  downstream_session& s_;
  http::body_framing framing_;
  bool expect_continue_;
  std::string chunk_line_;
  std::string last_chunk_; // with the client's trailer fields, if any
};

/// The client: interim responses, then the final head with the first body bytes, then the body
/// (chunked for HTTP/1.1 clients when the upstream's had no length), each piece handed to the
/// tap only after the client has it, so observing never delays the response.
class downstream_session::live_sink final : public net::response_sink {
public:
  live_sink(downstream_session& s, bool keep_alive) : s_(s), client_keep_(keep_alive) {}

  awaitable<bool> interim(const http::response_head& head) override {
    if (head.status == 100) co_return true; // Expect was answered by the proxy itself
    s_.out_.clear();
    http::write_interim_head(s_.out_, head);
    const asio::const_buffer buf(s_.out_.data(), s_.out_.size());
    const bool ok = !std::get<0>(co_await s_.write_client({&buf, 1}));
    if (!ok) s_.fault_ = client_fault::gone;
    co_return ok;
  }

  void trailers(const http::header_list& fields) override {
    // Sent in the last chunk (RFC 9112 7.1.2) when the client gets the body chunked; dropped
    // otherwise (a length-delimited message has no place for them).
    trailer_block_.clear();
    http::write_last_chunk(trailer_block_, fields);
    if (s_.tap_) s_.tap_->response_trailers(fields);
  }

  net::delivery deliver(const http::response_head& head, const std::vector<std::string_view>& body,
                        bool first, bool complete) override {
    auto& out = s_.out_;
    out.clear();
    if (first) start(head, out);
    if (complete && s_.tap_) s_.tap_->response_received();
    const auto total = total_size(body);
    if (chunked_ && total > 0) http::write_chunk_size(out, total);
    auto& gather = s_.gather_;
    gather.clear();
    if (!out.empty()) gather.emplace_back(out.data(), out.size());
    for (auto piece : body)
      gather.emplace_back(piece.data(), piece.size());
    if (chunked_ && total > 0) gather.emplace_back(crlf.data(), crlf.size());
    if (chunked_ && complete) {
      const std::string_view end = trailer_block_.empty() ? last_chunk : trailer_block_;
      gather.emplace_back(end.data(), end.size());
    }
    pending_ = {&head, &body, first, total};
    error_code ec;
    if (!s_.client_io_.write_now(gather, ec)) {
      s_.fault_ = client_fault::gone;
      return net::delivery::failed;
    }
    if (!gather.empty()) return net::delivery::pending;
    delivered();
    return net::delivery::done;
  }

  awaitable<bool> flush() override {
    // Not `if (std::get<0>(co_await ...))`: as a coroutine's first statement, GCC 12 compiled
    // that into a frame that trapped when first resumed.
    const auto [ec, n] = co_await s_.write_client(s_.gather_);
    if (ec) {
      s_.fault_ = client_fault::gone;
      co_return false;
    }
    delivered();
    co_return true;
  }

  /// Whether the client connection stays open after this response.
  [[nodiscard]] bool client_keep() const noexcept { return client_keep_; }

private:
  void delivered() { pending_.delivered(s_.tap_.get(), s_.response_bytes_); }

  // The client's response head: framing chosen for this client.
  void start(const http::response_head& head, std::string& out) {
    const auto& req = s_.request_parser_.request();
    if (s_.tap_) s_.tap_end_ = exchange_end::client_aborted; // until the whole response is out
    // A request whose body the upstream did not wait for (an early response) leaves unread
    // bytes behind: the connection cannot carry another request.
    if (!s_.request_parser_.message_done() || s_.draining_) client_keep_ = false;
    const bool no_body = req.method == "HEAD" || head.status == 204 || head.status == 304;
    auto framing = http::body_framing::content_length;
    if (no_body) {
      framing = http::body_framing::none;
    } else if (head.frame.chunked || !head.frame.content_length) {
      // Chunked or close-delimited upstream bodies go to HTTP/1.1 clients chunked (keeping the
      // connection); HTTP/1.0 clients get a close-delimited body.
      if (req.version_minor >= 1) {
        framing = http::body_framing::chunked;
      } else {
        framing = http::body_framing::close_delimited;
        client_keep_ = false;
      }
    }
    chunked_ = framing == http::body_framing::chunked;
    http::write_response_head(out, head, framing, head.frame.content_length.value_or(0),
                              client_keep_, req.version_minor);
  }

  downstream_session& s_;
  bool client_keep_;
  bool chunked_ = false;
  std::string trailer_block_; // the last chunk with the upstream's trailer fields, if any
  pending_delivery pending_;
};

// Phases 3 and 4: forward the request to the route's live upstream and relay the response.
awaitable<downstream_session::outcome> downstream_session::forward(std::size_t route_index) {
  phase_ = phase::forward;
  auto& req = request_parser_.request();
  const auto& route = rt_->cfg->routes[route_index];
  const bool websocket =
      request_parser_.upgrade() && req.frame.upgrade &&
      http::list_contains(req.headers.find(http::field::upgrade).value_or(""), "websocket");
  // Other upgrades (h2c) are not offered upstream; such a connection closes after the exchange.
  const bool other_upgrade = request_parser_.upgrade() && !websocket;
  if (!websocket) req.frame.upgrade = false;
  if (auto* observer = worker_.observer(); observer != nullptr) {
    auto tap = observer->begin({route_index, &rt_, &req, client_ip_, client_.is_tls(), websocket});
    if (!websocket) tap_ = std::move(tap); // a tunnel is counted, never followed
    tap_end_ = exchange_end::live_error;   // until the live response head arrives
  }
  auto& pool = worker_.pool(*rt_, *rt_->route_upstreams[route_index]);
  // HTTP/2 upstreams take the body as it is (DATA frames), never chunked.
  const bool h2_upstream = pool.config().protocol != config::upstream_protocol::http1;
  const auto framing =
      req.frame.chunked && !h2_upstream                ? http::body_framing::chunked
      : req.frame.content_length || req.frame.chunked ? http::body_framing::content_length
                                                      : http::body_framing::none;
  const bool expect_continue = req.expect_continue && req.has_body();
  // Expect is answered here: the upstream sees the body arrive directly.
  req.headers.remove(http::field::expect);

  net::upstream_exchange exchange(worker_.resources(), pool, upstream_head_, upstream_gather_);
  live_source source(*this, framing, expect_continue);
  live_sink sink(*this, req.frame.keep_alive && !other_upgrade);
  net::exchange_options options;
  options.head_request = req.method == "HEAD";
  options.allow_upgrade = websocket;
  active_ = &exchange;
  auto result = co_await exchange.run(source, sink, options);
  active_ = nullptr;
  const int status = result.head_delivered || result.upgraded ? exchange.response().status : 0;
  if (result.error != net::exchange_error::none) {
    co_return co_await finish_failed(result.error, result, route.upstream, status);
  }
  if (result.upgraded) {
    co_return co_await tunnel(exchange.response(), *result.upgraded, result.upgrade_leftover);
  }
  tap_end_ = exchange_end::complete;
  if (result.early_response) tap_end_ = exchange_end::live_error; // the request was not whole
  finish_exchange(status);
  co_return sink.client_keep() ? outcome::keep_alive : outcome::close;
}

// A 101 from the upstream: both directions are copied until either side closes or both are
// silent for idle_timeout (activity either way keeps the other direction's read alive).
awaitable<downstream_session::outcome> downstream_session::tunnel(const http::response_head& head,
                                                                  net::upstream_connection& up,
                                                                  std::string_view leftover) {
  phase_ = phase::tunnel;
  out_.clear();
  http::write_response_head(out_, head, http::body_framing::none, 0, true, 1);
  gather_.clear();
  gather_.emplace_back(out_.data(), out_.size());
  if (!leftover.empty()) gather_.emplace_back(leftover.data(), leftover.size());
  const bool written = !std::get<0>(co_await write_client(gather_));
  finish_exchange(101);
  tap_end_ = exchange_end::complete;
  const auto idle = rt_->cfg->limits.idle_timeout;
  net::timed_stream up_io(worker_.registry(), &up.stream());
  bool open = written;
  if (open && begin_ < end_) {
    const auto [ec, n] = co_await up_io.write(asio::buffer(buf_.get() + begin_, end_ - begin_),
                                              timed_stream::after(idle));
    open = !ec;
  }
  begin_ = end_ = 0;
  if (open) {
    auto up_buf = worker_.resources().take_buffer();
    auto pump = [this, idle, &up_io](timed_stream& from, timed_stream& to,
                                     char* buffer) -> awaitable<void> {
      for (;;) {
        const auto [rec, got] = co_await from.read_some(asio::buffer(buffer, io_buffer_size),
                                                        timed_stream::after(idle));
        if (rec) co_return;
        const auto [wec, put] =
            co_await to.write(asio::buffer(buffer, got), timed_stream::after(idle));
        if (wec) co_return;
        client_io_.extend(timed_stream::after(idle));
        up_io.extend(timed_stream::after(idle));
      }
    };
    co_await (pump(client_io_, up_io, buf_.get()) || pump(up_io, client_io_, up_buf.get()));
    worker_.resources().buffers.give(std::move(up_buf));
  }
  up.stream().close();
  closed_ = true;
  client_.close();
  co_return outcome::close;
}

} // namespace parallax::proxy::server
