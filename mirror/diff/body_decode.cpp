#include "mirror/diff/body_decode.hpp"

#include "proxy/http/ascii.hpp"
#include "proxy/http/message.hpp"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <memory>

namespace parallax::mirror::diff {
namespace {

enum class coding { identity, gzip, deflate, br };

// More codings than this in one Content-Encoding is not a real response: unsupported.
constexpr std::size_t max_codings = 8;

struct coding_list {
  std::array<coding, max_codings> items{};
  std::size_t size = 0;
};

// Parses a Content-Encoding value; false when a coding is unknown or there are too many.
bool parse_codings(std::string_view value, coding_list& out) noexcept {
  const bool failed = proxy::http::any_list_item(value, [&](std::string_view token) {
    if (token.empty()) return false;
    coding c{};
    if (proxy::http::iequals(token, "gzip") || proxy::http::iequals(token, "x-gzip")) {
      c = coding::gzip;
    } else if (proxy::http::iequals(token, "deflate")) {
      c = coding::deflate;
    } else if (proxy::http::iequals(token, "br")) {
      c = coding::br;
    } else if (proxy::http::iequals(token, "identity")) {
      return false;
    } else {
      return true; // unknown coding
    }
    if (out.size == max_codings) return true;
    out.items[out.size++] = c;
    return false;
  });
  return !failed;
}

// Output buffer that grows geometrically but never beyond limit + 1 bytes: holding limit + 1
// bytes proves the body is too large without decoding any further.
class bounded_output {
public:
  bounded_output(std::string& out, std::size_t limit, std::size_t input_size)
      : out_(out), limit_(limit),
        first_(std::min(limit + 1, std::max(std::size_t{16} * 1024, input_size * 4))) {
    out_.clear();
  }

  // Makes free space available; false when the limit has been exceeded.
  bool make_room() {
    if (used_ < out_.size()) return true;
    if (exceeded()) return false;
    const std::size_t grown = out_.empty() ? first_ : out_.size() * 2;
    out_.resize(std::min(limit_ + 1, grown));
    return true;
  }

  [[nodiscard]] char* free_data() noexcept { return out_.data() + used_; }
  [[nodiscard]] std::size_t free_size() const noexcept { return out_.size() - used_; }
  void commit(std::size_t produced) noexcept { used_ += produced; }
  [[nodiscard]] bool exceeded() const noexcept { return used_ > limit_; }

