#pragma once
// Writes message heads for the other side of the proxy: hop-by-hop headers dropped
// (RFC 9110 7.6.1), framing rewritten, X-Forwarded-* added. Output goes into a reused string.

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/message.hpp"

namespace parallax::proxy::http {

/// How a forwarded body is framed on the wire.
enum class body_framing {
  none,            // no body bytes follow
  content_length,  // Content-Length: N
  chunked,         // Transfer-Encoding: chunked
  close_delimited, // the body ends when the connection closes (HTTP/1.0 style)
};

/// Facts about the downstream connection that go into X-Forwarded-* headers.
struct forwarding_info {
  std::string_view client_ip;
  bool downstream_tls = false;
};

/// Appends the upstream request head for `req` (origin-form target) to `out`.
void write_request_head(std::string& out, const request_head& req, const forwarding_info& info,
                        body_framing framing, std::uint64_t content_length);

/// The fields an HTTP/2 upstream gets for `req` (into `out`, cleared first): what
/// write_request_head() would send, less Host (the :authority), the framing and connection
/// fields, and TE other than `trailers`. They are views of `req`, `info` and `scratch` (which
/// holds a merged X-Forwarded-For value): valid while those are unchanged.
void forwarded_fields(std::vector<field_view>& out, std::string& scratch, const request_head& req,
                      const forwarding_info& info);
/// Appends the client response head for `res`; `keep_alive` false adds Connection: close.
void write_response_head(std::string& out, const response_head& res, body_framing framing,
                         std::uint64_t content_length, bool keep_alive, int client_minor);

/// Appends an interim (1xx) response head, forwarded without hop-by-hop headers.
void write_interim_head(std::string& out, const response_head& res);

/// Appends a complete small plain-text response the proxy generates itself.
void write_error_response(std::string& out, int status, std::string_view body, bool close);

/// Appends a chunk-size line ("1a2b\r\n") for a chunk of `size` bytes.
void write_chunk_size(std::string& out, std::uint64_t size);

/// Appends the last chunk with the trailer section: "0\r\n", the fields of `trailers` that
/// may be passed on (forwardable_trailer), "\r\n".
void write_last_chunk(std::string& out, const header_list& trailers);

/// The standard reason phrase for `status` ("Unknown" when none).
std::string_view reason_phrase(int status) noexcept;

} // namespace parallax::proxy::http
