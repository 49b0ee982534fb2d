#include "proxy/http/parser.hpp"

#include <llhttp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace parallax::proxy::http {

struct parser::llhttp_state {
  llhttp_t parser{};
};

namespace {
// RFC 9112 4 reason-phrase: HTAB, SP, VCHAR, obs-text (llhttp 8.1 takes any byte but CR/LF).
bool valid_reason(std::string_view v) noexcept {
  return std::all_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

} // namespace

// Captureless trampolines: llhttp calls C function pointers; `data` points at the parser.
struct parser::callbacks {
  static parser& self(llhttp_t* p) { return *static_cast<parser*>(p->data); }

  static int on_message_begin(llhttp_t* p) {
    auto& s = self(p);
    s.request_.clear();
    s.response_.clear();
    s.body_bytes_ = 0;
    s.current_header_ = nullptr;
    s.in_value_ = false;
    s.trailer_fields_ = 0;
    s.trailer_bytes_ = 0;
    s.trailers_.clear();
    s.current_trailer_ = nullptr;
    s.in_trailers_ = false;
    s.head_done_ = false;
    s.message_done_ = false;
    s.upgrade_ = false;
    return 0;
  }
  static int on_url(llhttp_t* p, const char* at, std::size_t n) {
    self(p).request_.target.append(at, n);
    return 0;
  }
  static int on_status(llhttp_t* p, const char* at, std::size_t n) {
    self(p).response_.reason.append(at, n);
    return 0;
  }
  static int on_method(llhttp_t* p, const char* at, std::size_t n) {
    self(p).request_.method.append(at, n);
    return 0;
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.head_done_) return s.on_trailer_bytes(true, {at, n});
    if (s.current_header_ == nullptr || s.in_value_) {
      auto& list = s.mode_ == mode::request ? s.request_.headers : s.response_.headers;
      if (s.max_fields_ != 0 && list.size() >= s.max_fields_) {
        s.head_too_large_ = true;
        s.error_reason_ = "too many header fields";
        return -1;
      }
      s.current_header_ = &list.append();
      s.in_value_ = false;
    }
    s.current_header_->name.append(at, n);
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.head_done_) return s.on_trailer_bytes(false, {at, n});
    s.in_value_ = true;
    if (s.current_header_ != nullptr) s.current_header_->value.append(at, n);
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) { return self(p).on_headers_complete(); }
  static int on_body(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.body_.emplace_back(at, n);
    s.body_bytes_ += n;
    return 0;
  }
  // Chunk extensions (RFC 9112 7.1.1) reach no one, but their bytes must be text: llhttp 8.1
  // lets control bytes and DEL through (found by the chunked fuzz target's oracle).
  static int on_chunk_extension(llhttp_t* p, const char* at, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto u = static_cast<unsigned char>(at[i]);
      if (!(u == '\t' || (u >= 0x20 && u != 0x7f))) {
        self(p).error_reason_ = "bad byte in a chunk extension";
        return -1;
      }
    }
    return 0;
  }
  static int on_chunk_header(llhttp_t* p) {
    if (p->content_length != 0) return 0;
    self(p).trailers_next_ = true; // the last chunk: feed() checks the trailer lines
    return HPE_PAUSED;
  }
  static int on_message_complete(llhttp_t* p) {
    auto& s = self(p);
    s.message_done_ = true;
    for (std::size_t i = 0; i < s.trailers_.size(); ++i) { // as the head's fields
      auto& t = s.trailers_[i];
      t.id = field_of(t.name);
      if (const auto trimmed = trim_ows(t.value); trimmed.size() != t.value.size()) {
        t.value = std::string(trimmed);
      }
    }
    return HPE_PAUSED;
  }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t value = [] {
      llhttp_settings_t st;
      llhttp_settings_init(&st);
      st.on_message_begin = on_message_begin;
      st.on_url = on_url;
      st.on_status = on_status;
      st.on_method = on_method;
      st.on_header_field = on_header_field;
      st.on_chunk_extension_name = on_chunk_extension;
      st.on_chunk_extension_value = on_chunk_extension;
      st.on_header_value = on_header_value;
      st.on_headers_complete = callbacks::on_headers_complete;
      st.on_body = on_body;
      st.on_chunk_header = on_chunk_header;
      st.on_message_complete = on_message_complete;
      return st;
    }();
    return value;
  }
};

