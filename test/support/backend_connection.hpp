#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "test/support/http_text.hpp"
#include "test/support/message_parser.hpp"
#include "test/support/socket_stream.hpp"

namespace parallax::test {

// One request as the test backend received it.
struct received_request {
  std::string method;                  // method token, e.g. "GET"
  std::string target;                  // request target as sent, e.g. "/a?b=c"
  int version_minor = 1;               // 1 for HTTP/1.1, 0 for HTTP/1.0
  header_list headers;                 // fields in order, names as received
  header_list trailers;                // trailer fields of a chunked body
  std::string body;                    // decoded body (chunked framing removed), up to the limit
  std::uint64_t body_size = 0;         // decoded body length, even beyond the stored limit
  bool body_truncated = false;         // body holds only the first max_stored_body bytes
  bool body_matches_pattern = true;    // every body byte i was 'a' + i % 26 (see pattern_bytes)
  bool chunked = false;                // the request body used chunked transfer coding
  bool upgrade = false;                // an Upgrade request (or CONNECT)
  bool keep_alive = true;              // the client allows another request on this connection
  std::string raw_head;                // request line and fields exactly as received
  std::uint64_t connection_id = 0;     // 1-based accept order of the connection it came on
  std::size_t index_on_connection = 0; // 0 for the first request on its connection
  std::string tls_server_name;         // SNI the client sent ("" for plain TCP or no SNI)
  std::string tls_alpn;                // ALPN protocol agreed ("" if none)
  std::string tls_client_subject;      // subject of the client certificate ("" if none)

  // Value of the first field called `name` (any case).
  std::optional<std::string> header(std::string_view name) const;
  // Number of fields called `name` (any case).
  std::size_t header_count(std::string_view name) const;
};

// The server side of one accepted connection, handed to request handlers to script the answer.
// Every write returns false once the peer is gone or the backend is stopping; writes after
// close() or reset() fail. If the handler returns with the connection still open, the backend
// reads the next request on it (keep-alive), unless a response written through respond*() or
// stream_body() carried Connection: close, in which case it closes gracefully.
class backend_connection {
public:
  // Wraps an accepted connection; made by http_backend.
  backend_connection(socket_stream stream, std::uint64_t id, std::size_t max_stored_body,
                     bool send_100_continue, std::chrono::milliseconds write_timeout);

  // Writes `bytes` exactly as given (any framing, or none).
  bool write_raw(std::string_view bytes);
  // Writes a response with Content-Length framing (omitted for 1xx/204/304, or if `headers`
  // already has one). Adds Content-Type unless empty or present. No body is sent for HEAD.
  bool respond(int status, std::string_view body, const header_list& headers = {},
               std::string_view content_type = "text/plain");
  // Writes a chunked response, one write per chunk (empty chunks are skipped), then trailers.
  bool respond_chunked(int status, const std::vector<std::string>& chunks,
                       const header_list& headers = {}, const header_list& trailers = {});
  // Writes a `total_bytes` body of pattern bytes ('a' + i % 26) in 64 KiB pieces, in constant
  // memory, framed by Content-Length or by chunked coding (one chunk per piece).
  bool stream_body(int status, std::uint64_t total_bytes, bool chunked = false,
                   const header_list& headers = {});
  // Sends FIN (and TLS close_notify) now; the backend closes the socket after the handler.
  void close();
  // Closes at once with SO_LINGER 0, so the peer sees a RST.
  void reset();

  // Raw bytes from the client (e.g. after a 101): whatever is buffered, else one read of at most
  // `max` bytes. nullopt on EOF, error or timeout (see last_read_status()). Once used, the
  // connection no longer carries HTTP and is closed when the handler returns.
  std::optional<std::string> read_some(std::size_t max, std::chrono::milliseconds timeout);
  // Exactly `n` raw bytes from the client, or nullopt (EOF, error, timeout).
  std::optional<std::string> read_exact(std::size_t n, std::chrono::milliseconds timeout);
  // Waits for the client to close or reset (discarding what it sends); true if it did.
  bool wait_peer_closed(std::chrono::milliseconds timeout);
  // How the last raw read ended.
  io_status last_read_status() const { return last_read_status_; }

  // True until close() or reset() (or the backend gave up on the connection).
  bool is_open() const { return stream_.is_open() && !write_shut_; }
  // 1-based accept order of this connection.
  std::uint64_t id() const { return id_; }

private:
  friend class http_backend;

  std::optional<received_request> read_request();
  void finish(bool stopping);
  bool write(std::string_view bytes);
  bool head_only() const;
  io_result fill(socket_stream::clock::time_point deadline);

  socket_stream stream_;
  std::uint64_t id_;
  std::size_t max_stored_body_;
  bool send_100_continue_;
  std::chrono::milliseconds write_timeout_;
  message_parser parser_{HTTP_REQUEST};
  std::string buffer_; // received bytes not parsed yet
  const received_request* current_ = nullptr;
  io_status last_read_status_ = io_status::ok;
  bool write_shut_ = false;
  bool raw_used_ = false;
  bool switched_ = false;
  bool close_after_ = false; // a response said Connection: close
  bool parse_failed_ = false;
  bool answer_400_ = false;
  std::string parse_error_;
};

} // namespace parallax::test
