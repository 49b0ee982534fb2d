// parallax_slow_backend: a keep-alive HTTP/1.1 backend that answers every request after a
// fixed delay, the "shadow answering in 100 ms" of bench/compare/run (nginx has no delay
// directive without third-party modules). One thread, one coroutine per connection, a timer
// per request: it costs little CPU on the core it shares with the load generator.
//
//   parallax_slow_backend PORT DELAY_MS BODY

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bench/loadgen/content_length.hpp"
#include "bench/loadgen/loopback_server.hpp"

namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serve(tcp::socket sock, std::chrono::milliseconds delay,
                            const std::string& response) {
  asio::steady_timer timer(sock.get_executor());
  std::string in;
  std::vector<char> chunk(16 * 1024);
  for (;;) {
    std::size_t end = 0;
    while ((end = in.find("\r\n\r\n")) == std::string::npos) {
      auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), nothrow);
      if (ec) co_return;
      in.append(chunk.data(), n);
    }
    const std::size_t total =
        end + 4 + parallax::bench::content_length(std::string_view(in).substr(0, end)).value_or(0);
    while (in.size() < total) {
      auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), nothrow);
      if (ec) co_return;
      in.append(chunk.data(), n);
    }
    in.erase(0, total);
    // Wait out the delay, but notice a client that gives up meanwhile (a proxy timing the
    // request out), so a never-answering backend does not keep its connections for the delay.
    timer.expires_after(delay);
    auto first =
        co_await (timer.async_wait(nothrow) || sock.async_read_some(asio::buffer(chunk), nothrow));
    if (first.index() == 1) {
      auto [ec, n] = std::get<1>(first);
      if (ec) co_return;
      in.append(chunk.data(), n); // a pipelined request: answered after this one
      co_await timer.async_wait(nothrow);
    }
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(response), nothrow);
    if (wec) co_return;
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: parallax_slow_backend PORT DELAY_MS BODY\n");
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const std::chrono::milliseconds delay(std::atoi(argv[2]));
  const std::string body = argv[3];
  const std::string response = parallax::bench::json_response(body);
  asio::io_context io(1);
  auto acceptor = parallax::bench::listen_loopback(io, port);
  asio::co_spawn(io,
                 parallax::bench::accept_each(acceptor,
                                              [&](tcp::socket sock) {
                                                asio::co_spawn(io,
                                                               serve(std::move(sock), delay,
                                                                     response),
                                                               asio::detached);
                                              }),
                 asio::detached);
  io.run();
}
