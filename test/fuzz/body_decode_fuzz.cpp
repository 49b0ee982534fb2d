// Fuzzes Content-Encoding decoding (mirror/diff/body_decode.cpp over zlib and brotli).
// Input: one selector byte, then the body. The selector's low nibble picks a Content-Encoding
// value from `codings`, its high nibble the output limit from `limits` (up to 1 MiB, the
// default compare.body.max_bytes). Oracles:
// - decoding never crashes, whatever the bytes, and never holds more than the limit: an ok
//   body has at most max_bytes bytes, any other status an empty body;
// - the limit is exact: with one coding, an ok body of N bytes is ok again with max_bytes N and
//   too_large with N - 1 ("exactly max_bytes is ok, one byte more is too_large");
// - unsupported exactly for the codings this decoder does not know;
// - identity gives the bytes back;
// - round trip: the input bytes encoded with zlib/brotli in the selected codings decode back
//   to themselves (or too_large when longer than the limit); raw deflate too.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <brotli/encode.h>
#include <zlib.h>

#include "mirror/diff/body_decode.hpp"
#include "test/fuzz/oracle.hpp"

namespace {

using namespace parallax;
using mirror::diff::decode_body;
using mirror::diff::decode_status;

enum class coding { gzip, zlib, raw_deflate, br };

struct coding_case {
  std::string_view header;     // the Content-Encoding value
  bool supported;              // whether decode_body knows every coding in it
  std::vector<coding> applied; // how to encode for the round trip, in the order applied
};

const std::array<coding_case, 16>& codings() {
  static const std::array<coding_case, 16> cases{{
      {"", true, {}},
      {"identity", true, {}},
      {"gzip", true, {coding::gzip}},
      {"x-gzip", true, {coding::gzip}},
      {"deflate", true, {coding::zlib}},
      {"deflate", true, {coding::raw_deflate}},
      {"br", true, {coding::br}},
      {"gzip, br", true, {coding::gzip, coding::br}},
      {"deflate,gzip", true, {coding::zlib, coding::gzip}},
      {"br, br", true, {coding::br, coding::br}},
      {" GZip ,identity, ", true, {coding::gzip}},
      {"gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip",
       true,
       {coding::gzip, coding::gzip, coding::gzip, coding::gzip, coding::gzip, coding::gzip,
        coding::gzip, coding::gzip}},
      {"gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip", false, {}}, // more than 8
      {"compress", false, {}},
      {"zstd", false, {}},
      {"gzip, x-compress", false, {}},
  }};
  return cases;
}

constexpr std::array<std::size_t, 16> limits{
    0, 1, 2, 3, 10, 64, 100, 1000, 4095, 4096, 16384, 16385, 65536, 100000, 262144, 1 << 20};

std::optional<std::string> zlib_encode(std::string_view in, int window_bits) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data())); // zlib does not write it
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

std::optional<std::string> brotli_encode(std::string_view in) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 16, '\0');
  std::size_t n = out.size();
  if (!BrotliEncoderCompress(1, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                             reinterpret_cast<const std::uint8_t*>(in.data()), &n,
                             reinterpret_cast<std::uint8_t*>(out.data()))) {
    return std::nullopt;
  }
  out.resize(n);
  return out;
}

/// `in` encoded with each of `applied` in turn; `largest_stage` gets the size of the largest
/// output a decoding stage will produce (the input and every intermediate encoding).
std::optional<std::string> encode(std::string_view in, const std::vector<coding>& applied,
                                  std::size_t& largest_stage) {
  std::string body(in);
  largest_stage = 0;
  for (const coding c : applied) {
    largest_stage = std::max(largest_stage, body.size());
    std::optional<std::string> next;
    switch (c) {
    case coding::gzip: next = zlib_encode(body, 16 + 15); break;
    case coding::zlib: next = zlib_encode(body, 15); break;
    case coding::raw_deflate: next = zlib_encode(body, -15); break;
    case coding::br: next = brotli_encode(body); break;
    }
    if (!next) return std::nullopt;
    body = std::move(*next);
  }
  return body;
}

std::string describe(std::string_view header, std::size_t limit, decode_status status) {
  return "Content-Encoding \"" + std::string(header) + "\", max_bytes " + std::to_string(limit) +
         ", status " + std::string(to_string(status));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const coding_case& c = codings()[data[0] & 0x0f];
  const std::size_t limit = limits[data[0] >> 4];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto decoded = decode_body(body, c.header, limit);
  const std::string shown = describe(c.header, limit, decoded.status);
  if (decoded.status == decode_status::ok) {
    fuzz::require(decoded.body.size() <= limit, "an ok body above max_bytes", shown);
  } else {
    fuzz::require(decoded.body.empty(), "a failed decoding kept bytes", shown);
  }
  fuzz::require((decoded.status == decode_status::unsupported) == !c.supported,
                c.supported ? "a known coding was unsupported" : "an unknown coding decoded",
                shown);
  if (c.supported && c.applied.empty()) {
    fuzz::require(decoded.status ==
                      (body.size() <= limit ? decode_status::ok : decode_status::too_large),
                  "identity: wrong status", shown);
    if (decoded.status == decode_status::ok) {
      fuzz::require(decoded.body == body, "identity changed the bytes", shown);
    }
  }
  // Exactness holds where the decoded body is the largest output: one coding at most (with
  // more, an intermediate stage may be the one that hits the limit).
  if (decoded.status == decode_status::ok && c.applied.size() <= 1) {
    const std::size_t n = decoded.body.size();
    const auto exact = decode_body(body, c.header, n);
    fuzz::require(exact.status == decode_status::ok && exact.body == decoded.body,
                  "not ok with max_bytes = the decoded size", describe(c.header, n, exact.status));
    if (n > 0) {
      const auto below = decode_body(body, c.header, n - 1);
      fuzz::require(below.status == decode_status::too_large,
                    "not too_large with max_bytes one below the decoded size",
                    describe(c.header, n - 1, below.status));
    }
  }

  if (!c.supported || c.applied.empty()) return 0;
  std::size_t largest_stage = 0;
  const auto encoded = encode(body, c.applied, largest_stage);
  fuzz::require(encoded.has_value(), "the reference encoder failed");
  const auto round = decode_body(*encoded, c.header, limit);
  const std::string again = describe(c.header, limit, round.status) + " (round trip)";
  if (largest_stage <= limit) { // every stage's output is limited
    fuzz::require(round.status == decode_status::ok, "an encoded body did not decode", again);
    fuzz::require(round.body == body, "an encoded body decoded to other bytes", again);
  } else {
    fuzz::require(round.status == decode_status::too_large,
                  "an encoded body above max_bytes was not too_large", again);
  }
  return 0;
}
