// Responses the proxy produces itself (proxy.md error table) and request-smuggling defences.

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "test/integration/proxy_fixture.hpp"
#include "test/support/blackhole_server.hpp"
#include "test/support/gate.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;

struct error_case {
  const char* name;
  std::string raw;
  int status;
};

class ProxyErrorsTest : public ::testing::Test {
protected:
  http_backend live_{echo_handler()};
};

TEST_F(ProxyErrorsTest, RejectsMalformedAndSmugglingRequestsWith400AndCloses) {
  running_proxy proxy(simple_config(), {{"live", live_.address()}});
  const error_case cases[] = {
      {"garbage request line", "HELLO\r\n\r\n", 400},
      {"bad version", "GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400},
      {"space in header name", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
      {"bare CR", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
      {"CR hiding a Transfer-Encoding",
       "POST / HTTP/1.1\r\nHost: x\r\nx:\rTransfer-Encoding: chunked\r\nContent-Length: 3\r\n"
       "\r\n0\r\n\r\n",
       400},
      {"CR ending the head early", "GET / HTTP/1.1\r\nHost: a\r\n\rZGET /evil HTTP/1.1\r\n\r\n",
       400},
      {"NUL in value", std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 37), 400},
      {"CL and TE",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"differing CL",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
       "Content-Length: 4\r\n\r\nabcd",
       400},
      {"TE not ending in chunked",
       "POST / HTTP/1.1\r\nHost: x\r\n"
       "Transfer-Encoding: chunked, gzip\r\n\r\n",
       400},
      {"TE gzip only", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400},
      {"invalid CL", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400},
      {"two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"missing Host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"bad chunk size",
       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "zz\r\nabc\r\n0\r\n\r\n",
       400},
      {"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405},
      // Found by request_parser_fuzz: a CONNECT's Content-Length frames nothing (what follows
      // is never parsed): 405 and close, so the "body" cannot smuggle a request.
      {"CONNECT with Content-Length",
       "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 1\r\n\r\n"
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx",
       405},
  };
  for (const auto& c : cases) {
    raw_client client;
    ASSERT_TRUE(client.connect(proxy.port()));
    auto res = client.round_trip(c.raw);
    ASSERT_TRUE(res.ok()) << c.name << ": " << res.error;
    EXPECT_EQ(res.status, c.status) << c.name;
    EXPECT_EQ(res.header("connection").value_or(""), "close") << c.name;
    EXPECT_TRUE(client.wait_closed(5s)) << c.name;
  }
  // Nothing malformed reached the backend, except the body-less part of none.
  EXPECT_EQ(live_.requests_seen(), 0u);
}

TEST_F(ProxyErrorsTest, Answers404WhenNoRouteMatchesAndKeepsConnection) {
  const std::string yaml =
      "version: 1\n"
      "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
      "admin: { address: \"127.0.0.1:0\" }\n"
      "upstreams: { live: { endpoints: [\"{live}\"] } }\n"
      "routes: [{ name: api, match: { path_prefix: /api/ }, upstream: live }]\n";
  running_proxy proxy(yaml, {{"live", live_.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res = client.round_trip(raw_client::request("GET", "/nope"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 404);
  EXPECT_FALSE(res.header("connection"));
  auto ok = client.round_trip(raw_client::request("GET", "/api/x"));
  EXPECT_EQ(ok.status, 200);
}

TEST_F(ProxyErrorsTest, Answers431ForOversizedHead) {
  running_proxy proxy(simple_config("limits: { max_request_header_bytes: 1KiB }\n"),
                      {{"live", live_.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res =
      client.round_trip(raw_client::request("GET", "/", {{"X-Big", std::string(2000, 'v')}}));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 431);
  EXPECT_TRUE(client.wait_closed(5s));
  // Just under the limit passes.
  raw_client small;
  ASSERT_TRUE(small.connect(proxy.port()));
  EXPECT_EQ(
      small.round_trip(raw_client::request("GET", "/", {{"X-Big", std::string(800, 'v')}})).status,
      200);
}

TEST_F(ProxyErrorsTest, Answers431ForMoreHeaderFieldsThanTheLimit) {
  running_proxy proxy(simple_config("limits: { max_request_headers: 5 }\n"),
                      {{"live", live_.address()}});
  header_list at_limit;
  for (int i = 0; i < 4; ++i) // with Host: five fields
    at_limit.emplace_back("X-" + std::to_string(i), "v");
  raw_client ok;
  ASSERT_TRUE(ok.connect(proxy.port()));
  EXPECT_EQ(ok.round_trip(raw_client::request("GET", "/", at_limit)).status, 200);
  auto over = at_limit;
  over.emplace_back("X-4", "v");
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res = client.round_trip(raw_client::request("GET", "/", over));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 431);
  EXPECT_TRUE(client.wait_closed(5s));
  EXPECT_EQ(live_.requests_seen(), 1u);
}

TEST_F(ProxyErrorsTest, Answers413ForDeclaredOrStreamedBodyAboveLimit) {
  running_proxy proxy(simple_config("limits: { max_request_body_bytes: 1KiB }\n"),
                      {{"live", live_.address()}});
  raw_client declared;
  ASSERT_TRUE(declared.connect(proxy.port()));
  auto res = declared.round_trip("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(live_.requests_seen(), 0u);

  raw_client streamed;
  ASSERT_TRUE(streamed.connect(proxy.port()));
  auto res2 = streamed.round_trip(
      raw_client::chunked_request("POST", "/", {}, {std::string(600, 'a'), std::string(600, 'b')}));
  ASSERT_TRUE(res2.ok()) << res2.error;
  EXPECT_EQ(res2.status, 413);
  EXPECT_TRUE(streamed.wait_closed(5s));
}

TEST_F(ProxyErrorsTest, Answers408WhenHeadIsIncompleteInTime) {
  running_proxy proxy(simple_config("limits: { header_timeout: 200ms }\n"),
                      {{"live", live_.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  auto res = client.read_response();
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 408);
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST_F(ProxyErrorsTest, ANewConnectionsFirstHeadIsDueHeaderTimeoutAfterItBegan) {
  // config.md: header_timeout is the time to receive a complete request head. A client that
  // waits before its first byte does not get a fresh header_timeout for the rest of the head.
  // The pauses pace a slow client (0.7 s, then 0.7 s more): the head would be complete at
  // 1.4 s, after the 1 s deadline.
  running_proxy proxy(simple_config("limits: { header_timeout: 1s, idle_timeout: 60s }\n"),
                      {{"live", live_.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  std::this_thread::sleep_for(700ms);
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\n"));
  std::this_thread::sleep_for(700ms);
  (void)client.send("Host: x\r\n\r\n"); // may find the connection closed already
  auto res = client.read_response();
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 408);
}

TEST_F(ProxyErrorsTest, ClosesSilentNewConnectionAfterHeaderTimeout) {
  running_proxy proxy(simple_config("limits: { header_timeout: 200ms, idle_timeout: 60s }\n"),
                      {{"live", live_.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  // Nothing sent: closed without a response once header_timeout passes, not after 60 s.
  const auto got = client.read_until_close();
  EXPECT_TRUE(got.data.empty()) << got.data;
  EXPECT_NE(got.status, io_status::timeout);
}

TEST_F(ProxyErrorsTest, ClosesIdleKeepAliveConnections) {
  running_proxy proxy(simple_config("limits: { idle_timeout: 200ms }\n"),
                      {{"live", live_.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  EXPECT_EQ(client.round_trip(raw_client::request("GET", "/")).status, 200);
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST_F(ProxyErrorsTest, Answers502WhenUpstreamRefuses) {
  running_proxy proxy(simple_config(), {{"live", "127.0.0.1:" + std::to_string(refusing_port())}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res = client.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 502);
  // A body-less request leaves the connection usable.
  EXPECT_EQ(client.round_trip(raw_client::request("GET", "/")).status, 502);
}

TEST_F(ProxyErrorsTest, Answers502WhenUpstreamResetsOrSendsGarbage) {
  http_backend resetting([](const received_request& req, backend_connection& c) {
    if (req.target == "/garbage") {
      c.write_raw("NOT HTTP AT ALL\r\n\r\n");
      c.close();
      return;
    }
    c.reset();
  });
  running_proxy proxy(simple_config(), {{"live", resetting.address()}});
  for (const char* target : {"/reset", "/garbage"}) {
    raw_client client;
    ASSERT_TRUE(client.connect(proxy.port()));
    auto res = client.round_trip(raw_client::request("GET", target));
    ASSERT_TRUE(res.ok()) << target << ": " << res.error;
    EXPECT_EQ(res.status, 502) << target;
  }
}

TEST_F(ProxyErrorsTest, Answers504WhenNoResponseHeadWithinRequestTimeout) {
  blackhole_server hole;
  running_proxy proxy(simple_config("", ", request_timeout: 200ms"), {{"live", hole.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res = client.round_trip(raw_client::request("GET", "/"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 504);
}

TEST_F(ProxyErrorsTest, ClosesClientWhenUpstreamBodyBreaksOff) {
  http_backend broken([](const received_request&, backend_connection& c) {
    c.write_raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
    c.reset();
  });
  running_proxy proxy(simple_config(), {{"live", broken.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_TRUE(client.send(raw_client::request("GET", "/")));
  // The status line is out already: the client sees the connection end before the 100
  // promised bytes (a truncated message, never a silently shortened one).
  const auto got = client.read_until_close();
  EXPECT_TRUE(got.data.starts_with("HTTP/1.1 200 OK\r\n")) << got.data;
  EXPECT_TRUE(got.data.ends_with("\r\n\r\nonly part")) << got.data;
}

TEST_F(ProxyErrorsTest, ClosesConnectionsBeyondMaxConnections) {
  gate hold;
  http_backend slow([&](const received_request&, backend_connection& c) {
    hold.wait();
    c.respond(200, "late");
  });
  running_proxy proxy(simple_config("limits: { max_connections: 1 }\n"),
                      {{"live", slow.address()}});
  raw_client first;
  ASSERT_TRUE(first.connect(proxy.port()));
  ASSERT_TRUE(first.send(raw_client::request("GET", "/")));
  ASSERT_TRUE(slow.wait_for_requests(1, 5s)); // the first connection is surely accepted now
  raw_client second;
  ASSERT_TRUE(second.connect(proxy.port()));
  EXPECT_TRUE(second.wait_closed(5s));
  hold.release();
  EXPECT_EQ(first.read_response().status, 200);
}

} // namespace
} // namespace parallax::test
