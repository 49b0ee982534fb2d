#pragma once
// The client side of one HTTP/2 connection to an upstream (RFC 9113) as nghttp2 frames it:
// requests submitted as streams, response events out (head, body bytes, trailers, the stream's
// close), GOAWAY noted, frames to send gathered into a buffer. No I/O and no Asio: the upstream
// connection drives it. Flow control is manual, as on the server side: received body bytes
// reopen the windows only when the connection calls consume() for them.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "proxy/h2/field_store.hpp"
#include "proxy/http/message.hpp"

namespace parallax::proxy::h2 {

/// What the client codec reports; called from within receive() (read_request_body from
/// flush()). Stream ids the events name are those submit() returned.
class client_events {
public:
  virtual ~client_events() = default;
  /// A response head (interim when `status` < 200) with its fields; `end_stream` when it ended
  /// the stream (a body-less or trailers-only response). The receiver may take `head` by
  /// swapping it with storage of its own: the codec clears it before the next head.
  virtual void on_response(std::int32_t id, http::response_head& head, bool end_stream) = 0;
  /// Response body bytes.
  virtual void on_body(std::int32_t id, std::string_view bytes) = 0;
  /// Trailer fields (the response ends with them); they may be taken as a head may.
  virtual void on_trailers(std::int32_t id, http::header_list& trailers) = 0;
  /// The response ended (END_STREAM after the body).
  virtual void on_end(std::int32_t id) = 0;
  /// The stream closed; `error_code` 0 after a complete exchange, else the RST_STREAM code (or
  /// REFUSED_STREAM for a stream the server never processed: above a GOAWAY's last id).
  virtual void on_close(std::int32_t id, std::uint32_t error_code) = 0;
  /// Copies up to `length` request body bytes of `id` into `buf`; sets `eof` after the last,
  /// and `trailers` when trailer fields end the request; returns the count, or -1 when none
  /// are at hand (the stream is resumed later).
  virtual long read_request_body(std::int32_t id, std::uint8_t* buf, std::size_t length, bool& eof,
                                 const http::header_list*& trailers) = 0;
};

/// A request to submit: pseudo-header values and the regular fields (names lower-cased here).
/// All are copied when submitted.
struct request_fields {
  std::string_view method;
  std::string_view scheme;
  std::string_view authority;
  std::string_view path;
  std::span<const http::field_view> headers;
};

/// One connection's nghttp2 client session.
class client_codec {
public:
  /// A session announcing `stream_window` and `connection_window` as its receive windows.
  client_codec(client_events& events, std::uint32_t stream_window, std::uint32_t connection_window);
  ~client_codec();
  client_codec(const client_codec&) = delete;
  client_codec& operator=(const client_codec&) = delete;

  /// Processes received bytes; false when the connection must end.
  bool receive(std::string_view bytes);
  /// Appends frames to send to `out` until it holds `limit` bytes or none are left.
  bool flush(std::string& out, std::size_t limit);
  /// Whether the session still reads or has something to send.
  [[nodiscard]] bool alive() const;
  /// Submits a request; its body (when `body`) comes from read_request_body. Returns the
  /// stream id, or a negative value when the session takes no new stream.
  std::int32_t submit(const request_fields& request, bool body);
  /// The request body of `id` has bytes (or its end) at hand again.
  void resume(std::int32_t id);
  /// Bytes of request body stream `id` may send now: the smaller of its and the connection's
  /// flow-control windows (a stream not yet open: the peer's initial window).
  [[nodiscard]] std::size_t send_window(std::int32_t id) const;
  /// `n` response body bytes of `id` were handed on: the windows may reopen.
  void consume(std::int32_t id, std::size_t n);
  /// Cancels stream `id` (RST_STREAM CANCEL).
  void cancel(std::int32_t id);
  /// Ends the session (GOAWAY NO_ERROR).
  void terminate();
  /// Streams the peer allows at once (its SETTINGS_MAX_CONCURRENT_STREAMS; 100 until known).
  [[nodiscard]] std::uint32_t peer_max_streams() const;
  /// Whether stream `id`'s request HEADERS went out (nghttp2 opens a stream when it sends
  /// them): one that did not never reached the peer, so it may be sent again elsewhere.
  [[nodiscard]] bool sent(std::int32_t id) const;
  /// Whether the peer sent GOAWAY (no new streams on this connection).
  [[nodiscard]] bool going_away() const noexcept { return goaway_; }
  /// Why the session failed, for the log ("" while none).
  [[nodiscard]] std::string_view failure() const noexcept { return failure_; }
  /// Header blocks nghttp2 still holds without a copy (for tests).
  [[nodiscard]] std::size_t held_header_blocks() const noexcept { return store_.held(); }

  struct callbacks;

private:
  client_events& events_;
  nghttp2_session* session_ = nullptr;
  // The head being decoded (header blocks never interleave).
  std::int32_t current_id_ = 0;
  bool current_trailers_ = false;
  http::response_head head_;
  http::header_list trailers_;
  field_store store_; // the header blocks submitted, until nghttp2 has sent them
  bool goaway_ = false;
  std::string failure_;
};

} // namespace parallax::proxy::h2
