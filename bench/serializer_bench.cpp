// Head writing, i.e. the proxy's header rewriting: hop-by-hop fields dropped, framing
// rewritten, X-Forwarded-* added or merged. The output string is reused across iterations,
// as a session reuses its write buffer, so only the rewriting itself is timed.

#include "proxy/http/serializer.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace parallax::proxy::http {
namespace {

// A browser request that already passed a proxy: 12 fields, two X-Forwarded-For fields to
// merge, and hop-by-hop Connection/Keep-Alive to drop.
request_head forwarded_request() {
  request_head req;
  req.method = "GET";
  req.target = "/api/v1/orders?page=2&sort=-created";
  req.version_minor = 1;
  auto& h = req.headers;
  h.add("Host", "shop.example.com");
  h.add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0");
  h.add("Accept", "application/json, text/plain, */*");
  h.add("Accept-Language", "en-US,en;q=0.5");
  h.add("Accept-Encoding", "gzip, deflate, br");
  h.add("Referer", "https://shop.example.com/orders");
  h.add("Cookie", "sid=4f2a9c1e7b3d; theme=dark");
  h.add("X-Forwarded-For", "203.0.113.7");
  h.add("X-Request-Id", "7f3c2a10-5b6e-4d8f-9a21-0c4e8b7d6f53");
  h.add("X-Forwarded-For", "10.1.2.3");
  h.add("Connection", "keep-alive");
  h.add("Keep-Alive", "timeout=5");
  return req;
}

// A JSON API response with 10 fields, Connection among them.
response_head api_response() {
  response_head res;
  res.status = 200;
  res.reason = "OK";
  auto& h = res.headers;
  h.add("Date", "Mon, 08 Jan 2024 10:15:42 GMT");
  h.add("Server", "orders/2.4.1");
  h.add("Content-Type", "application/json; charset=utf-8");
  h.add("Content-Length", "1834");
  h.add("Cache-Control", "private, max-age=0, no-cache");
  h.add("ETag", "W/\"72a-18cf0d5c\"");
  h.add("Vary", "Accept-Encoding, Origin");
  h.add("X-Request-Id", "7f3c2a10-5b6e-4d8f-9a21-0c4e8b7d6f53");
  h.add("Strict-Transport-Security", "max-age=31536000");
  h.add("Connection", "keep-alive");
  return res;
}

void serializer_request_head(benchmark::State& state) {
  const request_head req = forwarded_request();
  const forwarding_info info{"192.0.2.10", true};
  std::string out;
  write_request_head(out, req, info, body_framing::none, 0);
  if (req.headers.size() != 12 ||
      out.find("X-Forwarded-For: 203.0.113.7, 10.1.2.3, 192.0.2.10\r\n") == std::string::npos ||
      out.find("Keep-Alive") != std::string::npos) {
    state.SkipWithError("the request head was not rewritten as expected");
    return;
  }
  const std::size_t head_size = out.size();
  for ([[maybe_unused]] auto _ : state) {
    out.clear();
    write_request_head(out, req, info, body_framing::none, 0);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(head_size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::to_string(head_size) + " B head written");
}
BENCHMARK(serializer_request_head);

void serializer_response_head(benchmark::State& state) {
  const response_head res = api_response();
  std::string out;
  write_response_head(out, res, body_framing::content_length, 1834, true, 1);
  if (out.find("Content-Length: 1834\r\n") == std::string::npos ||
      out.find("Connection") != std::string::npos) {
    state.SkipWithError("the response head was not rewritten as expected");
    return;
  }
  const std::size_t head_size = out.size();
  for ([[maybe_unused]] auto _ : state) {
    out.clear();
    write_response_head(out, res, body_framing::content_length, 1834, true, 1);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(head_size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::to_string(head_size) + " B head written");
}
BENCHMARK(serializer_response_head);

} // namespace
} // namespace parallax::proxy::http