parser::parser(mode m, std::uint64_t max_head_bytes, std::uint64_t max_fields)
    : state_(std::make_unique<llhttp_state>()), mode_(m), max_head_bytes_(max_head_bytes),
      max_fields_(max_fields) {
  reset();
}

parser::~parser() = default;

void parser::reset() {
  llhttp_init(&state_->parser, mode_ == mode::request ? HTTP_REQUEST : HTTP_RESPONSE,
              &callbacks::settings());
  state_->parser.data = this;
  request_.clear();
  response_.clear();
  body_.clear();
  body_bytes_ = 0;
  head_bytes_ = 0;
  current_header_ = nullptr;
  in_value_ = false;
  head_done_ = false;
  message_done_ = false;
  upgrade_ = false;
  head_too_large_ = false;
  after_lf_ = false;
  after_cr_ = false;
  trailer_fields_ = 0;
  trailer_bytes_ = 0;
  trailers_.clear();
  current_trailer_ = nullptr;
  trailers_next_ = false;
  in_trailers_ = false;
  failed_ = false;
  error_reason_ = {};
}

int parser::on_headers_complete() {
  llhttp_t* p = &state_->parser;
  head_done_ = true;
  auto& list = mode_ == mode::request ? request_.headers : response_.headers;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto& h = list[i];
    // llhttp (strict) checked the characters of names (tokens) and values (RFC 9110 5.5) and
    // that every CR is followed by LF; it takes an empty name.
    if (h.name.empty()) {
      error_reason_ = "empty header field name";
      return -1;
    }
    h.id = field_of(h.name);
    const auto trimmed = trim_ows(h.value);
    if (trimmed.size() != h.value.size()) {
      h.value = std::string(trimmed);
    }
  }
  // Repeated Content-Length fields must agree (RFC 9112 6.3); llhttp accepts repeats.
  std::optional<std::string_view> first_length;
  for (const auto& h : list) {
    if (h.id != field::content_length) continue;
    if (first_length && *first_length != h.value) {
      error_reason_ = "differing Content-Length values";
      return -1;
    }
    first_length = h.value;
  }
  framing f;
  f.chunked = (p->flags & F_CHUNKED) != 0;
  if ((p->flags & F_CONTENT_LENGTH) != 0) f.content_length = p->content_length;
  f.keep_alive = llhttp_should_keep_alive(p) != 0;
  f.upgrade = p->upgrade != 0;
  upgrade_ = f.upgrade;
  if (mode_ == mode::request) {
    request_.version_minor = p->http_minor;
    request_.frame = f;
    if (p->http_major != 1) {
      error_reason_ = "unsupported HTTP version";
      return -1;
    }
    if (!validate_request_head()) return -1;
    if (const auto expect = request_.headers.find(field::expect)) {
      request_.expect_continue = iequals(*expect, "100-continue");
    }
  } else {
    response_.status = p->status_code;
    response_.version_minor = p->http_minor;
    response_.frame = f;
    // RFC 9112 4: a three-digit status code and a reason of HTAB, SP, VCHAR and obs-text
    // (llhttp 8.1 takes "20" and control bytes; the reason is relayed to the client).
    if (response_.status < 100 || response_.status > 999) {
      error_reason_ = "invalid status code";
      return -1;
    }
    if (!valid_reason(response_.reason)) {
      error_reason_ = "invalid character in reason phrase";
      return -1;
    }
    if (head_request_) return 1; // no body follows a response to HEAD
    // 1xx, 204 and 304 have no body whatever their Content-Length says (RFC 9110 8.6; a 304
    // often carries the length of the representation; after a 101 the connection speaks
    // another protocol, even when its Connection field does not name the upgrade, which
    // llhttp 8.1 would then read as a body). llhttp 8.1 only knows this when the callback
    // returns 1; we pause instead, so it is told through the flag it reads when it resumes.
    const int code = response_.status;
    if ((code >= 100 && code < 200) || code == 204 || code == 304) {
      p->flags |= F_SKIPBODY;
    }
  }
  return HPE_PAUSED;
}

