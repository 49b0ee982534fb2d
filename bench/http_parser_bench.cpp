// The llhttp adapter on a keep-alive connection: one browser request head, an upstream
// response, a pipelined batch, and chunked request bodies. One parser is reused across
// iterations, as a session reuses it across the requests of a connection, so header storage
// is warm and no allocation is timed.

#include "proxy/http/parser.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parallax::proxy::http {
namespace {

// A typical browser navigation request: 9 fields, 400 bytes of head.
constexpr std::string_view browser_request =
    "GET /cart/7 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://www.example.com/\r\n"
    "Cookie: sid=4f2a9c1e7b3d; theme=dark\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "\r\n";
static_assert(browser_request.size() == 400);

// Feeds `in` until `messages` messages are complete; the number completed (fewer on error).
std::size_t parse_messages(parser& p, std::string_view in, std::size_t messages) {
  std::size_t offset = 0;
  std::size_t done = 0;
  while (done < messages) {
    const auto r = p.feed(in.substr(offset));
    offset += r.consumed;
    p.clear_body();
    if (r.status == parse_status::message_complete) {
      ++done;
    } else if (r.status == parse_status::error ||
               (r.status == parse_status::need_more && offset == in.size())) {
      break;
    }
  }
  return done;
}

// Sixteen keep-alive API requests as one read delivers them: GETs, and a POST with a body.
std::string pipelined_batch(std::size_t& messages) {
  std::string batch;
  messages = 0;
  for (int i = 0; i < 16; ++i) {
    const std::string id = std::to_string(1000 + i);
    if (i % 4 == 3) {
      const std::string body = R"({"item":)" + id + R"(,"qty":1})";
      batch += "POST /api/v1/cart/items HTTP/1.1\r\nHost: api.example.com\r\n"
               "Content-Type: application/json\r\nAccept: application/json\r\n"
               "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    } else {
      batch += "GET /api/v1/items/" + id +
               "?fields=name,price HTTP/1.1\r\nHost: api.example.com\r\n"
               "Accept: application/json\r\n"
               "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\r\n\r\n";
    }
    ++messages;
  }
  return batch;
}

// A POST whose `total` body bytes come in chunks of `chunk` bytes (with a chunk extension on
// the first one and a trailer, both of which the parser drops).
std::string chunked_request(std::size_t total, std::size_t chunk) {
  std::string in = "POST /upload HTTP/1.1\r\nHost: api.example.com\r\n"
                   "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::array<char, 24> hex{};
  bool first = true;
  for (std::size_t sent = 0; sent < total; sent += chunk) {
    const std::size_t n = total - sent < chunk ? total - sent : chunk;
    const auto hex_end = std::to_chars(hex.data(), hex.data() + hex.size(), n, 16).ptr;
    in.append(hex.data(), hex_end);
    if (first) in.append(";ext=1");
    first = false;
    in.append("\r\n");
    for (std::size_t i = 0; i < n; ++i)
      in.push_back(static_cast<char>('a' + (sent + i) % 26));
    in.append("\r\n");
  }
  in.append("0\r\nX-Checksum: 1234\r\n\r\n");
  return in;
}

void http_parser_request_head(benchmark::State& state) {
  parser p(parser::mode::request);
  if (parse_messages(p, browser_request, 1) != 1 || p.request().headers.size() != 9) {
    state.SkipWithError("the browser request did not parse");
    return;
  }
  for ([[maybe_unused]] auto _ : state) {
    const auto head = p.feed(browser_request);
    const auto end = p.feed({});
    benchmark::DoNotOptimize(head);
    benchmark::DoNotOptimize(end);
    benchmark::DoNotOptimize(p.request().headers.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(browser_request.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::to_string(browser_request.size()) + " B head");
}
BENCHMARK(http_parser_request_head);

// Times `parse` (checked once beforehand); `bytes` of input per run, one item per run.
template <typename Parse>
void time_parse(benchmark::State& state, const Parse& parse, std::size_t bytes) {
  for ([[maybe_unused]] auto _ : state) {
    benchmark::DoNotOptimize(parse());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// A JSON API response as an upstream sends it: 10 fields and a 1,834-byte body.
std::string api_response() {
  const std::string body(1834, 'x');
  return "HTTP/1.1 200 OK\r\nDate: Mon, 08 Jan 2024 10:15:42 GMT\r\nServer: orders/2.4.1\r\n"
         "Content-Type: application/json; charset=utf-8\r\nContent-Length: 1834\r\n"
         "Cache-Control: private, max-age=0, no-cache\r\nETag: W/\"72a-18cf0d5c\"\r\n"
         "Vary: Accept-Encoding, Origin\r\nX-Request-Id: 7f3c2a10-5b6e-4d8f-9a21-0c4e8b7d6f53\r\n"
         "Strict-Transport-Security: max-age=31536000\r\nConnection: keep-alive\r\n\r\n" +
         body;
}

// The upstream side: one response (head and body) per upstream exchange, the parser reset
// between them as an upstream connection's exchange does.
void http_parser_response(benchmark::State& state) {
  const std::string in = api_response();
  parser p(parser::mode::response);
  const auto parse = [&] {
    p.reset();
    return parse_messages(p, in, 1);
  };
  if (parse() != 1 || p.response().status != 200 || p.response().headers.size() != 10) {
    state.SkipWithError("the API response did not parse");
    return;
  }
  time_parse(state, parse, in.size());
  state.SetLabel(std::to_string(in.size()) + " B response");
}
BENCHMARK(http_parser_response);

void http_parser_pipelined_batch(benchmark::State& state) {
  std::size_t messages = 0;
  const std::string batch = pipelined_batch(messages);
  parser p(parser::mode::request);
  if (parse_messages(p, batch, messages) != messages) {
    state.SkipWithError("the pipelined batch did not parse");
    return;
  }
  for ([[maybe_unused]] auto _ : state) {
    benchmark::DoNotOptimize(parse_messages(p, batch, messages));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(batch.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(messages));
  state.SetLabel(std::to_string(messages) + " requests, " + std::to_string(batch.size()) + " B");
}
BENCHMARK(http_parser_pipelined_batch);

// Argument: chunk size; the body is 64 KiB.
void http_parser_chunked_body(benchmark::State& state) {
  constexpr std::size_t body_size = std::size_t{64} * 1024;
  const std::string in = chunked_request(body_size, static_cast<std::size_t>(state.range(0)));
  parser p(parser::mode::request);
  // Body bytes are counted the way the session forwards them: piece by piece after each feed.
  auto parse = [&] {
    std::size_t offset = 0;
    std::uint64_t body = 0;
    for (;;) {
      const auto r = p.feed(std::string_view(in).substr(offset));
      offset += r.consumed;
      for (const auto piece : p.body())
        body += piece.size();
      p.clear_body();
      if (r.status == parse_status::message_complete) return body;
      if (r.status == parse_status::error ||
          (r.status == parse_status::need_more && offset == in.size())) {
        return std::uint64_t{0};
      }
    }
  };
  if (parse() != body_size) {
    state.SkipWithError("the chunked request did not parse");
    return;
  }
  time_parse(state, parse, in.size());
}
BENCHMARK(http_parser_chunked_body)->Arg(256)->Arg(4096)->Arg(16384);

} // namespace
} // namespace parallax::proxy::http
