#include "mirror/diff/body_decode.hpp"

#include "test/mirror/zlib_compress.hpp"

#include <brotli/encode.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace parallax::mirror::diff {
namespace {

// Quality 5 rather than the default 11: the slow top qualities add nothing to these tests.
std::string brotli(std::string_view in, int quality = 5) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 64, '\0');
  std::size_t size = out.size();
  EXPECT_EQ(BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                                  reinterpret_cast<const std::uint8_t*>(in.data()), &size,
                                  reinterpret_cast<std::uint8_t*>(out.data())),
            BROTLI_TRUE);
  out.resize(size);
  return out;
}

// A body with some structure and some noise, so compression is neither trivial nor useless.
std::string sample_body(std::size_t size) {
  std::string s;
  s.reserve(size);
  std::uint32_t x = 2463534242U;
  while (s.size() < size) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s += "{\"id\":" + std::to_string(x % 1000) + ",\"name\":\"item\"}\n";
  }
  s.resize(size);
  return s;
}

constexpr std::size_t mib = 1024 * 1024;

TEST(BodyDecodeTest, IdentityAndAbsentEncodingReturnTheBody) {
  const std::string body = "hello, world";
  for (const char* encoding : {"", "identity", "IDENTITY", " identity , "}) {
    const auto r = decode_body(body, encoding, mib);
    EXPECT_EQ(r.status, decode_status::ok) << encoding;
    EXPECT_EQ(r.body, body) << encoding;
  }
}

TEST(BodyDecodeTest, GzipRoundTrips) {
  const std::string body = sample_body(200000);
  const auto r = decode_body(gzip(body), "gzip", mib);
  ASSERT_EQ(r.status, decode_status::ok);
  EXPECT_EQ(r.body, body);
}

TEST(BodyDecodeTest, GzipNameIsCaseInsensitiveAndXGzipIsAnAlias) {
  const std::string body = sample_body(1000);
  EXPECT_EQ(decode_body(gzip(body), "GZip", mib).body, body);
  EXPECT_EQ(decode_body(gzip(body), "x-gzip", mib).body, body);
}

TEST(BodyDecodeTest, GzipWithSeveralMembersDecodesAll) {
  const auto r = decode_body(gzip("first ") + gzip("second"), "gzip", mib);
  ASSERT_EQ(r.status, decode_status::ok);
  EXPECT_EQ(r.body, "first second");
}

TEST(BodyDecodeTest, DeflateZlibWrappedRoundTrips) {
  const std::string body = sample_body(50000);
  const auto r = decode_body(zlib_wrapped(body), "deflate", mib);
  ASSERT_EQ(r.status, decode_status::ok);
  EXPECT_EQ(r.body, body);
}

TEST(BodyDecodeTest, DeflateRawIsAcceptedAsFallback) {
  for (const std::size_t size : {std::size_t{1}, std::size_t{37}, std::size_t{50000}}) {
    const std::string body = sample_body(size);
    const auto r = decode_body(raw_deflate(body), "deflate", mib);
    ASSERT_EQ(r.status, decode_status::ok) << size;
    EXPECT_EQ(r.body, body) << size;
  }
}

TEST(BodyDecodeTest, BrotliRoundTrips) {
  const std::string body = sample_body(300000);
  const auto r = decode_body(brotli(body), "br", mib);
  ASSERT_EQ(r.status, decode_status::ok);
  EXPECT_EQ(r.body, body);
}

TEST(BodyDecodeTest, ChainedEncodingsAreDecodedInReverseOrder) {
  const std::string body = sample_body(20000);
  // "gzip, br": gzip was applied first, then br.
  const auto r = decode_body(brotli(gzip(body)), "gzip, br", mib);
  ASSERT_EQ(r.status, decode_status::ok);
  EXPECT_EQ(r.body, body);
  const auto r2 = decode_body(gzip(zlib_wrapped(body)), "deflate,identity,gzip", mib);
  ASSERT_EQ(r2.status, decode_status::ok);
  EXPECT_EQ(r2.body, body);
  // The wrong order is detected, not mis-decoded.
  EXPECT_EQ(decode_body(brotli(gzip(body)), "br, gzip", mib).status, decode_status::corrupt);
}

TEST(BodyDecodeTest, EmptyBodyIsOkForEveryKnownEncoding) {
  for (const char* encoding : {"gzip", "deflate", "br", "gzip, br"}) {
    const auto r = decode_body("", encoding, mib);
    EXPECT_EQ(r.status, decode_status::ok) << encoding;
    EXPECT_TRUE(r.body.empty()) << encoding;
  }
}

TEST(BodyDecodeTest, UnknownEncodingIsUnsupported) {
  for (const char* encoding : {"compress", "zstd", "gzip, zstd", "snappy"}) {
    const auto r = decode_body("whatever", encoding, mib);
    EXPECT_EQ(r.status, decode_status::unsupported) << encoding;
    EXPECT_TRUE(r.body.empty());
  }
  EXPECT_EQ(decode_body("", "zstd", mib).status, decode_status::unsupported);
}

