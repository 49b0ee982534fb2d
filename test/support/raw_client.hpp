#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "test/support/http_text.hpp"
#include "test/support/message_parser.hpp"
#include "test/support/socket_stream.hpp"
#include "test/support/tls_certs.hpp"

namespace parallax::test {

// TLS settings of a raw_client connection.
struct tls_client_options {
  bool enabled = false;                  // plain TCP when false
  std::string ca_file;                   // trust anchors (PEM); empty disables verification
  std::string server_name = "localhost"; // SNI (unless an IP) and the name the cert must match
  std::string cert_file;                 // client certificate for mutual TLS (optional)
  std::string key_file;                  // its private key
  std::vector<std::string> alpn;         // ALPN protocols to offer, e.g. {"http/1.1"}

  // TLS verified against `pki`'s CA, for `server_name`.
  static tls_client_options trusting(const test_pki& pki, std::string server_name = "localhost");
};

// One response as read by raw_client.
struct parsed_response {
  std::string error;                // empty on success, else why reading failed
  io_status io = io_status::ok;     // how the socket ended if it did (closed, reset, timeout)
  int status = 0;                   // status code
  std::string reason;               // reason phrase
  int version_minor = 1;            // 1 for HTTP/1.1
  header_list headers;              // fields in order, names as received
  header_list trailers;             // trailer fields of a chunked body
  std::string body;                 // decoded body (empty when discarded)
  std::uint64_t body_size = 0;      // decoded body length
  bool body_matches_pattern = true; // every body byte i was 'a' + i % 26
  bool chunked = false;             // the body used chunked transfer coding
  bool keep_alive = true;           // HTTP framing allows another response on this connection
  bool closed_after = false;        // the peer's close had already arrived when this ended
                                    // (use raw_client::wait_closed to wait for one)
  std::string raw_head;             // status line and fields exactly as received

  // True if a whole response was read.
  bool ok() const { return error.empty(); }
  // Value of the first field called `name` (any case).
  std::optional<std::string> header(std::string_view name) const;
  // Number of fields called `name` (any case).
  std::size_t header_count(std::string_view name) const;
};

// Bytes read without HTTP parsing, and how the read ended.
struct raw_read {
  std::string data;                 // bytes received
  io_status status = io_status::ok; // ok, or closed/reset/timeout/failed

  // True if the read got what it asked for (for read_until_close: the peer closed or reset).
  bool ok() const { return status == io_status::ok; }
};

// A blocking HTTP/1.1 test client for 127.0.0.1:<port>, plain or TLS. Every read is bounded by
// the receive timeout (default 10 s): a wait that long without any byte fails the call with
// io_status::timeout instead of hanging. Not thread-safe; movable.
class raw_client {
public:
  // A disconnected client with the given receive timeout.
  explicit raw_client(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~raw_client();
  raw_client(raw_client&&) noexcept;
  raw_client& operator=(raw_client&&) noexcept;
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  // Connects and runs the TLS handshake if enabled, both within the timeout; false with
  // last_error() on failure.
  bool connect(std::uint16_t port, const tls_client_options& tls = {});
  // Why the last connect or send failed.
  const std::string& last_error() const { return error_; }
  // Changes the receive timeout for later calls.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  // True between a successful connect() and close()/reset().
  bool is_open() const { return stream_.is_open(); }
  // ALPN protocol the server selected ("" if none or plain TCP).
  std::string negotiated_alpn() const;

  // Sends `raw` exactly as given; false if the connection failed.
  bool send(std::string_view raw);
  // Reads the next response: interim 1xx responses come back one per call; after a 101 the
  // following bytes are left for read_exact()/read_some(). Pass head_request for HEAD.
  parsed_response read_response(bool head_request = false);
  // Like read_response but keeps no body: only counts it and checks the test pattern.
  parsed_response read_response_discard_body(bool head_request = false);
  // send() then read_response().
  parsed_response round_trip(std::string_view raw, bool head_request = false);

  // Exactly `n` bytes (buffered ones first).
  raw_read read_exact(std::size_t n);
  // Whatever is buffered, else the next bytes to arrive (at most `max`).
  raw_read read_some(std::size_t max = 64 * 1024);
  // Every byte until the peer closes or resets (status closed/reset) or the timeout passes.
  raw_read read_until_close();
  // Waits up to `timeout` for the peer to close or reset, discarding data; true if it did.
  bool wait_closed(std::chrono::milliseconds timeout);

  // Sends FIN (and TLS close_notify) but keeps reading possible.
  void shutdown_write();
  // Closes with a RST.
  void reset();
  // Closes normally.
  void close();

  // "METHOD target HTTP/1.1" with Host: localhost (unless given), the fields, and Content-Length
  // for a non-empty body (unless Content-Length or Transfer-Encoding is given), then the body.
  static std::string request(std::string_view method, std::string_view target,
                             const header_list& headers = {}, std::string_view body = {});
  // A chunked request: one chunk per element (empty ones skipped), then the trailers.
  static std::string chunked_request(std::string_view method, std::string_view target,
                                     const header_list& headers,
                                     const std::vector<std::string>& chunks,
                                     const header_list& trailers = {});

private:
  parsed_response read_message(bool head_request, bool keep_body);
  io_status fill(socket_stream::clock::time_point deadline);
  socket_stream::clock::time_point deadline() const;

  socket_stream stream_;
  std::unique_ptr<message_parser> parser_;
  std::string buffer_; // received bytes not consumed yet
  std::chrono::milliseconds timeout_;
  bool peer_closed_ = false;
  io_status end_status_ = io_status::ok; // closed or reset once the peer ended the stream
  std::string error_;
};

} // namespace parallax::test
