// parallax_open_loop: an open-loop HTTP/1.1 load generator for latency at a fixed rate.
//
// wrk is closed-loop: a connection sends its next request only after the previous response,
// so when the server stalls, fewer requests are sent and the stall hides in few samples
// (coordinated omission). Here request i is due at start + i / rate whatever happens; a
// connection that is free takes the next due request, waits until its time if it is early,
// sends it, and the latency is measured from the time it was due, not from when it could be
// sent. Requests wait for a free connection like they would for a busy server.
//
//   parallax_open_loop --port P --path /x --rate R [--duration S] [--connections C]
// Prints one line: target and achieved rate, errors, and latency percentiles in ms.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bench/loadgen/content_length.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct options {
  unsigned short port = 0;
  std::string path = "/";
  double rate = 1000;
  double duration = 5;
  int connections = 64;
};

struct run_state {
  options opt;
  std::string request;
  clock_type::time_point start;
  std::uint64_t total = 0;  // requests in the schedule
  std::uint64_t next = 0;   // the next request to send
  std::uint64_t errors = 0; // connection failures and malformed responses
  std::vector<std::uint32_t> latency_us;
  clock_type::time_point last_done;

  [[nodiscard]] clock_type::time_point due(std::uint64_t i) const {
    return start + std::chrono::nanoseconds(
                       static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / opt.rate));
  }
};

// Bytes of the response to a GET in `buf` once its head is complete: head plus
// Content-Length, or 0 while incomplete, or -1 when the head has no Content-Length.
std::int64_t response_size(std::string_view buf) {
  const auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  const auto length = parallax::bench::content_length(buf.substr(0, end));
  return length ? static_cast<std::int64_t>(end + 4 + *length) : -1;
}

asio::awaitable<void> connection(run_state& st) {
  auto ex = co_await asio::this_coro::executor;
  const tcp::endpoint ep(asio::ip::address_v4::loopback(), st.opt.port);
  tcp::socket sock(ex);
  asio::steady_timer timer(ex);
  std::string buf;
  std::vector<char> chunk(64 * 1024);
  while (st.next < st.total) {
    const auto i = st.next++;
    const auto due = st.due(i);
    if (due > clock_type::now()) {
      timer.expires_at(due);
      co_await timer.async_wait(nothrow);
    }
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
      if (!sock.is_open()) {
        auto [cec] = co_await sock.async_connect(ep, nothrow);
        if (cec) {
          sock.close();
          continue;
        }
        sock.set_option(tcp::no_delay(true));
      }
      auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(st.request), nothrow);
      if (wec) {
        sock.close();
        continue;
      }
      buf.clear();
      std::int64_t need = 0;
      for (;;) {
        auto [rec, rn] = co_await sock.async_read_some(asio::buffer(chunk), nothrow);
        if (rec) break;
        buf.append(chunk.data(), rn);
        need = response_size(buf);
        if (need < 0 || (need > 0 && buf.size() >= static_cast<std::size_t>(need))) break;
      }
      if (need > 0 && buf.size() >= static_cast<std::size_t>(need)) {
        ok = true;
      } else {
        sock.close(); // broken or unframed: a fresh connection for the next request
        if (need < 0) break;
      }
    }
    const auto done = clock_type::now();
    if (!ok) {
      ++st.errors;
      continue;
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(done - due).count();
    st.latency_us.push_back(
        static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, UINT32_MAX)));
    st.last_done = done;
  }
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port")
      o.port = static_cast<unsigned short>(std::atoi(v));
    else if (k == "--path")
      o.path = v;
    else if (k == "--rate")
      o.rate = std::atof(v);
    else if (k == "--duration")
      o.duration = std::atof(v);
    else if (k == "--connections")
      o.connections = std::atoi(v);
    else
      return false;
  }
  return argc % 2 == 1 && o.port != 0 && o.rate > 0 && o.duration > 0 && o.connections > 0;
}

double percentile_ms(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1));
  return sorted[idx] / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
  run_state st;
  if (!parse(argc, argv, st.opt)) {
    std::fprintf(stderr, "usage: parallax_open_loop --port P --path /x --rate R "
                         "[--duration S] [--connections C]\n");
    return 2;
  }
  st.request = "GET " + st.opt.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  st.total = static_cast<std::uint64_t>(st.opt.rate * st.opt.duration);
  st.latency_us.reserve(st.total);
  asio::io_context io(1);
  st.start = clock_type::now() + std::chrono::milliseconds(100); // connections open first
  for (int c = 0; c < st.opt.connections; ++c)
    asio::co_spawn(io, connection(st), asio::detached);
  io.run();
  auto lat = st.latency_us;
  std::sort(lat.begin(), lat.end());
  const double elapsed = std::chrono::duration<double>(st.last_done - st.start).count();
  std::printf("rate %.0f achieved %.0f requests %zu errors %llu p50 %.3f p90 %.3f p99 %.3f "
              "p99.9 %.3f max %.3f ms\n",
              st.opt.rate, elapsed > 0 ? static_cast<double>(lat.size()) / elapsed : 0.0,
              lat.size(), static_cast<unsigned long long>(st.errors), percentile_ms(lat, 50),
              percentile_ms(lat, 90), percentile_ms(lat, 99), percentile_ms(lat, 99.9),
              lat.empty() ? 0.0 : lat.back() / 1000.0);
  return st.errors == 0 ? 0 : 1;
}
