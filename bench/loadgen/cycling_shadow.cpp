// parallax_cycling_shadow: a misbehaving keep-alive HTTP/1.1 shadow for bench/soak. Its
// behaviour for each new request depends on the phase it arrives in; the phase changes every
// PERIOD seconds, cycling through
//   black hole  the request is read and never answered (the connection stays open until the
//               client closes it; later bytes are read and dropped)
//   reset       the connection is reset (SO_LINGER 0, then close: an RST, not a FIN)
//   slow        answered 200 after 1 s (a client that closes meanwhile ends the wait)
// One thread, one coroutine per connection. Memory is bounded: at most max_connections
// connections (more are closed as soon as they are accepted), each with a 4 KiB read chunk
// and at most 16 KiB of unparsed request bytes (a longer head closes the connection).
// At every phase change it prints one line: the phase that ended, its requests, the
// connections open.
//
//   parallax_cycling_shadow PORT PERIOD_S

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <variant>

#include "bench/loadgen/content_length.hpp"
#include "bench/loadgen/loopback_server.hpp"

namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t max_connections = 4096;
constexpr std::size_t chunk_bytes = std::size_t{4} * 1024;
constexpr std::size_t max_pending_bytes = std::size_t{16} * 1024;
constexpr auto slow_delay = std::chrono::seconds(1);

/// What the shadow does with a request, by phase.
enum class mode : std::uint8_t { black_hole, reset, slow };
constexpr std::array<const char*, 3> mode_names{"black hole", "reset", "1 s answer"};

/// Shared by every coroutine on the one thread: the phase clock and the counters.
struct shadow_state {
  clock_type::time_point start = clock_type::now();
  std::chrono::seconds period{10};
  std::string response;
  std::size_t open_connections = 0;
  std::uint64_t phase_requests = 0; // requests that arrived in the current phase

  /// The phase a request arriving now falls in (0, 1, 2, ...).
  [[nodiscard]] std::uint64_t phase() const {
    return static_cast<std::uint64_t>((clock_type::now() - start) / period);
  }
  /// The behaviour of a phase.
  [[nodiscard]] static mode mode_of(std::uint64_t phase) { return static_cast<mode>(phase % 3); }
};

/// Logs what ended a detached coroutine with an exception (none is expected).
void log_exception(const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "cycling_shadow: %s\n", ex.what());
  }
}

/// Reads bytes into `in` until it holds a complete request (head plus Content-Length body);
/// returns its size, or 0 when the client closed or sent more than the bound allows.
asio::awaitable<std::size_t> read_request(tcp::socket& sock, std::string& in,
                                          std::array<char, chunk_bytes>& chunk) {
  for (;;) {
    const auto end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      const std::size_t total =
          end + 4 +
          parallax::bench::content_length(std::string_view(in).substr(0, end)).value_or(0);
      if (in.size() >= total) co_return total;
    }
    if (in.size() > max_pending_bytes) co_return 0;
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), nothrow);
    if (ec) co_return 0;
    in.append(chunk.data(), n);
  }
}

/// One connection: each request is handled by the mode of the phase it arrived in.
/// The socket and buffers are frame locals; `st` outlives every session (it lives in main).
asio::awaitable<void> serve(tcp::socket sock, shadow_state& st) {
  ++st.open_connections;
  struct closer {
    shadow_state& st;
    ~closer() { --st.open_connections; }
  } count_guard{st};
  asio::steady_timer timer(sock.get_executor());
  std::string in;
  std::array<char, chunk_bytes> chunk{};
  for (;;) {
    const auto size = co_await read_request(sock, in, chunk);
    if (size == 0) co_return;
    in.erase(0, size);
    ++st.phase_requests;
    switch (shadow_state::mode_of(st.phase())) {
    case mode::black_hole:
      // Never answer; drop whatever else arrives until the client gives up and closes.
      for (;;) {
        auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), nothrow);
        if (ec) co_return;
      }
    case mode::reset: {
      boost::system::error_code ec;
      sock.set_option(asio::socket_base::linger(true, 0), ec);
      sock.close(ec);
      co_return;
    }
    case mode::slow: {
      // Wait out the delay, but notice a client that closes meanwhile (a proxy timing the
      // request out), so its connection does not linger here for the delay.
      timer.expires_after(slow_delay);
      auto first = co_await (timer.async_wait(nothrow) ||
                             sock.async_read_some(asio::buffer(chunk), nothrow));
      if (first.index() == 1) {
        auto [ec, n] = std::get<1>(first);
        if (ec || in.size() + n > max_pending_bytes) co_return;
        in.append(chunk.data(), n); // a pipelined request: read after this one is answered
        co_await timer.async_wait(nothrow);
      }
      auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(st.response), nothrow);
      if (wec) co_return;
      break;
    }
    }
  }
}

/// Prints one line as each phase ends, so a run's log shows the modes really cycled.
asio::awaitable<void> phase_reporter(shadow_state& st) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (std::uint64_t phase = 0;; ++phase) {
    timer.expires_at(st.start + st.period * static_cast<int>(phase + 1));
    co_await timer.async_wait(nothrow);
    std::printf("phase %llu (%s): %llu requests, %zu connections open\n",
                static_cast<unsigned long long>(phase),
                mode_names[static_cast<std::size_t>(shadow_state::mode_of(phase))],
                static_cast<unsigned long long>(st.phase_requests), st.open_connections);
    std::fflush(stdout);
    st.phase_requests = 0;
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::atoi(argv[2]) <= 0) {
    std::fprintf(stderr, "usage: parallax_cycling_shadow PORT PERIOD_S\n");
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  shadow_state st;
  st.period = std::chrono::seconds(std::atoi(argv[2]));
  const std::string body = R"({"id":1,"name":"widget","price":9.99,"tags":["a","b"],"ok":1})";
  st.response = parallax::bench::json_response(body);
  asio::io_context io(1);
  auto acceptor = parallax::bench::listen_loopback(io, port);
  st.start = clock_type::now();
  asio::co_spawn(io,
                 parallax::bench::accept_each(acceptor,
                                              [&](tcp::socket sock) {
                                                if (st.open_connections >= max_connections) {
                                                  return; // the socket closes here
                                                }
                                                asio::co_spawn(io, serve(std::move(sock), st),
                                                               log_exception);
                                              }),
                 log_exception);
  asio::co_spawn(io, phase_reporter(st), log_exception);
  io.run();
}
