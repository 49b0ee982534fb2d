#include "proxy/h2/server_codec.hpp"
#include "proxy/h2/session_io.hpp"
#include "proxy/h2/session_memory.hpp"

#include <nghttp2/nghttp2.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <array>

namespace parallax::proxy::h2 {

namespace {

using clock = std::chrono::steady_clock;

// Envoy's premature-reset rule: judged once this many streams were opened.
constexpr std::uint64_t premature_reset_min_streams = 500;
constexpr std::uintptr_t premature_reset_lifetime_ms = 1000; // a reset sooner is premature
// The rapid-reset token bucket: RST_STREAM frames a client may send at once (as nghttp2's).
constexpr double reset_burst = 1000;

// A request stream's nghttp2 user data: when it was opened (milliseconds of the steady clock,
// plus one, so that an open stream's is never null). No map of our own per stream.
std::uintptr_t now_mark() {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch());
  return static_cast<std::uintptr_t>(ms.count()) + 1;
}
void* opened_mark(nghttp2_session* session, std::int32_t id) {
  return nghttp2_session_get_stream_user_data(session, id);
}

// Fields of an HTTP/1.1 head that HTTP/2 forbids (RFC 9113 8.2.2).
bool connection_specific(const http::header& h) {
  return http::is_hop_by_hop(h.id) || h.id == http::field::te ||
         h.id == http::field::transfer_encoding || h.id == http::field::upgrade;
}

} // namespace

struct server_codec::callbacks {
  static server_codec& self(void* user) { return *static_cast<server_codec*>(user); }

