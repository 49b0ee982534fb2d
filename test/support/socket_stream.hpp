#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

namespace parallax::test {

// How a socket operation ended.
enum class io_status {
  ok,          // done
  closed,      // the peer closed the connection (FIN or TLS close)
  reset,       // the peer reset the connection (RST, EPIPE)
  timeout,     // the deadline passed first
  interrupted, // the owner is shutting down (interrupt fd became readable)
  failed,      // any other error (TLS failure, local error); see socket_stream::error()
};

// Short lower-case name of `status`, for messages.
std::string_view to_string(io_status status);

// Result of a read: how it ended and how many bytes arrived.
struct io_result {
  io_status status = io_status::ok;
  std::size_t bytes = 0;
};

// A connected TCP socket, optionally wrapped in TLS, whose every wait has a deadline. The fd is
// non-blocking and waits use poll(), so a wait also ends when the interrupt fd becomes readable.
// Not thread-safe: one thread uses a stream at a time.
class socket_stream {
public:
  using clock = std::chrono::steady_clock;

  socket_stream() = default;
  // Takes ownership of the connected socket `fd` and makes it non-blocking.
  explicit socket_stream(int fd);
  ~socket_stream();
  socket_stream(socket_stream&& other) noexcept;
  socket_stream& operator=(socket_stream&& other) noexcept;
  socket_stream(const socket_stream&) = delete;
  socket_stream& operator=(const socket_stream&) = delete;

  // Runs a TLS client handshake; `server_name` is sent as SNI unless empty or an IP address.
  io_status start_tls_client(SSL_CTX* ctx, const std::string& server_name,
                             clock::time_point deadline);
  // Runs a TLS server handshake.
  io_status start_tls_server(SSL_CTX* ctx, clock::time_point deadline);

  // Reads up to `size` bytes, waiting until `deadline` (time_point::max() waits for ever).
  io_result read_some(char* data, std::size_t size, clock::time_point deadline);
  // Writes all of `data` before `deadline`.
  io_status write_all(std::string_view data, clock::time_point deadline);

  // Sends TLS close_notify (if TLS) and a FIN; reading stays possible.
  void shutdown_write();
  // Closes with SO_LINGER 0 so the peer receives a RST.
  void reset();
  // Closes the socket (sending FIN if not sent yet).
  void close();

  // Makes every later wait also end, with io_status::interrupted, once `fd` is readable.
  void set_interrupt_fd(int fd) { interrupt_fd_ = fd; }
  // True until close() or reset().
  bool is_open() const { return fd_ >= 0; }
  // The socket descriptor, or -1.
  int native_handle() const { return fd_; }
  // The TLS session, or nullptr for plain TCP.
  SSL* tls() const { return ssl_; }
  // Text of the last failure (OpenSSL reason or errno text).
  const std::string& error() const { return error_; }

private:
  io_status wait_for(short events, clock::time_point deadline);
  io_status tls_handshake(clock::time_point deadline);
  io_status tls_failure(int ssl_error, int saved_errno);
  void release_tls();

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  int interrupt_fd_ = -1;
  std::string error_;
};

// Connects to 127.0.0.1:`port` before `deadline`; returns the socket or -1 with `error` set.
int connect_loopback(std::uint16_t port, socket_stream::clock::time_point deadline,
                     std::string& error);

// Opens a close-on-exec listening socket on 127.0.0.1:0 and stores its port; throws on failure.
int listen_loopback(int backlog, std::uint16_t& port);

// Ignores SIGPIPE for the process (once), so writes to closed sockets fail instead of killing.
void ignore_sigpipe();

} // namespace parallax::test
