#include "proxy/h2/session_io.hpp"

namespace parallax::proxy::h2 {

bool gather_frames(nghttp2_session* session, std::string& out, std::size_t limit,
                   std::string& failure) {
  while (out.size() < limit) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session, &data);
    if (n < 0) {
      if (failure.empty()) failure = nghttp2_strerror(static_cast<int>(n));
      return false;
    }
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  return true;
}

bool session_alive(nghttp2_session* session) {
  return nghttp2_session_want_read(session) != 0 || nghttp2_session_want_write(session) != 0;
}

bool submit_trailer_fields(nghttp2_session* session, std::int32_t id,
                           const http::header_list& trailers, field_store& store) {
  store.begin(field_bytes(trailers), trailers.size());
  append_fields(store, trailers,
                [](const http::header& h) { return !http::forwardable_trailer(h); });
  if (store.count() == 0 || nghttp2_submit_trailer(session, id, store.fields(), store.count()) != 0)
    return false;
  store.commit();
  return true;
}

} // namespace parallax::proxy::h2
