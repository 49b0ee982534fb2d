#include "proxy/server/probe.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <optional>
#include <string_view>

#include "proxy/net/asio.hpp"

namespace parallax::proxy::server {

namespace {

struct parsed_url {
  std::string host;
  std::string port;
  std::string path;
};

// http://HOST[:PORT][/PATH]; nothing for anything else.
std::optional<parsed_url> parse_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  const auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  parsed_url out;
  out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  out.port = "80";
  if (authority.starts_with('[')) { // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return std::nullopt;
      out.port = std::string(authority.substr(1));
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
  } else {
    out.host = std::string(authority);
  }
  if (out.host.empty() || out.port.empty() ||
      out.port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return out;
}

// Resolve, connect, send the request and read until the server closes (it answers
// `Connection: close`); the first failure is kept in `failure`.
awaitable<void> exchange(tcp::socket& socket, const parsed_url& target, std::string& response,
                         std::size_t max_bytes, error_code& failure) {
  tcp::resolver resolver(socket.get_executor());
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(target.host, target.port, use_nothrow);
  if ((failure = resolve_ec)) co_return;
  auto [connect_ec, ignored] = co_await asio::async_connect(socket, endpoints, use_nothrow);
  if ((failure = connect_ec)) co_return;
  const std::string request = "GET " + target.path + " HTTP/1.1\r\nHost: " + target.host +
                              "\r\nUser-Agent: parallax-probe\r\nConnection: close\r\n\r\n";
  auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(request), use_nothrow);
  if ((failure = write_ec)) co_return;
  auto [read_ec, read] =
      co_await asio::async_read(socket, asio::dynamic_buffer(response, max_bytes), use_nothrow);
  if (read_ec && read_ec != asio::error::eof) failure = read_ec;
}

} // namespace

http_get_result http_get(const std::string& url, std::chrono::milliseconds timeout,
                         std::size_t max_bytes) {
  http_get_result result;
  const auto target = parse_url(url);
  if (!target) {
    result.error = "not an http://HOST:PORT/PATH URL: " + url;
    return result;
  }
  asio::io_context io(1);
  tcp::socket socket(io);
  std::string response;
  error_code failure;
  asio::co_spawn(io, exchange(socket, *target, response, max_bytes, failure), asio::detached);
  io.run_for(timeout);
  const bool timed_out = !io.stopped();
  const auto line_end = response.find("\r\n");
  const std::string_view line = line_end == std::string::npos
                                    ? std::string_view()
                                    : std::string_view(response).substr(0, line_end);
  // "HTTP/1.x NNN reason"
  if (line.size() >= 12 && line.starts_with("HTTP/1.") && line[8] == ' ') {
    int status = 0;
    for (const char c : line.substr(9, 3))
      status = status * 10 + (c >= '0' && c <= '9' ? c - '0' : 1000);
    if (status >= 100 && status <= 999) {
      result.status = status;
      result.status_line = std::string(line);
      if (const auto head_end = response.find("\r\n\r\n"); head_end != std::string::npos) {
        result.body = response.substr(head_end + 4);
      }
      // A status line but not the whole response: the body is incomplete.
      if (timed_out) {
        result.error = "no complete answer within " + std::to_string(timeout.count()) + " ms";
      } else if (response.size() >= max_bytes) { // the read stops when its buffer is full
        result.error = "response longer than " + std::to_string(max_bytes) + " bytes";
      } else if (failure) {
        result.error = failure.message();
      }
      return result;
    }
  }
  if (timed_out) {
    result.error = "no answer within " + std::to_string(timeout.count()) + " ms";
  } else if (failure) {
    result.error = failure.message();
  } else {
    result.error = "not an HTTP response";
  }
  return result;
}

probe_result probe(const std::string& url, std::chrono::milliseconds timeout) {
  // A health check needs the status line only; 64 KiB is plenty for any admin answer's head.
  const auto got = http_get(url, timeout, std::size_t{64} * 1024);
  probe_result result;
  result.status = got.status;
  result.ok = got.status >= 200 && got.status < 300;
  result.message = got.status != 0 ? got.status_line : got.error;
  return result;
}

} // namespace parallax::proxy::server