  static int begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& c = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) { // a request's trailer section
      c.trailers_.id = frame->hd.stream_id;
      c.trailers_.fields.clear();
      c.trailers_.bytes = c.trailers_.count = 0;
      return 0;
    }
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    ++c.streams_;
    if (++c.new_streams_this_read_ > 2 * c.settings_.max_concurrent_streams) {
      c.flood("too many new streams in one read");
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    auto& pending = c.current_;
    pending.id = frame->hd.stream_id;
    pending.head.clear();
    pending.head.version_minor = 1;
    pending.cookie.clear();
    pending.cookie_seen = false;
    pending.bytes = 0;
    pending.fields = 0;
    pending.too_large = false;
    pending.has_authority = false;
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id,
                                         reinterpret_cast<void*>(now_mark()));
    return 0;
  }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                    std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                    std::uint8_t, void* user) {
    auto& c = self(user);
    if (c.current_.id != frame->hd.stream_id) {
      auto& t = c.trailers_;
      if (t.id != frame->hd.stream_id) return 0;
      t.bytes += static_cast<std::uint32_t>(namelen + valuelen + 32);
      if (t.bytes > c.settings_.max_header_list_bytes || ++t.count > c.settings_.max_headers) {
        t.id = 0;
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; // the stream is reset
      }
      t.fields.add(view(name, namelen), view(value, valuelen)); // no pseudo-fields: nghttp2
      return 0;
    }
    auto& p = c.current_;
    const auto n = view(name, namelen);
    const auto v = view(value, valuelen);
    const bool pseudo = !n.empty() && n[0] == ':';
    p.bytes += static_cast<std::uint32_t>(namelen + valuelen + 32);
    // max_request_headers counts what HTTP/1.1 would count as header lines: not the
    // pseudo-fields (but :authority, which becomes Host), and the cookie crumbs as the one
    // Cookie line they are joined into. The list's bytes count everything (RFC 9113 6.5.2).
    if (pseudo ? n == ":authority" : !(n == "cookie" && p.cookie_seen)) ++p.fields;
    if (p.bytes > c.settings_.max_header_list_bytes || p.fields > c.settings_.max_headers) {
      p.too_large = true;
    }
    if (p.too_large) return 0;
    if (pseudo) {
      if (n == ":method") {
        p.head.method = v;
      } else if (n == ":path") {
        p.head.target = v;
      } else if (n == ":authority") {
        p.head.headers.set("host", v);
        p.has_authority = true;
      }
      return 0; // :scheme (checked by nghttp2) and :protocol are not forwarded
    }
    if (n == "cookie") {
      p.cookie_seen = true;
      if (!p.cookie.empty()) p.cookie += "; ";
      p.cookie += v;
      return 0;
    }
    if (n == "host" && p.has_authority) return 0; // :authority wins (RFC 9113 8.3.1)
    p.head.headers.add(n, v);
    return 0;
  }

  static void deliver_head(server_codec& c, std::int32_t id, pending_head& p, bool end_stream) {
    auto& head = p.head;
    if (!p.cookie.empty()) head.headers.add("cookie", p.cookie);
    if (const auto length = head.headers.find(http::field::content_length)) {
      std::uint64_t n = 0;
      for (char ch : *length)
        n = n * 10 + static_cast<std::uint64_t>(ch - '0'); // digits: nghttp2 checked them
      head.frame.content_length = n;
    }
    // Forwarded to HTTP/1.1 upstreams with a length when the client gave one, chunked when a
    // body follows without it.
    head.frame.chunked = !end_stream && !head.frame.content_length;
    head.frame.keep_alive = true;
    head.expect_continue = false;
    head.headers.remove(http::field::expect);
    c.events_.on_request(id, head, end_stream,
                         p.too_large ? head_refusal::too_large : head_refusal::none);
  }

  static int frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& c = self(user);
    const auto id = frame->hd.stream_id;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      if (c.current_.id == id) {
        c.current_.id = 0;
        deliver_head(c, id, c.current_, end_stream);
      } else if (end_stream) {
        if (c.trailers_.id == id) {
          c.trailers_.id = 0;
          c.events_.on_request_trailers(id, c.trailers_.fields);
        }
        c.events_.on_request_end(id); // after trailers
      }
      break;
    }
    case NGHTTP2_DATA:
      if (end_stream) c.events_.on_request_end(id);
      break;
    case NGHTTP2_RST_STREAM: {
      if (!c.take_reset_token()) {
        c.flood("stream resets beyond limits.http2.max_resets_per_second");
        break;
      }
      const auto opened = reinterpret_cast<std::uintptr_t>(opened_mark(session, id));
      if (opened != 0 && now_mark() - opened < premature_reset_lifetime_ms) {
        ++c.premature_resets_;
        if (c.premature_resets_exceeded()) c.flood("premature stream resets");
      }
      break;
    }
    default: break;
    }
    return 0;
  }

  // A response that ended while the client is still sending (an early answer, a refusal):
  // RST_STREAM NO_ERROR asks it to stop (RFC 9113 8.1), so the stream does not stay half open.
  // Also: a HEADERS frame's bytes may go once nghttp2 has packed the frame, or dropped it.
  static int frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    self(user).store_.release(*frame);
    const auto id = frame->hd.stream_id;
    if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 &&
        nghttp2_session_get_stream_remote_close(session, id) == 0) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }

  static int frame_not_sent(nghttp2_session*, const nghttp2_frame* frame, int, void* user) {
    self(user).store_.release(*frame);
    return 0;
  }

  static int data_chunk(nghttp2_session* session, std::uint8_t, std::int32_t id,
                        const std::uint8_t* data, std::size_t len, void* user) {
    auto& c = self(user);
    if (opened_mark(session, id) == nullptr) {
      nghttp2_session_consume(session, id, len); // a stream no longer served
      return 0;
    }
    c.events_.on_data(id, view(data, len));
    return 0;
  }

  static int stream_close(nghttp2_session* session, std::int32_t id, std::uint32_t error_code,
                          void* user) {
    auto& c = self(user);
    if (c.current_.id == id) c.current_.id = 0;
    if (opened_mark(session, id) != nullptr) {
      nghttp2_session_set_stream_user_data(session, id, nullptr);
      c.events_.on_stream_close(id, error_code);
    }
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source*, void* user) {
    bool eof = false;
    const http::header_list* trailers = nullptr;
    auto& c = self(user);
    const long n = c.events_.read_body(id, buf, length, eof, trailers);
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
    spdlog::debug("http2: {}", std::string_view(msg, len));
    return 0;
  }
};

server_codec::server_codec(server_events& events, const settings& s)
    : events_(events), settings_(s), reset_tokens_(reset_burst), reset_refilled_(now_mark()) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &callbacks::stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &callbacks::frame_send);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, &callbacks::frame_not_sent);
  nghttp2_session_callbacks_set_error_callback2(cbs, &callbacks::error);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // Our bucket (take_reset_token) ends such a connection first, with ENHANCE_YOUR_CALM.
  nghttp2_option_set_stream_reset_rate_limit(
      opt, 2 * static_cast<std::uint64_t>(reset_burst),
      2 * static_cast<std::uint64_t>(s.max_resets_per_second));
  nghttp2_option_set_max_continuations(opt, s.max_continuation_frames);
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_session_server_new3(&session_, cbs, this, opt, session_memory());
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  const std::array<nghttp2_settings_entry, 4> iv{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, s.initial_stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, s.max_header_list_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  }};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv.data(), iv.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<std::int32_t>(s.initial_connection_window));
}

