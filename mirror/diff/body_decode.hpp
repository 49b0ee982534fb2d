#pragma once
// Content-Encoding decoding of captured response bodies before comparison (reports.md: bodies
// are decoded first). Bounded output: a decompression bomb stops at `max_bytes`. Failures are
// values, never exceptions.

#include <cstddef>
#include <string>
#include <string_view>

namespace parallax::mirror::diff {

/// How decoding a body ended.
enum class decode_status {
  ok,         // `body` holds the whole decoded body
  too_large,  // the decoded body would exceed max_bytes; decoding stopped there
  corrupt,    // malformed, truncated, or followed by trailing bytes
  unsupported // a content coding this decoder does not know (e.g. compress, zstd)
};

/// A decoded body, or why there is none.
struct decode_result {
  std::string body; // the decoded body when status == ok; empty otherwise
  decode_status status = decode_status::ok;
};

/// Short name of a status for logs and records: ok, too_large, corrupt, unsupported.
std::string_view to_string(decode_status status) noexcept;

/// Decodes `encoded` per the Content-Encoding value `content_encoding` (comma-separated codings
/// applied in order, decoded in reverse; pass several Content-Encoding fields joined by ", ").
/// Knows gzip (also x-gzip, multi-member), deflate (zlib-wrapped, or raw deflate as many
/// servers send), br and identity; an empty value means identity. An empty `encoded` body is
/// ok for every known coding (HEAD and 204 responses keep their Content-Encoding). Every stage's
/// output is limited to `max_bytes`: exactly max_bytes is ok, one byte more is too_large.
decode_result decode_body(std::string_view encoded, std::string_view content_encoding,
                          std::size_t max_bytes);

} // namespace parallax::mirror::diff
