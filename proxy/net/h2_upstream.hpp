#pragma once
// One HTTP/2 connection to an upstream (`protocol: h2` over TLS with ALPN, `h2c` with prior
// knowledge), shared by up to min(max_streams_per_connection, the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS) exchanges at once, each on its own stream. A reader
// coroutine feeds the nghttp2 client codec, a writer sends what it gathers. The connection is
// tracked by the worker's deadline registry: a write has io_timeout, and a connection with no
// stream open closes after 60 s (nginx's keepalive_timeout default). A GOAWAY takes no new
// stream; streams the server never processed end with REFUSED_STREAM, which the exchange may
// retry on another connection.

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/h2/client_codec.hpp"
#include "proxy/h2/stream_map.hpp"
#include "proxy/http/message.hpp"
#include "proxy/http/serializer.hpp"
#include "proxy/net/asio.hpp"
#include "proxy/net/connection_registry.hpp"
#include "proxy/net/upstream_pool.hpp"

namespace parallax::proxy::net {

class request_source;

/// What one exchange's stream holds between the connection (which fills it from frames and
/// drains its request body) and the exchange's coroutine (which waits on `wake`).
struct h2_upstream_stream {
  explicit h2_upstream_stream(const asio::any_io_executor& ex) : wake(ex), room(ex) {}
  /// Wakes the exchange if it waits (for the response on `wake`, for room to send on `room`:
  /// both at once when it relays both directions). Room alone cancels only `room` (and
  /// `wake` while `relaying`).
  void notify() {
    wake.cancel();
    room.cancel();
  }
  /// Something of the response arrived (or the stream closed): notify(), and interrupt the
  /// source the exchange awaits request bytes from, if any (it relays both ways from then on).
  void response_event();
  /// Makes a released stream ready for another exchange, keeping its buffers (large ones are
  /// given back).
  void reset();

  std::int32_t id = 0;
  // The request body, queued for DATA frames: [req_off, size).
  std::string req;
  std::size_t req_off = 0;
  bool req_end = false; // the last request byte is queued
  // The exchange relays both ways (its response waits count from the sending's progress, so
  // the request body's drain wakes them too).
  bool relaying = false;
  const http::header_list* req_trailers = nullptr; // sent after the body (the source's)
  // The response.
  http::response_head head;
  bool have_head = false;                    // a final head arrived
  std::vector<http::response_head> interims; // 1xx heads not relayed yet (before the final one)
  std::string body;                          // received, not yet handed on
  std::size_t unconsumed = 0; // received bytes not yet given back to the flow-control windows
  http::header_list trailers;
  bool have_trailers = false;
  bool ended = false;  // the response is complete
  bool closed = false; // the stream closed (`close_code` says how)
  std::uint32_t close_code = 0;
  request_source* waiting = nullptr; // awaited for request bytes while nothing is relayed
  // The exchange's relay: the body taken from `body` while it is handed on, and its pieces.
  std::string relay;
  std::vector<std::string_view> pieces;
  asio::steady_timer wake;
  asio::steady_timer room;
};

/// An HTTP/2 connection to one upstream endpoint.
class h2_upstream_connection final : public std::enable_shared_from_this<h2_upstream_connection>,
                                     public tracked_connection,
                                     private h2::client_events {
public:
  using clock = std::chrono::steady_clock;

  /// Takes over `conn` (connected, TLS done); deadlines through `registry`.
  h2_upstream_connection(std::unique_ptr<upstream_connection> conn, connection_registry& registry,
                         const config::upstream& cfg);
  ~h2_upstream_connection() override;
  h2_upstream_connection(const h2_upstream_connection&) = delete;
  h2_upstream_connection& operator=(const h2_upstream_connection&) = delete;

  /// Starts the reader and writer (they keep the connection alive until it closes).
  void start();
  /// Whether a new stream can start here now.
  [[nodiscard]] bool available() const;
  /// Whether the connection is finished (closed, or going away with no stream left).
  [[nodiscard]] bool finished() const;
  /// Streams open now.
  [[nodiscard]] std::size_t streams() const noexcept { return streams_.size(); }
  /// A stream for an exchange on this connection: a recycled one when there is one.
  [[nodiscard]] std::unique_ptr<h2_upstream_stream> new_stream();
  /// Takes back a released stream for a later exchange (up to the connection's stream cap).
  void recycle(std::unique_ptr<h2_upstream_stream> st);
  /// The fields an HTTP/2 upstream gets for `req` (http::forwarded_fields), for the request
  /// about to be submitted: views valid until the next call (the list is reused from request
  /// to request; nghttp2 copies the fields when submit() takes them).
  [[nodiscard]] std::span<const http::field_view>
  forwarded_fields(const http::request_head& req, const http::forwarding_info& info) {
    http::forwarded_fields(fields_, forwarded_for_, req, info);
    return fields_;
  }
  /// Starts a request on `st` (with a body when `body`); false when the connection takes no
  /// new stream after all.
  bool submit(h2_upstream_stream& st, const h2::request_fields& request, bool body);
  /// `st` has request body bytes (or its end) queued.
  void resume(h2_upstream_stream& st);
  /// Whether the whole of `st`'s queued request body fits the flow-control windows now: the
  /// next write sends all of it.
  [[nodiscard]] bool window_takes(const h2_upstream_stream& st) const {
    return st.req.size() - st.req_off <= codec_.send_window(st.id);
  }
  /// `n` response body bytes of `st` were handed on.
  void consume(h2_upstream_stream& st, std::size_t n);
  /// The exchange is done with `st`: cancels it if still open, and forgets it.
  void release(h2_upstream_stream& st);
  /// No new streams (a retired pool); closes once the last stream ends.
  void retire();
  /// Closes the connection now: every stream ends as reset.
  void close();
  /// The connection's executor (its streams' timers run on it).
  [[nodiscard]] asio::any_io_executor executor() { return conn_->stream().socket().get_executor(); }
  /// The endpoint's address, for log lines.
  [[nodiscard]] std::string endpoint_text() const;

  void on_deadline() override;
  void on_drain() override;
  void force_close() override;

private:
  awaitable<void> reader(std::shared_ptr<h2_upstream_connection> self);
  awaitable<void> writer(std::shared_ptr<h2_upstream_connection> self);
  void wake_writer() { write_wake_.cancel(); }
  void update_deadline();
  void idle_check();

  // h2::client_events
  void on_response(std::int32_t id, http::response_head& head, bool end_stream) override;
  void on_body(std::int32_t id, std::string_view bytes) override;
  void on_trailers(std::int32_t id, http::header_list& trailers) override;
  void on_end(std::int32_t id) override;
  void on_close(std::int32_t id, std::uint32_t error_code) override;
  long read_request_body(std::int32_t id, std::uint8_t* buf, std::size_t length, bool& eof,
                         const http::header_list*& trailers) override;

  std::unique_ptr<upstream_connection> conn_;
  connection_registry& registry_;
  std::chrono::steady_clock::duration io_timeout_;
  std::uint32_t max_streams_;
  h2::client_codec codec_;
  h2::stream_map<h2_upstream_stream*> streams_;
  std::vector<std::unique_ptr<h2_upstream_stream>> spare_; // released streams, for reuse
  std::vector<http::field_view> fields_;                   // forwarded_fields()
  std::string forwarded_for_;                              // a merged X-Forwarded-For
  asio::steady_timer write_wake_;
  clock::time_point write_deadline_ = clock::time_point::max();
  clock::time_point idle_deadline_ = clock::time_point::max();
  bool closed_ = false;
  bool retired_ = false;
};

} // namespace parallax::proxy::net
