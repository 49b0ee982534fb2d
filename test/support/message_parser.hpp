#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <llhttp.h>

#include "test/support/http_text.hpp"

namespace parallax::test {

// Everything the parser learnt about one HTTP/1.x message.
struct parsed_message {
  std::string method;               // request method token (requests only)
  std::string target;               // request target as sent (requests only)
  int status = 0;                   // status code (responses only)
  std::string reason;               // reason phrase (responses only)
  int version_major = 1;            // HTTP major version
  int version_minor = 1;            // HTTP minor version
  header_list headers;              // fields in order, names as received, values trimmed
  header_list trailers;             // chunked trailer fields
  std::string body;                 // decoded body, at most the store limit
  std::uint64_t body_size = 0;      // decoded body bytes seen, stored or not
  bool body_truncated = false;      // body_size exceeded the store limit
  bool body_matches_pattern = true; // every body byte i was 'a' + i % 26
  bool chunked = false;             // the body used chunked transfer coding
  bool upgrade = false;             // the connection switches protocol after this message
  bool keep_alive = true;           // the connection may carry another message afterwards
  std::string raw_head;             // start line and fields up to and including the blank line
};

// Incremental llhttp adapter that stops right after each complete message, so the caller knows
// exactly which buffered bytes belong to the next message (or to an upgraded stream).
class message_parser {
public:
  // What feed() and finish() found.
  enum class result { need_more, complete, failed };

  // A request parser (HTTP_REQUEST) or a response parser (HTTP_RESPONSE).
  explicit message_parser(llhttp_type_t type);

  // Prepares for the next message. `no_body` marks a response to HEAD; `max_stored_body` bounds
  // the bytes kept in parsed_message::body (the rest is only counted and pattern-checked).
  void start(bool no_body, std::size_t max_stored_body);
  // Parses a prefix of `data`; `consumed` tells how many bytes were used.
  result feed(std::string_view data, std::size_t& consumed);
  // Reports end of input; completes a close-delimited body, fails a truncated message.
  result finish();

  // True once any byte of the current message was parsed.
  bool started() const { return started_; }
  // True once the current message's head has been parsed.
  bool headers_complete() const { return headers_done_; }
  // The message parsed so far.
  const parsed_message& message() const { return message_; }
  // Moves the parsed message out.
  parsed_message take() { return std::move(message_); }
  // Why parsing failed.
  const std::string& error() const { return error_; }

private:
  static const llhttp_settings_t& settings();
  static message_parser& self(llhttp_t* parser);
  static int on_message_begin(llhttp_t* parser);
  static int on_method(llhttp_t* parser, const char* at, std::size_t length);
  static int on_url(llhttp_t* parser, const char* at, std::size_t length);
  static int on_status(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_field(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_value(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_value_complete(llhttp_t* parser);
  static int on_headers_complete(llhttp_t* parser);
  static int on_body(llhttp_t* parser, const char* at, std::size_t length);
  static int on_message_complete(llhttp_t* parser);
  void capture_head(std::string_view consumed);

  llhttp_t parser_{};
  llhttp_type_t type_;
  parsed_message message_;
  pattern_checker pattern_;
  std::string field_;
  std::string value_;
  std::string head_bytes_;
  std::string error_;
  std::size_t max_stored_body_ = 0;
  bool no_body_ = false;
  bool started_ = false;
  bool headers_done_ = false;
  bool head_captured_ = false;
  bool complete_ = false;
};

} // namespace parallax::test
