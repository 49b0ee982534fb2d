// The client codec's view of a stream's request HEADERS: queued until the codec's frames are
// gathered for a write, sent after. A connection that closes in between may send such a
// stream again elsewhere (h2_upstream_connection::close): the server never saw it.

#include "proxy/h2/client_codec.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
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

// A raw nghttp2 server session: the header fields it decodes from a client's bytes, per stream.
class request_decoder {
public:
  using fields = std::vector<std::pair<std::string, std::string>>;
  request_decoder() {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t,
                void* user) {
          static_cast<request_decoder*>(user)->got_[frame->hd.stream_id].emplace_back(
              std::string(reinterpret_cast<const char*>(name), namelen),
              std::string(reinterpret_cast<const char*>(value), valuelen));
          return 0;
        });
    nghttp2_session_server_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
  }
  ~request_decoder() { nghttp2_session_del(session_); }
  request_decoder(const request_decoder&) = delete;
  request_decoder& operator=(const request_decoder&) = delete;

  std::map<std::int32_t, fields> decode(std::string_view bytes) {
    got_.clear();
    const auto n = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    EXPECT_EQ(n, static_cast<long>(bytes.size()));
    return got_;
  }

private:
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, fields> got_;
};

TEST(ClientCodecTest, RequestFieldsGoOutAsSubmittedThoughTheCallersStorageChangedMeanwhile) {
  no_events events;
  client_codec codec(events, 65535, 65535);
  request_decoder server;
  std::vector<int> ids;
  for (int round = 0; round < 3; ++round) {
    // The caller's storage is reused for each request before any is written (as a connection's
    // scratch is): nghttp2 packs the HEADERS only when the frames are gathered.
    std::string path;
    std::string value;
    std::vector<http::field_view> fields;
    for (int i = 0; i < 30; ++i) {
      path = "/r" + std::to_string(round) + "/" + std::to_string(i);
      value = "v-" + std::to_string(i) + std::string(static_cast<std::size_t>(i) * 20, 'x');
      fields = {{"X-Request-N", value}, {"te", "trailers"}};
      const request_fields request{"POST", "http", "example.test", path, fields};
      ids.push_back(codec.submit(request, false));
      ASSERT_GT(ids.back(), 0);
    }
    if (round == 1) codec.cancel(ids.back()); // never sent: its fields are dropped
    std::string out;
    ASSERT_TRUE(codec.flush(out, 1UL << 20));
    // Every header block was sent or dropped (the cancelled one): nothing is held.
    EXPECT_EQ(codec.held_header_blocks(), 0u);
    const auto got = server.decode(out);
    for (int i = 0; i < 30; ++i) {
      const auto id = ids[static_cast<std::size_t>(round * 30 + i)];
      if (round == 1 && i == 29) {
        EXPECT_EQ(got.count(id), 0u);
        continue;
      }
      ASSERT_EQ(got.count(id), 1u) << id;
      const auto want = std::vector<std::pair<std::string, std::string>>{
          {":method", "POST"},
          {":scheme", "http"},
          {":authority", "example.test"},
          {":path", "/r" + std::to_string(round) + "/" + std::to_string(i)},
          {"x-request-n",
           "v-" + std::to_string(i) + std::string(static_cast<std::size_t>(i) * 20, 'x')},
          {"te", "trailers"}};
      EXPECT_EQ(got.at(id), want) << "stream " << id;
    }
  }
}

} // namespace
} // namespace parallax::proxy::h2
