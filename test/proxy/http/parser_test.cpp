#include "proxy/http/parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parallax::proxy::http {
namespace {

parse_result feed_all(parser& p, std::string_view in) { return p.feed(in); }

TEST(ParserProbe, BodylessRequestPausesAtHead) {
  parser p(parser::mode::request);
  std::string in = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: y\r\n\r\n";
  auto r = feed_all(p, in);
  EXPECT_EQ(r.status, parse_status::head_complete);
  EXPECT_EQ(r.consumed, 28u);
  auto r2 = p.feed(std::string_view(in).substr(r.consumed));
  EXPECT_EQ(r2.status, parse_status::message_complete);
  EXPECT_EQ(r2.consumed, 0u);
  auto r3 = p.feed(std::string_view(in).substr(r.consumed + r2.consumed));
  EXPECT_EQ(r3.status, parse_status::head_complete);
  EXPECT_EQ(p.request().target, "/b");
}

} // namespace
} // namespace parallax::proxy::http
namespace parallax::proxy::http {
TEST(ParserProbe, EmptyFeedCompletesBodyless) {
  parser p(parser::mode::request);
  std::string in = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  auto r = p.feed(in);
  EXPECT_EQ(r.status, parse_status::head_complete);
  auto r2 = p.feed({});
  EXPECT_EQ(r2.status, parse_status::message_complete);
  std::string in2 = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  r = p.feed(in2);
  EXPECT_EQ(r.status, parse_status::head_complete);
  r2 = p.feed(std::string_view(in2).substr(r.consumed));
  EXPECT_EQ(r2.status, parse_status::message_complete);
  EXPECT_EQ(p.body().size(), 1u);
  std::string fold = "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n";
  parser p2(parser::mode::request);
  r = p2.feed(fold);
  EXPECT_EQ(r.status, parse_status::error) << p2.error_reason();
  parser p3(parser::mode::request);
  std::string both = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
  r = p3.feed(both);
  EXPECT_EQ(r.status, parse_status::error) << p3.error_reason();
  parser p4(parser::mode::request);
  std::string te = "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
  r = p4.feed(te);
  EXPECT_EQ(r.status, parse_status::error) << p4.error_reason();
  parser p5(parser::mode::request);
  std::string cl2 = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc";
  r = p5.feed(cl2);
  EXPECT_EQ(r.status, parse_status::error) << p5.error_reason();
  parser p6(parser::mode::request);
  std::string cr = "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n";
  r = p6.feed(cr);
  EXPECT_EQ(r.status, parse_status::error) << p6.error_reason();
  parser p7(parser::mode::request);
  std::string up = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nRAW";
  r = p7.feed(up);
  EXPECT_EQ(r.status, parse_status::head_complete);
  EXPECT_TRUE(p7.upgrade());
  r2 = p7.feed(std::string_view(up).substr(r.consumed));
  EXPECT_EQ(r2.status, parse_status::message_complete);
  EXPECT_EQ(r2.consumed, 0u);
}
}