// A trailer field's name or value bytes. llhttp (strict) checks their characters and
// check_line_ends() the line ends; here only an empty name is refused. The fields are kept in
// trailers(); their count and bytes share the head's limits, so a trailer section cannot grow
// without bound.
int parser::on_trailer_bytes(bool name, std::string_view bytes) {
  const auto n = bytes.size();
  trailer_bytes_ += n;
  if (trailer_bytes_ > max_head_bytes_) {
    error_reason_ = "trailer section too large";
    return -1;
  }
  if (!name) {
    if (!in_value_ && trailer_name_bytes_ == 0) {
      error_reason_ = "empty trailer field name";
      return -1;
    }
    in_value_ = true;
    if (current_trailer_ != nullptr) current_trailer_->value.append(bytes);
    return 0;
  }
  if (trailer_fields_ == 0 || in_value_) { // a new field starts
    if (max_fields_ != 0 && trailer_fields_ >= max_fields_) {
      error_reason_ = "too many trailer fields";
      return -1;
    }
    ++trailer_fields_;
    trailer_name_bytes_ = 0;
    in_value_ = false;
    current_trailer_ = &trailers_.append();
  }
  trailer_name_bytes_ += n;
  current_trailer_->name.append(bytes);
  return 0;
}

bool parser::validate_request_head() {
  const auto& h = request_.headers;
  const auto hosts = h.count(field::host);
  if (hosts > 1) {
    error_reason_ = "more than one Host header";
    return false;
  }
  if (hosts == 0 && request_.version_minor >= 1) {
    error_reason_ = "missing Host header";
    return false;
  }
  if (h.count(field::transfer_encoding) > 0) {
    if (h.count(field::content_length) > 0) {
      error_reason_ = "both Content-Length and Transfer-Encoding";
      return false;
    }
    if (request_.version_minor == 0) {
      error_reason_ = "Transfer-Encoding in an HTTP/1.0 request";
      return false;
    }
    if (!request_.frame.chunked) {
      error_reason_ = "Transfer-Encoding without a final chunked";
      return false;
    }
  }
  if (request_.method == "CONNECT") return true; // answered 405 by the session
  return true;
}

bool parser::needs_eof() const noexcept {
  return llhttp_message_needs_eof(&state_->parser) != 0;
}

parse_result parser::feed(std::string_view data) {
  if (failed_) return {parse_status::error, 0};
  llhttp_t* p = &state_->parser;
  if (message_done_) {
    // Resuming after the pause at the end of the previous message.
    message_done_ = false;
    head_done_ = false;
    head_bytes_ = 0;
    after_lf_ = false;
    after_cr_ = false;
    in_trailers_ = false;
  }
  const bool in_head = !head_done_;
  // Never give the parser more head bytes than allowed, so a huge head is refused early.
  std::size_t len = data.size();
  if (in_head) {
    const auto room = max_head_bytes_ > head_bytes_ ? max_head_bytes_ - head_bytes_ : 0;
    len = static_cast<std::size_t>(std::min<std::uint64_t>(len, room + 1));
  }
  auto err = llhttp_execute(p, data.data(), len);
  std::size_t trailer_start = 0; // where this feed's trailer bytes start, when in_trailers_
  if (err == HPE_PAUSED && trailers_next_) {
    // The last chunk's line ended: the trailer section follows, checked like a head.
    trailers_next_ = false;
    in_trailers_ = true;
    after_lf_ = true;
    after_cr_ = false;
    trailer_start = static_cast<std::size_t>(llhttp_get_error_pos(p) - data.data());
    llhttp_resume(p);
    err = llhttp_execute(p, data.data() + trailer_start, len - trailer_start);
  }
  std::size_t consumed = len;
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    consumed = static_cast<std::size_t>(llhttp_get_error_pos(p) - data.data());
    if (err == HPE_PAUSED_UPGRADE) {
      upgrade_ = true;
      llhttp_resume_after_upgrade(p);
    } else {
      llhttp_resume(p);
    }
  } else if (err != HPE_OK) {
    failed_ = true;
    if (error_reason_.empty()) error_reason_ = llhttp_get_error_reason(p);
    if (error_reason_.empty()) error_reason_ = llhttp_errno_name(err);
    return {parse_status::error, 0};
  }
  if (in_trailers_ && !check_line_ends(data.substr(trailer_start, consumed - trailer_start))) {
    failed_ = true;
    return {parse_status::error, 0};
  }
  if (in_head) {
    if (!check_line_ends({data.data(), consumed})) {
      failed_ = true;
      return {parse_status::error, 0};
    }
    // Pausing at the end of the head makes `consumed` exactly the head's bytes.
    head_bytes_ += consumed;
    if (head_bytes_ > max_head_bytes_) {
      failed_ = true;
      head_too_large_ = true;
      error_reason_ = "message head too large";
      return {parse_status::error, 0};
    }
  }
  if (message_done_) return {parse_status::message_complete, consumed};
  if (head_done_ && in_head) return {parse_status::head_complete, consumed};
  return {parse_status::need_more, consumed};
}

