#pragma once
// A byte stream that is either plain TCP or TLS over TCP, chosen at run time, so sessions
// and pools are written once (no template per transport).

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <span>
#include <string>

#include "proxy/net/asio.hpp"

namespace parallax::proxy::net {

/// Plain or TLS stream owning its socket.
class stream {
public:
  /// A plain TCP stream.
  explicit stream(tcp::socket socket) : tcp_(std::move(socket)) {}
  /// A TLS stream over `socket` using `ctx` (handshake() must run before I/O).
  stream(tcp::socket socket, asio::ssl::context& ctx)
      : tcp_(socket.get_executor()),
        tls_(std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), ctx)) {}

  /// Whether this stream speaks TLS.
  [[nodiscard]] bool is_tls() const noexcept { return tls_ != nullptr; }
  /// The underlying TCP socket.
  tcp::socket& socket() noexcept { return tls_ ? tls_->next_layer() : tcp_; }
  /// The OpenSSL handle (TLS streams only), e.g. to set SNI.
  SSL* native_tls() noexcept { return tls_ ? tls_->native_handle() : nullptr; }
  /// The TLS stream (TLS streams only), e.g. to set a verify callback.
  asio::ssl::stream<tcp::socket>* tls() noexcept { return tls_.get(); }

  /// Runs the TLS handshake as server or client; a no-op for plain streams.
  awaitable<error_code> handshake(asio::ssl::stream_base::handshake_type type);
  /// Reads at least one byte into `buf`.
  awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buf);
  /// Writes all of `bufs` (gathered in one call where possible).
  awaitable<std::tuple<error_code, std::size_t>> write(std::span<const asio::const_buffer> bufs);
  /// Writes all of `buf`.
  awaitable<std::tuple<error_code, std::size_t>> write(asio::const_buffer buf);
  /// Cancels pending operations (used by deadlines); the session sees operation_aborted.
  void cancel() noexcept;
  /// Closes the socket at once (no TLS close_notify: callers bound shutdown themselves).
  void close() noexcept;
  /// Whether the socket is open.
  [[nodiscard]] bool is_open() const noexcept {
    return tls_ ? tls_->next_layer().is_open() : tcp_.is_open();
  }

private:
  tcp::socket tcp_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
};

} // namespace parallax::proxy::net
