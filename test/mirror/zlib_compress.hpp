#pragma once
// zlib compression for the tests of decoders (bodies, gRPC messages).

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <string_view>

namespace parallax::mirror {

// Compresses with zlib's deflate; window_bits 16 + 15 = gzip, 15 = zlib, -15 = raw deflate.
inline std::string zlib_compress(std::string_view in, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string gzip(std::string_view in) {
  return zlib_compress(in, 16 + 15);
}
inline std::string zlib_wrapped(std::string_view in) {
  return zlib_compress(in, 15);
}
inline std::string raw_deflate(std::string_view in) {
  return zlib_compress(in, -15);
}

} // namespace parallax::mirror