TEST(BodyDecodeTest, TruncatedInputIsCorrupt) {
  const std::string body = sample_body(20000);
  const std::string g = gzip(body);
  const std::string z = zlib_wrapped(body);
  const std::string b = brotli(body);
  EXPECT_EQ(decode_body(g.substr(0, g.size() / 2), "gzip", mib).status, decode_status::corrupt);
  EXPECT_EQ(decode_body(g.substr(0, g.size() - 1), "gzip", mib).status, decode_status::corrupt);
  EXPECT_EQ(decode_body(z.substr(0, z.size() - 3), "deflate", mib).status, decode_status::corrupt);
  EXPECT_EQ(decode_body(b.substr(0, b.size() / 2), "br", mib).status, decode_status::corrupt);
  EXPECT_EQ(decode_body(g.substr(0, 5), "gzip", mib).status, decode_status::corrupt);
}

TEST(BodyDecodeTest, GarbageIsCorrupt) {
  const std::string garbage = "this is not compressed at all, just text";
  EXPECT_EQ(decode_body(garbage, "gzip", mib).status, decode_status::corrupt);
  EXPECT_EQ(decode_body(garbage, "br", mib).status, decode_status::corrupt);
  EXPECT_EQ(decode_body(std::string(64, '\xff'), "deflate", mib).status, decode_status::corrupt);
}

TEST(BodyDecodeTest, FlippedByteIsCorrupt) {
  std::string g = gzip(sample_body(20000));
  g[g.size() - 6] = static_cast<char>(g[g.size() - 6] ^ 0x55); // inside the CRC32 trailer
  const auto r = decode_body(g, "gzip", mib);
  EXPECT_EQ(r.status, decode_status::corrupt);
  EXPECT_TRUE(r.body.empty());
}

TEST(BodyDecodeTest, TrailingBytesAreCorrupt) {
  EXPECT_EQ(decode_body(gzip("abc") + "xyz", "gzip", mib).status, decode_status::corrupt);
  EXPECT_EQ(decode_body(zlib_wrapped("abc") + "xyz", "deflate", mib).status,
            decode_status::corrupt);
  EXPECT_EQ(decode_body(brotli("abc") + "xyz", "br", mib).status, decode_status::corrupt);
}

TEST(BodyDecodeTest, BombStopsAtLimit) {
  // 16 MiB of zeros compress to about 16 KiB (gzip) or a few bytes (br).
  const std::string zeros(16 * mib, '\0');
  const std::string g = gzip(zeros);
  const std::string b = brotli(zeros);
  ASSERT_LT(g.size(), 64 * 1024U);
  ASSERT_LT(b.size(), 1024U);
  const struct {
    const std::string& encoded;
    const char* encoding;
  } bombs[] = {{g, "gzip"}, {b, "br"}};
  for (const auto& bomb : bombs) {
    const auto r = decode_body(bomb.encoded, bomb.encoding, mib);
    EXPECT_EQ(r.status, decode_status::too_large) << bomb.encoding;
    EXPECT_TRUE(r.body.empty()) << bomb.encoding;
  }
}

TEST(BodyDecodeTest, LimitIsInclusive) {
  const std::string body = sample_body(4096);
  for (const char* encoding : {"gzip", "deflate", "br", "identity"}) {
    std::string encoded = body;
    if (std::string_view(encoding) == "gzip") encoded = gzip(body);
    if (std::string_view(encoding) == "deflate") encoded = zlib_wrapped(body);
    if (std::string_view(encoding) == "br") encoded = brotli(body);
    const auto exact = decode_body(encoded, encoding, body.size());
    EXPECT_EQ(exact.status, decode_status::ok) << encoding;
    EXPECT_EQ(exact.body, body) << encoding;
    EXPECT_EQ(decode_body(encoded, encoding, body.size() - 1).status, decode_status::too_large)
        << encoding;
  }
}

TEST(BodyDecodeTest, LimitAppliesToEveryStageOfAChain) {
  const std::string body = sample_body(10000);
  EXPECT_EQ(decode_body(brotli(gzip(body)), "gzip, br", 9999).status, decode_status::too_large);
  EXPECT_EQ(decode_body(brotli(gzip(body)), "gzip, br", 10000).status, decode_status::ok);
}

TEST(BodyDecodeTest, StatusNamesAreStable) {
  EXPECT_EQ(to_string(decode_status::ok), "ok");
  EXPECT_EQ(to_string(decode_status::too_large), "too_large");
  EXPECT_EQ(to_string(decode_status::corrupt), "corrupt");
  EXPECT_EQ(to_string(decode_status::unsupported), "unsupported");
}

} // namespace
} // namespace parallax::mirror::diff
