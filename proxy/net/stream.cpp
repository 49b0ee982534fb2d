#include "proxy/net/stream.hpp"

#include <boost/asio/write.hpp>

namespace parallax::proxy::net {

awaitable<error_code> stream::handshake(asio::ssl::stream_base::handshake_type type) {
  if (!tls_) co_return error_code{};
  auto [ec] = co_await tls_->async_handshake(type, use_nothrow);
  co_return ec;
}

// The I/O functions return Asio's own awaitable rather than awaiting it in a coroutine of
// their own: one coroutine frame per operation instead of two.
awaitable<std::tuple<error_code, std::size_t>> stream::read_some(asio::mutable_buffer buf) {
  return tls_ ? tls_->async_read_some(buf, use_nothrow) : tcp_.async_read_some(buf, use_nothrow);
}

awaitable<std::tuple<error_code, std::size_t>>
stream::write(std::span<const asio::const_buffer> bufs) {
  return tls_ ? asio::async_write(*tls_, bufs, use_nothrow)
              : asio::async_write(tcp_, bufs, use_nothrow);
}

awaitable<std::tuple<error_code, std::size_t>> stream::write(asio::const_buffer buf) {
  return tls_ ? asio::async_write(*tls_, buf, use_nothrow)
              : asio::async_write(tcp_, buf, use_nothrow);
}

void stream::cancel() noexcept {
  error_code ignored;
  socket().cancel(ignored);
}

void stream::close() noexcept {
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

} // namespace parallax::proxy::net