// Checks the head (or trailer) bytes llhttp just consumed (the pause at the end of a head makes
// them exactly the head's). llhttp 8.1 accepts obs-fold (a line starting with SP/HTAB), which
// RFC 9112 5.2 lets a proxy reject. In strict mode it refuses a CR not followed by LF inside a
// head but skips one before the start line (`\rGET`), which is refused here too; without strict
// mode it took a CR and any byte as a line end. Every line ends in CR LF (a bare LF is refused),
// so one memchr pass over the CRs checks the LF after each and the byte after that.
bool parser::check_line_ends(std::string_view bytes) {
  if (bytes.empty()) return true;
  if ((after_lf_ && (bytes.front() == ' ' || bytes.front() == '\t')) ||
      (after_cr_ && bytes.front() != '\n')) {
    error_reason_ =
        after_cr_ ? "CR not followed by LF" : "obs-fold (header line folding) is not allowed";
    return false;
  }
  if (after_cr_ && bytes.size() > 1 && (bytes[1] == ' ' || bytes[1] == '\t')) {
    error_reason_ = "obs-fold (header line folding) is not allowed";
    return false;
  }
  const char* const end = bytes.data() + bytes.size();
  after_lf_ = end[-1] == '\n'; // the next feed's first byte decides
  after_cr_ = end[-1] == '\r';
  if (bytes.size() >= 2 && end[-2] == '\r' && end[-1] == '\n') after_lf_ = true;
  for (const char* at = bytes.data();;) {
    const auto* cr = static_cast<const char*>(std::memchr(at, '\r', std::size_t(end - at)));
    if (cr == nullptr || cr + 1 == end) break;
    if (cr[1] != '\n') {
      error_reason_ = "CR not followed by LF";
      return false;
    }
    if (cr + 2 != end && (cr[2] == ' ' || cr[2] == '\t')) {
      error_reason_ = "obs-fold (header line folding) is not allowed";
      return false;
    }
    at = cr + 2;
    if (at == end) break;
  }
  return true;
}

parse_result parser::finish() {
  if (failed_) return {parse_status::error, 0};
  const auto err = llhttp_finish(&state_->parser);
  if (err == HPE_OK || err == HPE_PAUSED) {
    if (message_done_) return {parse_status::message_complete, 0};
    if (err == HPE_OK && !head_done_ && request_.method.empty() && response_.status == 0) {
      return {parse_status::need_more, 0}; // closed between messages
    }
    if (err == HPE_OK) return {parse_status::need_more, 0};
  }
  failed_ = true;
  error_reason_ = "connection closed before the message was complete";
  return {parse_status::error, 0};
}

} // namespace parallax::proxy::http