server_codec::~server_codec() {
  nghttp2_session_del(session_);
}

void server_codec::flood(const char* why) {
  if (failure_.empty()) failure_ = why;
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
}

std::string server_codec::goaway_frame() const {
  const auto last = static_cast<std::uint32_t>(nghttp2_session_get_last_proc_stream_id(session_));
  const std::uint32_t code = NGHTTP2_ENHANCE_YOUR_CALM;
  // RFC 9113 6.8: length 8, type GOAWAY, no flags, stream 0; last stream id; error code.
  std::string f{'\0', '\0', '\x08', '\x07', '\0', '\0', '\0', '\0', '\0'};
  for (const auto word : {last & 0x7fffffffU, code}) {
    for (int shift = 24; shift >= 0; shift -= 8)
      f.push_back(static_cast<char>((word >> shift) & 0xffU));
  }
  return f;
}

bool server_codec::take_reset_token() {
  const auto now = now_mark();
  reset_tokens_ =
      std::min(reset_burst, reset_tokens_ + static_cast<double>(now - reset_refilled_) *
                                                settings_.max_resets_per_second / 1000.0);
  reset_refilled_ = now;
  if (reset_tokens_ < 1) return false;
  reset_tokens_ -= 1;
  return true;
}

bool server_codec::premature_resets_exceeded() const noexcept {
  return streams_ >= premature_reset_min_streams && premature_resets_ * 2 > streams_;
}

bool server_codec::receive(std::string_view bytes) {
  new_streams_this_read_ = 0;
  const auto n = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (n < 0) {
    if (n == NGHTTP2_ERR_FLOODED) {
      flood("flooded (too many frames to acknowledge)");
      flooded_ = true;
    } else if (n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
      flood("CONTINUATION flood (more than limits.http2.max_continuation_frames)");
    } else if (n == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
      failure_ = "not an HTTP/2 connection preface";
      return false; // nothing to say to a peer that does not speak HTTP/2
    } else {
      if (failure_.empty()) failure_ = nghttp2_strerror(static_cast<int>(n));
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    }
    return false;
  }
  return failure_.empty() && alive();
}

bool server_codec::flush(std::string& out, std::size_t limit) {
  return gather_frames(session_, out, limit, failure_);
}

bool server_codec::alive() const {
  return session_alive(session_);
}

bool server_codec::wants_write() const {
  return nghttp2_session_want_write(session_) != 0;
}

bool server_codec::submit(std::int32_t id, const response_fields& head, bool interim, bool body) {
  std::array<char, 8> status{};
  const auto digits = std::to_chars(status.data(), status.data() + status.size(), head.status);
  const std::string_view code(status.data(), static_cast<std::size_t>(digits.ptr - status.data()));
  store_.begin(code.size() + head.content_type.size() +
                   (head.headers != nullptr ? field_bytes(*head.headers) : 0),
               2 + (head.headers != nullptr ? head.headers->size() : 0));
  store_.literal(":status", code);
  if (head.headers != nullptr) {
    const bool listed = http::names_other_options(*head.headers);
    append_fields(store_, *head.headers, [&](const http::header& h) {
      return connection_specific(h) || (listed && http::named_in_connection(*head.headers, h.name));
    });
  }
  if (!head.content_type.empty()) store_.literal("content-type", head.content_type);
  nghttp2_data_provider provider{};
  provider.read_callback = &callbacks::read_body;
  const bool ok = interim ? nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, id, nullptr,
                                                   store_.fields(), store_.count(), nullptr) >= 0
                          : nghttp2_submit_response(session_, id, store_.fields(), store_.count(),
                                                    body ? &provider : nullptr) == 0;
  if (ok) store_.commit();
  return ok;
}

bool server_codec::respond(std::int32_t id, const response_fields& head, bool body) {
  return submit(id, head, false, body);
}

bool server_codec::interim(std::int32_t id, const response_fields& head) {
  return submit(id, head, true, false);
}

void server_codec::reset(std::int32_t id, std::uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error_code);
}

void server_codec::resume(std::int32_t id) {
  nghttp2_session_resume_data(session_, id);
}

void server_codec::consume(std::int32_t id, std::size_t n) {
  if (n == 0) return;
  if (id == 0 || nghttp2_session_find_stream(session_, id) == nullptr) {
    nghttp2_session_consume_connection(session_, n);
  } else {
    nghttp2_session_consume(session_, id, n);
  }
}

void server_codec::shutdown() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void server_codec::terminate(std::uint32_t error_code) {
  nghttp2_session_terminate_session(session_, error_code);
}

} // namespace parallax::proxy::h2
