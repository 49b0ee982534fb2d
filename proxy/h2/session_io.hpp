#pragma once
// What the server and client codecs share around an nghttp2 session: gathering frames to send,
// whether the session is alive, and header fields as nghttp2 takes them (names in lower case).

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "proxy/http/ascii.hpp"
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

/// Appends `headers` (http::header or http::field_view items) to `fields`, less those `skip`
/// rejects, with lower-case names: a name that is already (always so from an HTTP/2 peer) is
/// used as it is, the others are folded into `names` (cleared first). `fields` point into
/// `headers` and `names`, valid until either changes.
template <typename Fields, typename Skip>
void append_fields(std::vector<nghttp2_nv>& fields, std::string& names, const Fields& headers,
                   Skip skip) {
  names.clear();
  for (const auto& h : headers) {
    if (skip(h)) continue;
    std::string_view name = h.name;
    if (http::has_upper(name)) {
      if (names.empty()) {
        std::size_t room = 0;
        for (const auto& other : headers)
          room += other.name.size();
        names.reserve(room); // no reallocation below: earlier fields point into it
      }
      const auto at = names.size();
      names.append(name);
      std::transform(names.begin() + static_cast<std::ptrdiff_t>(at), names.end(),
                     names.begin() + static_cast<std::ptrdiff_t>(at), http::to_lower);
      name = std::string_view(names).substr(at);
    }
    fields.push_back(field(name, h.value));
  }
}

} // namespace parallax::proxy::h2
