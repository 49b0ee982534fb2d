#pragma once
// What the server and client codecs share around an nghttp2 session: gathering frames to send,
// whether the session is alive, and header fields as nghttp2 takes them (names lower-cased
// into one reused buffer).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "proxy/http/message.hpp"

namespace parallax::proxy::h2 {

/// Bytes from nghttp2 as a view.
inline std::string_view view(const std::uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

/// A field for nghttp2 (which copies names and values when a frame is submitted).
inline nghttp2_nv field(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

/// Appends frames `session` has to send to `out` until it holds `limit` bytes or none are
/// left; false on a fatal error (`failure` says which, when still empty).
bool gather_frames(nghttp2_session* session, std::string& out, std::size_t limit,
                   std::string& failure);

/// Whether `session` still reads or has something to send.
bool session_alive(nghttp2_session* session);

/// Submits the fields of `trailers` that may be passed on (http::forwardable_trailer) as the
/// last HEADERS of stream `id` (`fields` and `names` are the caller's reused storage); false
/// when none may (the last DATA then ends the stream).
bool submit_trailer_fields(nghttp2_session* session, std::int32_t id,
                           const http::header_list& trailers, std::vector<nghttp2_nv>& fields,
                           std::string& names);

/// Appends `headers` to `fields` with lower-case names kept in `names` (cleared first), less
/// those `skip` rejects; `fields` point into `names`, valid until it changes.
template <typename Skip>
void append_fields(std::vector<nghttp2_nv>& fields, std::string& names,
                   const http::header_list& headers, Skip skip) {
  names.clear();
  std::size_t room = 0;
  for (const auto& h : headers)
    room += h.name.size();
  names.reserve(room); // no reallocation below: the fields point into it
  for (const auto& h : headers) {
    if (skip(h)) continue;
    const auto at = names.size();
    for (char ch : h.name)
      names.push_back(http::to_lower(ch));
    fields.push_back(field(std::string_view(names).substr(at, h.name.size()), h.value));
  }
}

} // namespace parallax::proxy::h2
