#pragma once
// What the server and client codecs share around an nghttp2 session: gathering frames to send,
// whether the session is alive, and header fields as nghttp2 takes them (names in lower case).

#include <cstdint>
#include <string>
#include <string_view>

#include <nghttp2/nghttp2.h>

#include "proxy/h2/field_store.hpp"
#include "proxy/http/message.hpp"

namespace parallax::proxy::h2 {

/// Bytes from nghttp2 as a view.
inline std::string_view view(const std::uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

/// Appends frames `session` has to send to `out` until it holds `limit` bytes or none are
/// left; false on a fatal error (`failure` says which, when still empty).
bool gather_frames(nghttp2_session* session, std::string& out, std::size_t limit,
                   std::string& failure);

/// Whether `session` still reads or has something to send.
bool session_alive(nghttp2_session* session);

/// Submits the fields of `trailers` that may be passed on (http::forwardable_trailer) as the
/// last HEADERS of stream `id` (`store` keeps them); false when none may (the last DATA then
/// ends the stream).
bool submit_trailer_fields(nghttp2_session* session, std::int32_t id,
                           const http::header_list& trailers, field_store& store);

/// The bytes the names and values of `headers` (http::header or http::field_view items) take.
template <typename Fields>
std::size_t field_bytes(const Fields& headers) {
  std::size_t n = 0;
  for (const auto& h : headers)
    n += h.name.size() + h.value.size();
  return n;
}

/// Adds `headers` (http::header or http::field_view items), less those `skip` rejects, to the
/// header block `store` began for them (with room for all of `headers`: field_bytes() and
/// their count), names in lower case.
template <typename Fields, typename Skip>
void append_fields(field_store& store, const Fields& headers, Skip skip) {
  for (const auto& h : headers) {
    if (!skip(h)) store.copy(h.name, h.value);
  }
}

} // namespace parallax::proxy::h2
