// The client codec's view of a stream's request HEADERS: queued until the codec's frames are
// gathered for a write, sent after. A connection that closes in between may send such a
// stream again elsewhere (h2_upstream_connection::close): the server never saw it.

#include "proxy/h2/client_codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parallax::proxy::h2 {
namespace {

// Receives nothing here: the test never feeds the codec a server's bytes.
class no_events final : public client_events {
public:
  void on_response(std::int32_t, http::response_head&, bool) override {}
  void on_body(std::int32_t, std::string_view) override {}
  void on_trailers(std::int32_t, http::header_list&) override {}
  void on_end(std::int32_t) override {}
  void on_close(std::int32_t, std::uint32_t) override {}
  long read_request_body(std::int32_t, std::uint8_t*, std::size_t, bool& eof,
                         const http::header_list*&) override {
    eof = true;
    return 0;
  }
};

TEST(ClientCodecTest, AStreamCountsAsSentOnlyOnceItsHeadersWereGathered) {
  no_events events;
  client_codec codec(events, 65535, 65535);
  const std::vector<http::field_view> fields{{"te", "trailers"}};
  const request_fields request{"GET", "http", "example.test", "/a", fields};
  const auto first = codec.submit(request, false);
  const auto second = codec.submit(request, false);
  ASSERT_GT(first, 0);
  ASSERT_GT(second, first);
  EXPECT_FALSE(codec.sent(first)); // queued: no byte of it written yet
  EXPECT_FALSE(codec.sent(second));

  std::string out;
  ASSERT_TRUE(codec.flush(out, 1UL << 20));
  EXPECT_EQ(out.rfind("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0), 0u) << "the client preface first";
  EXPECT_TRUE(codec.sent(first));
  EXPECT_TRUE(codec.sent(second));
  EXPECT_FALSE(codec.sent(second + 2)); // never submitted
}

} // namespace
} // namespace parallax::proxy::h2
