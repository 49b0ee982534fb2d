#include "proxy/h2/client_codec.hpp"
#include "proxy/h2/session_io.hpp"
#include "proxy/h2/session_memory.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

namespace parallax::proxy::h2 {

struct client_codec::callbacks {
  static client_codec& self(void* user) { return *static_cast<client_codec*>(user); }

  static int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& c = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    c.current_id_ = frame->hd.stream_id;
    c.current_trailers_ = frame->headers.cat == NGHTTP2_HCAT_HEADERS;
    if (c.current_trailers_) {
      c.trailers_.clear();
    } else {
      c.head_.clear();
    }
    return 0;
  }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                    std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                    std::uint8_t, void* user) {
    auto& c = self(user);
    if (frame->hd.stream_id != c.current_id_) return 0;
    const auto n = view(name, namelen);
    const auto v = view(value, valuelen);
    if (c.current_trailers_) {
      if (n != ":status") {
        if (!n.empty() && n[0] != ':') c.trailers_.add(n, v);
        return 0;
      }
      // A final response after a 1xx comes in the same category as trailers: its :status
      // (pseudo-fields come first) says it is a response.
      c.current_trailers_ = false;
      c.head_.clear();
    }
    if (n == ":status") {
      int status = 0;
      for (char ch : v)
        status = status * 10 + (ch - '0'); // three digits: nghttp2 checked them
      c.head_.status = status;
      return 0;
    }
    if (!n.empty() && n[0] == ':') return 0;
    c.head_.headers.add(n, v);
    return 0;
  }

  static int frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& c = self(user);
    const auto id = frame->hd.stream_id;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (id != c.current_id_) break;
      c.current_id_ = 0;
      if (c.current_trailers_) {
        c.events_.on_trailers(id, c.trailers_);
        c.events_.on_end(id);
      } else {
        if (const auto length = c.head_.headers.find(http::field::content_length)) {
          std::uint64_t n = 0;
          for (char ch : *length)
            n = n * 10 + static_cast<std::uint64_t>(ch - '0');
          c.head_.frame.content_length = n;
        }
        // Without a length the body ends with the stream: HTTP/1.1 clients get it chunked.
        c.head_.frame.chunked = !c.head_.frame.content_length && !end_stream;
        const int status = c.head_.status; // the events may take the head
        c.events_.on_response(id, c.head_, end_stream);
        if (end_stream && status >= 200) c.events_.on_end(id);
      }
      break;
    case NGHTTP2_DATA:
      if (end_stream) c.events_.on_end(id);
      break;
    case NGHTTP2_GOAWAY: c.goaway_ = true; break;
    default: break;
    }
    return 0;
  }

  static int data_chunk(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                        std::size_t len, void* user) {
    self(user).events_.on_body(id, view(data, len));
    return 0;
  }

  // A HEADERS frame's bytes may go once nghttp2 has packed the frame, or dropped it.
  static int frame_sent(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    self(user).store_.release(*frame);
    return 0;
  }
  static int frame_not_sent(nghttp2_session*, const nghttp2_frame* frame, int, void* user) {
    self(user).store_.release(*frame);
    return 0;
  }

  static int stream_close(nghttp2_session*, std::int32_t id, std::uint32_t error_code, void* user) {
    self(user).events_.on_close(id, error_code);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source*, void* user) {
    auto& c = self(user);
    bool eof = false;
    const http::header_list* trailers = nullptr;
    const long n = c.events_.read_request_body(id, buf, length, eof, trailers);
    if (n < 0) return NGHTTP2_ERR_DEFERRED;
    if (eof) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (trailers != nullptr && submit_trailer_fields(c.session_, id, *trailers, c.store_)) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM; // the trailers' HEADERS end the stream
      }
    }
    return n;
  }

  static int error(nghttp2_session*, int, const char* msg, std::size_t len, void*) {
    spdlog::debug("http2 upstream: {}", std::string_view(msg, len));
    return 0;
  }
};

client_codec::client_codec(client_events& events, std::uint32_t stream_window,
                           std::uint32_t connection_window)
    : events_(events) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &callbacks::stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &callbacks::frame_sent);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, &callbacks::frame_not_sent);
  nghttp2_session_callbacks_set_error_callback2(cbs, &callbacks::error);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_session_client_new3(&session_, cbs, this, opt, session_memory());
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  const std::array<nghttp2_settings_entry, 2> iv{{
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, stream_window},
  }};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv.data(), iv.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<std::int32_t>(connection_window));
}

client_codec::~client_codec() {
  nghttp2_session_del(session_);
}

bool client_codec::receive(std::string_view bytes) {
  const auto n = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (n < 0) {
    if (failure_.empty()) failure_ = nghttp2_strerror(static_cast<int>(n));
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    return false;
  }
  return alive();
}

bool client_codec::flush(std::string& out, std::size_t limit) {
  return gather_frames(session_, out, limit, failure_);
}

bool client_codec::sent(std::int32_t id) const {
  return nghttp2_session_find_stream(session_, id) != nullptr;
}

bool client_codec::alive() const {
  return session_alive(session_);
}

std::int32_t client_codec::submit(const request_fields& request, bool body) {
  store_.begin(request.method.size() + request.scheme.size() + request.authority.size() +
                   request.path.size() + field_bytes(request.headers),
               4 + request.headers.size());
  store_.literal(":method", request.method);
  store_.literal(":scheme", request.scheme);
  store_.literal(":authority", request.authority);
  store_.literal(":path", request.path);
  append_fields(store_, request.headers, [](const http::field_view&) { return false; });
  nghttp2_data_provider provider{};
  provider.read_callback = &callbacks::read_body;
  const auto id = nghttp2_submit_request(session_, nullptr, store_.fields(), store_.count(),
                                         body ? &provider : nullptr, nullptr);
  if (id > 0) store_.commit();
  return id;
}

void client_codec::resume(std::int32_t id) {
  nghttp2_session_resume_data(session_, id);
}

std::size_t client_codec::send_window(std::int32_t id) const {
  // A stream whose HEADERS are not out yet is not open: it will start with the peer's initial
  // window.
  const auto stream = nghttp2_session_find_stream(session_, id) != nullptr
                          ? nghttp2_session_get_stream_remote_window_size(session_, id)
                          : static_cast<std::int32_t>(nghttp2_session_get_remote_settings(
                                session_, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE));
  const auto connection = nghttp2_session_get_remote_window_size(session_);
  return static_cast<std::size_t>(std::max(0, std::min(stream, connection)));
}

void client_codec::consume(std::int32_t id, std::size_t n) {
  if (n == 0) return;
  if (nghttp2_session_find_stream(session_, id) == nullptr) {
    nghttp2_session_consume_connection(session_, n);
  } else {
    nghttp2_session_consume(session_, id, n);
  }
}

void client_codec::cancel(std::int32_t id) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
}

void client_codec::terminate() {
  nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
}

std::uint32_t client_codec::peer_max_streams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

} // namespace parallax::proxy::h2
