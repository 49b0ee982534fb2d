#pragma once
// The server side of one HTTP/2 connection (RFC 9113) as nghttp2 frames it: bytes in, events
// out (a request head, body bytes, the request's end, a stream's close), and frames to send
// gathered into a buffer. No I/O and no Asio: the connection drives it from its coroutines.
//
// The flood and reset defences of `limits.http2` live here: SETTINGS (concurrent streams,
// windows, header list size), the header list size and field count enforced while headers
// are decoded, a rapid-reset token bucket (a burst of 1000 RST_STREAM frames, then
// max_resets_per_second; nghttp2's own, at twice that, stays behind it as a backstop: it
// would answer INTERNAL_ERROR), nghttp2's CONTINUATION cap, at most twice
// max_concurrent_streams new streams per read (as nginx 1.25.3), and Envoy's premature-reset
// rule (after 500 streams, more than half reset by the client within a second of opening).
// A peer beyond them gets GOAWAY ENHANCE_YOUR_CALM.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "proxy/h2/field_store.hpp"
#include "proxy/http/message.hpp"

namespace parallax::proxy::h2 {

/// The connection's limits (config `limits.http2` plus the request head limits).
struct settings {
  std::uint32_t max_concurrent_streams = 100;
  std::uint32_t initial_stream_window = 64 * 1024;
  std::uint32_t initial_connection_window = 1024 * 1024;
  std::uint32_t max_header_list_bytes = 64 * 1024; // name + value + 32 per field (RFC 9113)
  std::uint32_t max_headers = 100;                 // fields per request
  std::uint32_t max_resets_per_second = 33;
  std::uint32_t max_continuation_frames = 8;
};

/// Why a request head was refused before it became an exchange.
enum class head_refusal {
  none,
  too_large, // beyond max_header_list_bytes or max_headers: answered 431
};

/// What the codec reports; called from within receive() (and read_body from flush()).
class server_events {
public:
  virtual ~server_events() = default;
  /// A complete request head on stream `id`; `end_stream` when it has no body. The receiver
  /// may take `head` by swapping it with storage of its own: the codec clears it before the
  /// next head.
  virtual void on_request(std::int32_t id, http::request_head& head, bool end_stream,
                          head_refusal refused) = 0;
  /// Request body bytes of stream `id`; the stream's window reopens only when the connection
  /// calls consume() for them.
  virtual void on_data(std::int32_t id, std::string_view bytes) = 0;
  /// The request of stream `id` ends with trailer fields (before on_request_end); ignored
  /// unless overridden.
  virtual void on_request_trailers(std::int32_t /*id*/, const http::header_list& /*fields*/) {}
  /// The request of stream `id` is complete (END_STREAM).
  virtual void on_request_end(std::int32_t id) = 0;
  /// Stream `id` closed (`error_code` 0: both sides ended normally; otherwise an RST_STREAM
  /// either way, or the connection ended).
  virtual void on_stream_close(std::int32_t id, std::uint32_t error_code) = 0;
  /// Copies up to `length` response body bytes of stream `id` into `buf`; sets `eof` after the
  /// last, and `trailers` when trailer fields end the response; returns the count, or -1 when
  /// none are at hand yet (the stream is resumed later).
  virtual long read_body(std::int32_t id, std::uint8_t* buf, std::size_t length, bool& eof,
                         const http::header_list*& trailers) = 0;
};

/// A response head to send (names lower case; values as given).
struct response_fields {
  int status = 200;
  const http::header_list* headers = nullptr; // HTTP/1.1 fields: hop-by-hop ones are left out
  std::string_view content_type;              // an extra field when not empty
};

/// One connection's nghttp2 server session.
class server_codec {
public:
  server_codec(server_events& events, const settings& s);
  ~server_codec();
  server_codec(const server_codec&) = delete;
  server_codec& operator=(const server_codec&) = delete;

  /// Processes received bytes. False when the connection must end: frames still queued
  /// (a GOAWAY) should be sent, then the connection closed.
  bool receive(std::string_view bytes);
  /// Appends frames waiting to be sent to `out` until it holds at least `limit` bytes or none
  /// are left. False on a fatal error (the connection closes).
  bool flush(std::string& out, std::size_t limit);
  /// Whether the session still reads or has something to send (false: close).
  [[nodiscard]] bool alive() const;
  /// Whether frames are waiting to be sent.
  [[nodiscard]] bool wants_write() const;
  /// The response head for stream `id`; `body` false ends the stream with the head.
  bool respond(std::int32_t id, const response_fields& head, bool body);
  /// An interim (1xx) response head for stream `id`.
  bool interim(std::int32_t id, const response_fields& head);
  /// Resets stream `id` with `error_code` (RFC 9113 7).
  void reset(std::int32_t id, std::uint32_t error_code);
  /// Stream `id` has response body bytes (or its end) at hand again after read_body said none.
  void resume(std::int32_t id);
  /// `n` request body bytes of stream `id` were handed on: its window (and the connection's)
  /// may reopen. `id` 0: connection only (bytes of a stream that went away).
  void consume(std::int32_t id, std::size_t n);
  /// Starts a graceful shutdown: GOAWAY with the last stream id seen; streams in flight end.
  void shutdown();
  /// Ends the session with GOAWAY `error_code` (streams in flight are closed).
  void terminate(std::uint32_t error_code);
  /// Whether the peer flooded the session: close at once, without sending what is queued.
  [[nodiscard]] bool flooded() const noexcept { return flooded_; }
  /// A GOAWAY ENHANCE_YOUR_CALM frame naming the last stream processed, as bytes: what a
  /// flooded session's connection may still send (the session's own queue is not sent).
  [[nodiscard]] std::string goaway_frame() const;
  /// Why the session ended early, for the log ("" while none).
  [[nodiscard]] std::string_view failure() const noexcept { return failure_; }

  // The nghttp2 callbacks (internal).
  struct callbacks;

private:
  // The request head being decoded. Header blocks never interleave (RFC 9113 4.3: a block's
  // CONTINUATION frames follow it directly), so one is enough; its buffers are reused.
  struct pending_head {
    std::int32_t id = 0; // 0: none
    http::request_head head;
    std::string cookie; // cookie fields joined with "; " (RFC 9113 8.2.3)
    std::uint32_t bytes = 0;
    std::uint32_t fields = 0;
    bool too_large = false;
    bool has_authority = false;
    bool cookie_seen = false; // a cookie field came: later crumbs join its line
  };
  // The trailer section being decoded (within the same limits as a head).
  struct pending_trailers {
    std::int32_t id = 0; // 0: none
    http::header_list fields;
    std::uint32_t bytes = 0;
    std::uint32_t count = 0;
  };
  void flood(const char* why);
  bool submit(std::int32_t id, const response_fields& head, bool interim, bool body);
  bool premature_resets_exceeded() const noexcept;
  bool take_reset_token();

  server_events& events_;
  settings settings_;
  nghttp2_session* session_ = nullptr;
  pending_head current_;
  pending_trailers trailers_;
  // The header blocks submitted, until nghttp2 has sent them.
  field_store store_;
  std::uint32_t new_streams_this_read_ = 0;
  std::uint64_t streams_ = 0;          // streams the client opened
  std::uint64_t premature_resets_ = 0; // of those, reset by the client within a second
  double reset_tokens_;                // RST_STREAM frames the client may still send at once
  std::uintptr_t reset_refilled_;      // when the bucket was last refilled (now_mark())
  std::string failure_;
  bool flooded_ = false;
};

} // namespace parallax::proxy::h2
