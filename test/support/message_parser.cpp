#include "test/support/message_parser.hpp"

#include <algorithm>

namespace parallax::test {
namespace {

// A head this large means the peer is not sending HTTP; stop buffering it.
constexpr std::size_t max_head_bytes = 1 << 20;

std::string trim_right(std::string value) {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.pop_back();
  return value;
}

} // namespace

message_parser::message_parser(llhttp_type_t type) : type_(type) {
  llhttp_init(&parser_, type_, &settings());
  start(false, 0);
}

const llhttp_settings_t& message_parser::settings() {
  static const llhttp_settings_t instance = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &message_parser::on_message_begin;
    s.on_method = &message_parser::on_method;
    s.on_url = &message_parser::on_url;
    s.on_status = &message_parser::on_status;
    s.on_header_field = &message_parser::on_header_field;
    s.on_header_value = &message_parser::on_header_value;
    s.on_header_value_complete = &message_parser::on_header_value_complete;
    s.on_headers_complete = &message_parser::on_headers_complete;
    s.on_body = &message_parser::on_body;
    s.on_message_complete = &message_parser::on_message_complete;
    return s;
  }();
  return instance;
}

message_parser& message_parser::self(llhttp_t* parser) {
  return *static_cast<message_parser*>(parser->data);
}

void message_parser::start(bool no_body, std::size_t max_stored_body) {
  llhttp_reset(&parser_);
  message_ = parsed_message{};
  pattern_ = pattern_checker{};
  field_.clear();
  value_.clear();
  head_bytes_.clear();
  error_.clear();
  max_stored_body_ = max_stored_body;
  no_body_ = no_body;
  started_ = false;
  headers_done_ = false;
  head_captured_ = false;
  complete_ = false;
}

void message_parser::capture_head(std::string_view consumed) {
  if (head_captured_) return;
  head_bytes_.append(consumed);
  if (!headers_done_) return;
  // The head ends at the first empty line; anything after it was body.
  auto end = head_bytes_.find("\r\n\r\n");
  std::size_t terminator = 4;
  const auto bare = head_bytes_.find("\n\n");
  if (bare != std::string::npos && (end == std::string::npos || bare < end)) {
    end = bare;
    terminator = 2;
  }
  message_.raw_head =
      end == std::string::npos ? head_bytes_ : head_bytes_.substr(0, end + terminator);
  head_captured_ = true;
  head_bytes_.clear();
  head_bytes_.shrink_to_fit();
}

message_parser::result message_parser::feed(std::string_view data, std::size_t& consumed) {
  consumed = 0;
  if (complete_) return result::complete;
  if (!error_.empty()) return result::failed;
  parser_.data = this; // set on every call so the owner may move this object between calls
  const llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) {
    consumed = data.size();
  } else {
    consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data.data());
  }
  capture_head(data.substr(0, consumed));
  if (complete_) return result::complete;
  if (err != HPE_OK) {
    error_ = std::string(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(&parser_);
    return result::failed;
  }
  if (!head_captured_ && head_bytes_.size() > max_head_bytes) {
    error_ = "message head larger than 1 MiB";
    return result::failed;
  }
  return result::need_more;
}

message_parser::result message_parser::finish() {
  if (complete_) return result::complete;
  parser_.data = this;
  const llhttp_errno_t err = llhttp_finish(&parser_);
  if (complete_) return result::complete;
  if (err != HPE_OK) {
    error_ = std::string(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(&parser_);
    return result::failed;
  }
  if (started_) {
    error_ = "connection closed in the middle of a message";
    return result::failed;
  }
  error_ = "connection closed before a message started";
  return result::failed;
}

int message_parser::on_message_begin(llhttp_t* parser) {
  self(parser).started_ = true;
  return 0;
}

int message_parser::on_method(llhttp_t* parser, const char* at, std::size_t length) {
  self(parser).message_.method.append(at, length);
  return 0;
}

int message_parser::on_url(llhttp_t* parser, const char* at, std::size_t length) {
  self(parser).message_.target.append(at, length);
  return 0;
}

int message_parser::on_status(llhttp_t* parser, const char* at, std::size_t length) {
  self(parser).message_.reason.append(at, length);
  return 0;
}

int message_parser::on_header_field(llhttp_t* parser, const char* at, std::size_t length) {
  self(parser).field_.append(at, length);
  return 0;
}

int message_parser::on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
  self(parser).value_.append(at, length);
  return 0;
}

int message_parser::on_header_value_complete(llhttp_t* parser) {
  message_parser& p = self(parser);
  auto& target = p.headers_done_ ? p.message_.trailers : p.message_.headers;
  target.emplace_back(std::move(p.field_), trim_right(std::move(p.value_)));
  p.field_.clear();
  p.value_.clear();
  return 0;
}

int message_parser::on_headers_complete(llhttp_t* parser) {
  message_parser& p = self(parser);
  p.headers_done_ = true;
  p.message_.version_major = parser->http_major;
  p.message_.version_minor = parser->http_minor;
  p.message_.status = parser->status_code;
  p.message_.chunked = (parser->flags & F_CHUNKED) != 0;
  if (p.type_ == HTTP_RESPONSE) {
    // llhttp would read a body framed by Content-Length even on these; HTTP says they have none.
    const int status = parser->status_code;
    const bool bodiless =
        (status >= 100 && status < 200 && status != 101) || status == 204 || status == 304;
    if (p.no_body_ || bodiless) return 1;
  }
  return 0;
}

int message_parser::on_body(llhttp_t* parser, const char* at, std::size_t length) {
  message_parser& p = self(parser);
  const std::string_view piece(at, length);
  p.pattern_.update(piece);
  const std::size_t room =
      p.max_stored_body_ > p.message_.body.size() ? p.max_stored_body_ - p.message_.body.size() : 0;
  if (piece.size() > room) p.message_.body_truncated = true;
  p.message_.body.append(piece.substr(0, std::min(room, piece.size())));
  return 0;
}

int message_parser::on_message_complete(llhttp_t* parser) {
  message_parser& p = self(parser);
  p.complete_ = true;
  p.message_.body_size = p.pattern_.bytes();
  p.message_.body_matches_pattern = p.pattern_.intact();
  p.message_.upgrade = parser->upgrade != 0;
  p.message_.keep_alive = llhttp_should_keep_alive(parser) != 0;
  // Stop here: the bytes after this message belong to the next one or to an upgraded stream.
  return HPE_PAUSED;
}

} // namespace parallax::test
