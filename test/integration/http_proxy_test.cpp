// Proxying behaviour through a real listener and real loopback backends (proxy.md "Proxying").

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "test/integration/proxy_fixture.hpp"
#include "test/support/gate.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;

raw_client connect_to(std::uint16_t port) {
  raw_client c;
  EXPECT_TRUE(c.connect(port)) << c.last_error();
  return c;
}

TEST(HttpProxyTest, ForwardsRequestAndReusesUpstreamConnection) {
  http_backend live(echo_handler("live"));
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  for (int i = 0; i < 3; ++i) {
    auto res = client.round_trip(raw_client::request("GET", "/items?x=" + std::to_string(i)));
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.status, 200);
    EXPECT_NE(res.body.find("\"target\":\"/items?x=" + std::to_string(i) + "\""),
              std::string::npos);
  }
  EXPECT_EQ(live.requests_seen(), 3u);
  EXPECT_EQ(live.connections_accepted(), 1u); // keep-alive on both sides
}

TEST(HttpProxyTest, AnswersPipelinedRequestsInOrder) {
  gate first_done;
  http_backend live([&](const received_request& req, backend_connection& c) {
    if (req.target == "/slow") first_done.wait();
    c.respond(200, req.target);
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  ASSERT_TRUE(client.send(raw_client::request("GET", "/slow") + raw_client::request("GET", "/a") +
                          raw_client::request("GET", "/b")));
  ASSERT_TRUE(live.wait_for_requests(1, 5s));
  first_done.release();
  for (const char* expected : {"/slow", "/a", "/b"}) {
    auto res = client.read_response();
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.body, expected);
  }
}

// An idle connection waits with a read into a 1 KiB inline buffer and borrows the worker's
// 16 KiB buffer when bytes arrive: heads on either side of that size, and a pipelined pair
// arriving together after idling, must all reach the upstream intact on one connection.
TEST(HttpProxyTest, KeepsHeadsIntactAroundTheIdleReadBufferSize) {
  http_backend live([](const received_request& req, backend_connection& c) {
    const auto pad = find_header(req.headers, "x-pad").value_or("");
    const bool intact = pad.find_first_not_of('p') == std::string::npos;
    c.respond(200, req.target + " " + std::to_string(pad.size()) + (intact ? " ok" : " bad"));
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  const auto request = [](std::size_t head_bytes, const std::string& target) {
    const auto bare = raw_client::request("GET", target, {{"X-Pad", ""}});
    const auto pad = head_bytes > bare.size() ? head_bytes - bare.size() : 0;
    return raw_client::request("GET", target, {{"X-Pad", std::string(pad, 'p')}});
  };
  for (const std::size_t size : {100, 1023, 1024, 1025, 2048, 3000, 9000}) {
    const auto target = "/size" + std::to_string(size);
    const auto raw = request(size, target);
    ASSERT_EQ(raw.size(), size);
    ASSERT_TRUE(client.send(raw));
    auto res = client.read_response();
    ASSERT_TRUE(res.ok()) << size << ": " << res.error;
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body.substr(0, target.size()), target);
    EXPECT_EQ(res.body.substr(res.body.size() - 3), " ok") << size;
  }
  // Two requests in one write after the connection went idle, the second crossing 1 KiB.
  ASSERT_TRUE(client.send(request(700, "/first") + request(700, "/second")));
  for (const char* expected : {"/first", "/second"}) {
    auto res = client.read_response();
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.body.substr(0, std::string_view(expected).size()), expected);
    EXPECT_EQ(res.body.substr(res.body.size() - 3), " ok");
  }
  EXPECT_EQ(live.connections_accepted(), 1u);
}

// A head that arrives in pieces is read piece by piece (on plain TCP the session waits for each
// without holding a pooled buffer, then reads what came): the upstream gets it whole, also for
// a second request on the connection and for a head much larger than one piece.
TEST(HttpProxyTest, AssemblesAHeadSentInSmallPieces) {
  http_backend live([](const received_request& req, backend_connection& c) {
    c.respond(200, req.target + " " + find_header(req.headers, "x-pad").value_or("-"));
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  const std::string pad(3000, 'p');
  for (const std::string target : {"/first", "/second"}) {
    const std::string head = "GET " + target + " HTTP/1.1\r\nHost: a\r\nX-Pad: " + pad + "\r\n\r\n";
    for (std::size_t at = 0; at < head.size(); at += 7) {
      ASSERT_TRUE(client.send(head.substr(at, 7)));
    }
    auto res = client.read_response();
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, target + " " + pad);
  }
}

TEST(HttpProxyTest, StripsHopByHopHeadersAndAddsForwardedHeaders) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  auto res = client.round_trip(raw_client::request("GET", "/h",
                                                   {{"Host", "shop.example.com"},
                                                    {"Connection", "keep-alive, X-Secret-Hop"},
                                                    {"X-Secret-Hop", "1"},
                                                    {"Keep-Alive", "timeout=5"},
                                                    {"Proxy-Connection", "keep-alive"},
                                                    {"TE", "trailers"},
                                                    {"X-Forwarded-For", "10.0.0.1"},
                                                    {"X-Custom", "kept"}}));
  ASSERT_TRUE(res.ok()) << res.error;
  const auto req = live.last_request();
  EXPECT_FALSE(req.header("x-secret-hop"));
  EXPECT_FALSE(req.header("keep-alive"));
  EXPECT_FALSE(req.header("proxy-connection"));
  EXPECT_FALSE(req.header("te"));
  EXPECT_EQ(req.header("x-custom").value_or(""), "kept");
  EXPECT_EQ(req.header("host").value_or(""), "shop.example.com");
  EXPECT_EQ(req.header("x-forwarded-for").value_or(""), "10.0.0.1, 127.0.0.1");
  EXPECT_EQ(req.header("x-forwarded-proto").value_or(""), "http");
  EXPECT_EQ(req.header("x-forwarded-host").value_or(""), "shop.example.com");
}

TEST(HttpProxyTest, ForwardsChunkedRequestBodyChunkedWithItsTrailers) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  auto res = client.round_trip(raw_client::chunked_request(
      "POST", "/upload", {}, {"hello ", "chunked ", "world"},
      {{"X-Checksum", "abc"}, {"Host", "elsewhere"}, {"Content-Length", "5"}, {"X-Digest", "d"}}));
  ASSERT_TRUE(res.ok()) << res.error;
  const auto req = live.last_request();
  EXPECT_TRUE(req.chunked);
  EXPECT_EQ(req.body, "hello chunked world");
  // Passed on in the last chunk, but not the routing and framing fields (RFC 9110 6.5.1).
  ASSERT_EQ(req.trailers.size(), 2u);
  EXPECT_EQ(req.trailers[0].first, "X-Checksum");
  EXPECT_EQ(req.trailers[0].second, "abc");
  EXPECT_EQ(req.trailers[1].first, "X-Digest");
  // The connection carries the next request.
  auto again = client.round_trip(raw_client::request("GET", "/next"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(live.last_request().target, "/next");
}

TEST(HttpProxyTest, RelaysChunkedResponseWithItsTrailers) {
  http_backend live([](const received_request&, backend_connection& c) {
    c.respond_chunked(200, {"one,", "two,", "three"}, {},
                      {{"X-Checksum", "abc"}, {"Host", "elsewhere"}, {"Keep-Alive", "5"}});
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  auto res = client.round_trip(raw_client::request("GET", "/c"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_TRUE(res.chunked);
  EXPECT_EQ(res.body, "one,two,three");
  // Passed on in the last chunk, but not the routing and hop-by-hop fields (RFC 9110 6.5.1).
  ASSERT_EQ(res.trailers.size(), 1u);
  EXPECT_EQ(res.trailers[0].first, "X-Checksum");
  EXPECT_EQ(res.trailers[0].second, "abc");
  // The connection is still usable afterwards.
  auto again = client.round_trip(raw_client::request("GET", "/c"));
  EXPECT_EQ(again.status, 200);
}

TEST(HttpProxyTest, RelaysCloseDelimitedResponseAsChunked) {
  http_backend live([](const received_request&, backend_connection& c) {
    c.write_raw("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    c.close();
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  auto res = client.round_trip(raw_client::request("GET", "/eof"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_TRUE(res.chunked);
  EXPECT_EQ(res.body, "until the end");
  EXPECT_TRUE(res.keep_alive);
}

TEST(HttpProxyTest, HeadResponseKeepsContentLengthWithoutBody) {
  http_backend live([](const received_request&, backend_connection& c) {
    c.write_raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  auto res = client.round_trip(raw_client::request("HEAD", "/h"), true);
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.header("content-length").value_or(""), "1000");
  EXPECT_EQ(res.body_size, 0u);
  auto again = client.round_trip(raw_client::request("HEAD", "/h"), true);
  EXPECT_EQ(again.status, 200);
}

TEST(HttpProxyTest, NoBodyFor204And304) {
  http_backend live([](const received_request& req, backend_connection& c) {
    c.respond(req.target == "/204" ? 204 : 304, "");
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  auto a = client.round_trip(raw_client::request("GET", "/204"));
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.status, 204);
  EXPECT_FALSE(a.header("transfer-encoding"));
  auto b = client.round_trip(raw_client::request("GET", "/304"));
  ASSERT_TRUE(b.ok()) << b.error;
  EXPECT_EQ(b.status, 304);
  EXPECT_EQ(b.body_size, 0u);
  auto c = client.round_trip(raw_client::request("GET", "/204"));
  EXPECT_EQ(c.status, 204);
}

TEST(HttpProxyTest, SendsContinueThenForwardsBody) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  ASSERT_TRUE(client.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Expect: 100-continue\r\n\r\n"));
  auto interim = client.read_response();
  ASSERT_TRUE(interim.ok()) << interim.error;
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.send("hello"));
  auto res = client.read_response();
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(live.last_request().body, "hello");
  EXPECT_FALSE(live.last_request().header("expect"));
}

TEST(HttpProxyTest, TunnelsWebSocketUpgrade) {
  http_backend live([](const received_request&, backend_connection& c) {
    c.write_raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\n\r\n");
    for (;;) {
      auto data = c.read_some(1024, 5s);
      if (!data) return;
      if (!c.write_raw("echo:" + *data)) return;
    }
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  auto res = client.round_trip(
      raw_client::request("GET", "/ws", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 101);
  ASSERT_TRUE(client.send("ping"));
  auto echoed = client.read_exact(9);
  ASSERT_TRUE(echoed.ok());
  EXPECT_EQ(echoed.data, "echo:ping");
  EXPECT_TRUE(live.last_request().upgrade);
}

TEST(HttpProxyTest, RoutesAbsoluteFormTargetToConfiguredUpstreamOnly) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  auto res = client.round_trip("GET http://elsewhere.example/secret?q=1 HTTP/1.1\r\n"
                               "Host: elsewhere.example\r\n\r\n");
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(live.last_request().target, "/secret?q=1");
}

TEST(HttpProxyTest, RetriesOnceWhenPooledConnectionWasClosed) {
  // The backend closes each connection after answering without saying so, like a server
  // whose keep-alive timeout just expired.
  http_backend live([](const received_request&, backend_connection& c) {
    c.respond(200, "fresh");
    c.close();
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  for (int i = 0; i < 3; ++i) {
    auto res = client.round_trip(raw_client::request("GET", "/r"));
    ASSERT_TRUE(res.ok()) << "request " << i << ": " << res.error;
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "fresh");
  }
  EXPECT_EQ(live.connections_accepted(), 3u);
}

TEST(HttpProxyTest, SkipsClosedPooledConnectionForRequestWithBody) {
  // A body cannot be replayed, so a pooled connection the upstream closed must be noticed
  // before it is used, not after.
  gate closed;
  http_backend live([&](const received_request& req, backend_connection& c) {
    c.respond(200, req.method + " " + std::to_string(req.body.size()));
    c.close();
    closed.release();
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  EXPECT_EQ(client.round_trip(raw_client::request("GET", "/first")).body, "GET 0");
  ASSERT_TRUE(closed.wait_for(5s)); // the upstream's FIN is on its way before we go on
  auto res = client.round_trip(raw_client::request("POST", "/second", {}, "payload"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "POST 7");
  EXPECT_EQ(live.connections_accepted(), 2u);
}

TEST(HttpProxyTest, BalancesRoundRobinOverEndpoints) {
  http_backend a(echo_handler("a"));
  http_backend b(echo_handler("b"));
  running_proxy proxy(simple_config(), {{"live", a.address() + "\", \"" + b.address()}});
  auto client = connect_to(proxy.port());
  for (int i = 0; i < 4; ++i) {
    auto res = client.round_trip(raw_client::request("GET", "/rr"));
    ASSERT_EQ(res.status, 200);
  }
  EXPECT_EQ(a.requests_seen(), 2u);
  EXPECT_EQ(b.requests_seen(), 2u);
}

TEST(HttpProxyTest, ResolvesDnsNameEndpoints) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config("", ", resolve_interval: 100ms"),
                      {{"live", "localhost:" + std::to_string(live.port())}});
  auto client = connect_to(proxy.port());
  auto res = client.round_trip(raw_client::request("GET", "/dns"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
}

TEST(HttpProxyTest, RoutesByPathMethodHostAndHeaders) {
  http_backend a(echo_handler("a"));
  http_backend b(echo_handler("b"));
  http_backend c(echo_handler("c"));
  const std::string yaml = "version: 1\n"
                           "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                           "admin: { address: \"127.0.0.1:0\" }\n"
                           "workers: 1\n"
                           "upstreams:\n"
                           "  a: { endpoints: [\"{a}\"] }\n"
                           "  b: { endpoints: [\"{b}\"] }\n"
                           "  c: { endpoints: [\"{c}\"] }\n"
                           "routes:\n"
                           "  - name: exact\n"
                           "    match: { path_exact: /health }\n"
                           "    upstream: a\n"
                           "  - name: canary\n"
                           "    match: { path_prefix: /api/, headers: { x-canary: \"1\" } }\n"
                           "    upstream: b\n"
                           "  - name: writes\n"
                           "    match: { path_prefix: /api/, methods: [POST], host: shop.test }\n"
                           "    upstream: c\n"
                           "  - name: api\n"
                           "    match: { path_prefix: /api/ }\n"
                           "    upstream: a\n";
  running_proxy proxy(yaml, {{"a", a.address()}, {"b", b.address()}, {"c", c.address()}});
  auto client = connect_to(proxy.port());
  auto backend_of = [&](const std::string& raw) {
    auto res = client.round_trip(raw);
    if (res.status != 200) return std::to_string(res.status);
    const auto pos = res.body.find("\"backend\":\"");
    return res.body.substr(pos + 11, 1);
  };
  EXPECT_EQ(backend_of(raw_client::request("GET", "/health")), "a");
  EXPECT_EQ(backend_of(raw_client::request("GET", "/health/x")), "404");
  EXPECT_EQ(backend_of(raw_client::request("GET", "/api/x", {{"X-Canary", "1"}})), "b");
  EXPECT_EQ(backend_of(raw_client::request("POST", "/api/x", {{"Host", "shop.test:8080"}}, "b")),
            "c");
  EXPECT_EQ(backend_of(raw_client::request("POST", "/api/x", {{"Host", "other.test"}}, "b")), "a");
  EXPECT_EQ(backend_of(raw_client::request("GET", "/other")), "404");
}

TEST(HttpProxyTest, StreamsLargeBodiesBothWays) {
  constexpr std::uint64_t size = 64ull << 20;
  http_backend live(
      [](const received_request& req, backend_connection& c) {
        if (req.method == "POST") {
          c.respond(200,
                    std::to_string(req.body_size) + (req.body_matches_pattern ? " ok" : " bad"));
        } else {
          c.stream_body(200, size, req.target == "/chunked");
        }
      },
      [] {
        backend_options o;
        o.max_stored_body = 0;
        return o;
      }());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto client = connect_to(proxy.port());
  for (const char* target : {"/plain", "/chunked"}) {
    ASSERT_TRUE(client.send(raw_client::request("GET", target)));
    auto res = client.read_response_discard_body();
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.body_size, size);
    EXPECT_TRUE(res.body_matches_pattern);
  }
  // Upload: pattern bytes in 1 MiB pieces.
  ASSERT_TRUE(client.send(
      "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n"));
  std::string piece(1 << 20, '\0');
  for (std::uint64_t off = 0; off < size; off += piece.size()) {
    for (std::size_t i = 0; i < piece.size(); ++i)
      piece[i] = char('a' + (off + i) % 26);
    ASSERT_TRUE(client.send(piece));
  }
  auto res = client.read_response();
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.body, std::to_string(size) + " ok");
}

} // namespace
} // namespace parallax::test
