// Heads written for the other side of the proxy: hop-by-hop removal, framing, X-Forwarded-*.

#include "proxy/http/serializer.hpp"

#include <gtest/gtest.h>

#include "proxy/http/parser.hpp"

namespace parallax::proxy::http {
namespace {

request_head parse_request(const std::string& raw) {
  parser p(parser::mode::request);
  EXPECT_EQ(p.feed(raw).status, parse_status::head_complete);
  return p.request();
}

TEST(SerializerTest, WritesOriginFormAndDropsHopByHopHeaders) {
  auto req = parse_request("GET http://other.example/p?q=1 HTTP/1.1\r\nHost: shop\r\n"
                           "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nTE: trailers\r\n"
                           "Keep-Alive: 5\r\nX-Keep: yes\r\n\r\n");
  std::string out;
  write_request_head(out, req, {"10.1.2.3", true}, body_framing::none, 0);
  EXPECT_TRUE(out.starts_with("GET /p?q=1 HTTP/1.1\r\n")) << out;
  EXPECT_EQ(out.find("X-Hop"), std::string::npos);
  EXPECT_EQ(out.find("TE:"), std::string::npos);
  EXPECT_EQ(out.find("Keep-Alive"), std::string::npos);
  EXPECT_NE(out.find("X-Keep: yes\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Forwarded-For: 10.1.2.3\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Forwarded-Proto: https\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Forwarded-Host: shop\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(SerializerTest, MergesAndAppendsXForwardedFor) {
  auto req = parse_request("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\n"
                           "X-Forwarded-For: 2.2.2.2\r\nX-Forwarded-Proto: https\r\n\r\n");
  std::string out;
  write_request_head(out, req, {"3.3.3.3", false}, body_framing::none, 0);
  EXPECT_NE(out.find("X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("X-Forwarded-Proto: http\r\n"), std::string::npos);
}

// What an HTTP/2 upstream gets: the same fields as write_request_head() less Host, framing and
// connection fields; TE only as "trailers"; X-Forwarded-For merged into one value.
TEST(SerializerTest, ForwardedFieldsForHttp2Upstreams) {
  auto req = parse_request("POST /p HTTP/1.1\r\nHost: shop\r\nConnection: X-Hop\r\nX-Hop: 1\r\n"
                           "TE: gzip, Trailers\r\nContent-Length: 0\r\nX-Forwarded-For: 1.1.1.1\r\n"
                           "X-Keep: yes\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n");
  std::vector<field_view> out{{"stale", "field"}};
  std::string scratch = "stale";
  forwarded_fields(out, scratch, req, {"3.3.3.3", false});
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& f : out)
    got.emplace_back(f.name, f.value);
  const std::vector<std::pair<std::string, std::string>> want{
      {"te", "trailers"},
      {"X-Keep", "yes"},
      {"x-forwarded-for", "1.1.1.1, 2.2.2.2, 3.3.3.3"},
      {"x-forwarded-proto", "http"},
      {"x-forwarded-host", "shop"}};
  EXPECT_EQ(got, want);

  // Without a client's X-Forwarded-For the client address goes alone; TE without "trailers"
  // and a client's own X-Forwarded-Proto and -Host are kept as they are.
  req = parse_request("GET / HTTP/1.1\r\nHost: shop\r\nTE: gzip\r\nX-Forwarded-Proto: https\r\n"
                      "X-Forwarded-Host: front\r\n\r\n");
  forwarded_fields(out, scratch, req, {"3.3.3.3", true});
  got.clear();
  for (const auto& f : out)
    got.emplace_back(f.name, f.value);
  const std::vector<std::pair<std::string, std::string>> alone{{"X-Forwarded-Proto", "https"},
                                                               {"X-Forwarded-Host", "front"},
                                                               {"x-forwarded-for", "3.3.3.3"}};
  EXPECT_EQ(got, alone);
}

TEST(SerializerTest, RewritesRequestFraming) {
  auto req = parse_request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string out;
  write_request_head(out, req, {"1.1.1.1", false}, body_framing::chunked, 0);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  out.clear();
  auto req2 = parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n");
  write_request_head(out, req2, {"1.1.1.1", false}, body_framing::content_length, 12);
  EXPECT_NE(out.find("Content-Length: 12\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Content-Length: 12\r\nContent-Length"), std::string::npos);
}

TEST(SerializerTest, KeepsUpgradeHeadersForWebSocket) {
  auto req = parse_request("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
                           "Upgrade: websocket\r\n\r\n");
  std::string out;
  write_request_head(out, req, {"1.1.1.1", false}, body_framing::none, 0);
  EXPECT_NE(out.find("Connection: Upgrade\r\nUpgrade: websocket\r\n"), std::string::npos) << out;
}

TEST(SerializerTest, WritesResponseHeadWithCloseOrKeepAlive) {
  parser p(parser::mode::response);
  ASSERT_EQ(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n"
                   "Server: up\r\n\r\n")
                .status,
            parse_status::head_complete);
  std::string out;
  write_response_head(out, p.response(), body_framing::chunked, 0, false, 1);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: up\r\nConnection: close\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
  out.clear();
  write_response_head(out, p.response(), body_framing::content_length, 3, true, 0);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: up\r\nConnection: keep-alive\r\n"
                 "Content-Length: 3\r\n\r\n");
}

TEST(SerializerTest, WritesErrorResponsesAndChunkSizes) {
  std::string out;
  write_error_response(out, 404, "no route", false);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 9\r\n\r\nno route\n");
  out.clear();
  write_chunk_size(out, 0x1a2b);
  EXPECT_EQ(out, "1a2b\r\n");
}

TEST(SerializerTest, LastChunkCarriesOnlyForwardableTrailers) {
  std::string out;
  write_last_chunk(out, {});
  EXPECT_EQ(out, "0\r\n\r\n");
  header_list trailers;
  trailers.add("X-Checksum", "abc");
  trailers.add("Host", "elsewhere");
  trailers.add("Content-Length", "5");
  trailers.add("Connection", "close");
  trailers.add("grpc-status", "0");
  out.clear();
  write_last_chunk(out, trailers);
  EXPECT_EQ(out, "0\r\nX-Checksum: abc\r\ngrpc-status: 0\r\n\r\n");
}

} // namespace
} // namespace parallax::proxy::http