  // Ends decoding: trims the buffer to what was produced and checks the limit.
  decode_status finish() {
    out_.resize(used_);
    return exceeded() ? decode_status::too_large : decode_status::ok;
  }

private:
  std::string& out_;
  std::size_t limit_;
  std::size_t first_;
  std::size_t used_ = 0;
};

struct inflate_stream {
  z_stream z{};
  bool initialised = false;
  ~inflate_stream() {
    if (initialised) inflateEnd(&z);
  }
};

// Inflates `in` with zlib `window_bits` (16 + 15 gzip, 15 zlib, -15 raw). With `multi_member`,
// concatenated gzip members are decoded one after the other (RFC 1952 section 2.2).
decode_status inflate_body(std::string_view in, int window_bits, bool multi_member,
                           std::size_t limit, std::string& out) {
  inflate_stream stream;
  if (inflateInit2(&stream.z, window_bits) != Z_OK) return decode_status::corrupt;
  stream.initialised = true;
  z_stream& z = stream.z;
  bounded_output output(out, limit, in.size());
  // zlib counts in uInt: feed inputs beyond 4 GiB in slices.
  std::size_t pending = in.size();
  const auto* next = reinterpret_cast<const Bytef*>(in.data());
  for (;;) {
    if (z.avail_in == 0 && pending > 0) {
      const auto slice = static_cast<uInt>(std::min<std::size_t>(pending, UINT_MAX));
      z.next_in = const_cast<Bytef*>(next); // zlib never writes through next_in
      z.avail_in = slice;
      next += slice;
      pending -= slice;
    }
    if (!output.make_room()) return decode_status::too_large;
    const auto room = static_cast<uInt>(std::min<std::size_t>(output.free_size(), UINT_MAX));
    z.next_out = reinterpret_cast<Bytef*>(output.free_data());
    z.avail_out = room;
    const int rc = inflate(&z, Z_NO_FLUSH);
    output.commit(room - z.avail_out);
    const bool input_left = z.avail_in > 0 || pending > 0;
    if (rc == Z_STREAM_END) {
      if (output.exceeded()) return decode_status::too_large;
      if (!input_left) return output.finish();
      if (!multi_member || inflateReset(&z) != Z_OK) return decode_status::corrupt;
      continue;
    }
    if (rc == Z_OK) continue;
    // Z_BUF_ERROR: no progress possible. Fine when only the output was full; otherwise the input
    // ended before the stream did (truncated).
    if (rc == Z_BUF_ERROR && z.avail_out == 0) continue;
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && pending > 0) continue;
    return decode_status::corrupt;
  }
}

// Whether `in` starts with a valid zlib (RFC 1950) header: deflate method, window <= 32 KiB,
// header checksum.
bool has_zlib_header(std::string_view in) noexcept {
  if (in.size() < 2) return false;
  const auto cmf = static_cast<unsigned char>(in[0]);
  const auto flg = static_cast<unsigned char>(in[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

// "deflate" is meant to be zlib-wrapped (RFC 9110 8.4.1.2) but some servers send raw deflate.
decode_status inflate_deflate(std::string_view in, std::size_t limit, std::string& out) {
  if (has_zlib_header(in)) {
    const decode_status status = inflate_body(in, 15, false, limit, out);
    if (status != decode_status::corrupt) return status;
  }
  return inflate_body(in, -15, false, limit, out);
}

struct brotli_deleter {
  void operator()(BrotliDecoderState* state) const noexcept { BrotliDecoderDestroyInstance(state); }
};

decode_status brotli_body(std::string_view in, std::size_t limit, std::string& out) {
  const std::unique_ptr<BrotliDecoderState, brotli_deleter> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr));
  if (!state) return decode_status::corrupt;
  bounded_output output(out, limit, in.size());
  std::size_t avail_in = in.size();
  const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
  for (;;) {
    if (!output.make_room()) return decode_status::too_large;
    std::size_t avail_out = output.free_size();
    auto* const start = reinterpret_cast<std::uint8_t*>(output.free_data());
    std::uint8_t* next_out = start;
    const BrotliDecoderResult result = BrotliDecoderDecompressStream(
        state.get(), &avail_in, &next_in, &avail_out, &next_out, nullptr);
    output.commit(static_cast<std::size_t>(next_out - start));
    switch (result) {
    case BROTLI_DECODER_RESULT_SUCCESS:
      if (avail_in != 0) return decode_status::corrupt; // trailing bytes
      return output.finish();
    case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: continue;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: // all input was given: truncated
    case BROTLI_DECODER_RESULT_ERROR:
    default: return decode_status::corrupt;
    }
  }
}

decode_status decode_one(coding c, std::string_view in, std::size_t limit, std::string& out) {
  switch (c) {
  case coding::gzip: return inflate_body(in, 16 + 15, true, limit, out);
  case coding::deflate: return inflate_deflate(in, limit, out);
  case coding::br: return brotli_body(in, limit, out);
  case coding::identity: break;
  }
  if (in.size() > limit) return decode_status::too_large;
  out.assign(in);
  return decode_status::ok;
}

} // namespace

std::string_view to_string(decode_status status) noexcept {
  switch (status) {
  case decode_status::ok: return "ok";
  case decode_status::too_large: return "too_large";
  case decode_status::corrupt: return "corrupt";
  case decode_status::unsupported: return "unsupported";
  }
  return "unknown";
}

decode_result decode_body(std::string_view encoded, std::string_view content_encoding,
                          std::size_t max_bytes) {
  decode_result result;
  coding_list codings;
  if (!parse_codings(content_encoding, codings)) {
    result.status = decode_status::unsupported;
    return result;
  }
  // One spare byte is how "more than the limit" is detected: keep limit + 1 representable.
  const std::size_t limit = std::min(max_bytes, result.body.max_size() - 1);
  if (codings.size == 0 || encoded.empty()) {
    result.status = decode_one(coding::identity, encoded, limit, result.body);
    return result;
  }
  // Codings are listed in the order they were applied: undo the last one first.
  std::string scratch;
  std::string_view input = encoded;
  for (std::size_t i = codings.size; i-- > 0;) {
    const decode_status status = decode_one(codings.items[i], input, limit, scratch);
    if (status != decode_status::ok) {
      result.body.clear();
      result.status = status;
      return result;
    }
    result.body.swap(scratch);
    input = result.body;
  }
  return result;
}

} // namespace parallax::mirror::diff
