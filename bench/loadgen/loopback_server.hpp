#pragma once
// What the bench's loopback backends (slow_backend, cycling_shadow) share: a listening socket
// on 127.0.0.1 and a fixed 200 JSON response.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <string>

namespace parallax::bench {

/// An acceptor listening on 127.0.0.1:`port` (backlog 4096, address reuse).
inline boost::asio::ip::tcp::acceptor listen_loopback(boost::asio::io_context& io,
                                                      unsigned short port) {
  using boost::asio::ip::tcp;
  tcp::acceptor acceptor(io);
  const tcp::endpoint ep(boost::asio::ip::address_v4::loopback(), port);
  acceptor.open(ep.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(4096);
  return acceptor;
}

/// Accepts connections for ever, handing each socket to `on_socket`. An accept error (out of
/// descriptors, say) leaves the connection queued, so it pauses 50 ms before retrying.
template <class OnSocket>
boost::asio::awaitable<void> accept_each(boost::asio::ip::tcp::acceptor& acceptor,
                                         OnSocket on_socket) {
  constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  boost::asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(nothrow);
    if (ec) {
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(nothrow);
      continue;
    }
    on_socket(std::move(sock));
  }
}

/// A complete `200 OK` response carrying `body` as application/json.
inline std::string json_response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

} // namespace parallax::bench
