// Regression tests for what the parser fuzz targets of test/fuzz found in the llhttp adapter.
// (A bare CR inside a request head, found by request_parser_fuzz too, is tested with its fix
// in parser_test.cpp.)

#include "proxy/http/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace parallax::proxy::http {
namespace {

/// Feeds `in` as a session does (again after each head and message) and returns the last
/// status: message_complete, error, or need_more when the input ran out.
parse_status last_status(parser& p, std::string_view in) {
  for (;;) {
    const auto r = p.feed(in);
    in.remove_prefix(r.consumed);
    if (r.status == parse_status::error || r.status == parse_status::need_more) return r.status;
    if (r.status == parse_status::message_complete && in.empty()) return r.status;
  }
}

// chunked_fuzz: llhttp 8.1 built without LLHTTP_STRICT_MODE takes CR and any byte as the CRLF
// that ends a chunk-size line, chunk data or the chunked body, so "0\r$\r\r" ended the body
// where an RFC 9112 parser sees an unfinished last chunk: the two disagree on where the next
// request starts.
TEST(ParserFuzzRegressionTest, RefusesBareCrInChunkedFraming) {
  GTEST_SKIP() << "pending: the bare-CR fix of proxy/http/parser.cpp (another branch); "
                  "compiling llhttp with LLHTTP_STRICT_MODE=1 fixes this one too";
  for (const std::string_view body :
       {"0\r$\r\r", "0\r\n\rX", "5\r\nhello\rX0\r\n\r\n", "3;a=b\rXabc\r\n0\r\n\r\n"}) {
    parser p(parser::mode::request);
    std::string in = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    in += body;
    EXPECT_EQ(last_status(p, in), parse_status::error) << body;
  }
}

// response_parser_fuzz: llhttp 8.1 accepts a status code of fewer than three digits
// ("HTTP/1.1 20 OK"); RFC 9112 4 requires 3DIGIT, and the proxy relayed status 20.
TEST(ParserFuzzRegressionTest, RefusesStatusCodeWithoutThreeDigits) {
  GTEST_SKIP() << "pending: proxy/http/parser.cpp is being changed on another branch; "
                  "on_headers_complete should refuse a status outside 100-999";
  for (const std::string_view in : {"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
                                    "HTTP/1.1 0 OK\r\nContent-Length: 0\r\n\r\n"}) {
    parser p(parser::mode::response);
    EXPECT_EQ(last_status(p, in), parse_status::error) << in;
  }
}

} // namespace
} // namespace parallax::proxy::http
