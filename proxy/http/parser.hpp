#pragma once
// A small C++ adapter over llhttp (strict, no lenient flags). It pauses after a message head
// and after a message end so the caller can act on each before more bytes are consumed:
// pipelined requests stay in the caller's buffer until the current exchange is done.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "proxy/http/message.hpp"

namespace parallax::proxy::http {

/// What one feed() call reached.
enum class parse_status {
  need_more,        // every byte consumed; the message is not complete
  head_complete,    // the head is complete (body, if any, follows)
  message_complete, // the whole message is complete (head too, for body-less messages)
  error,            // malformed input; see parser::error_reason()
};

/// Result of feeding bytes: how far the parser went.
struct parse_result {
  parse_status status;
  std::size_t consumed; // bytes of the input that belong to this message
};

/// Incremental HTTP/1.1 request or response parser with smuggling defences.
class parser {
public:
  enum class mode { request, response };

  /// A parser for requests or responses; `max_head_bytes` bounds the start line and fields,
  /// `max_fields` the number of header fields (0: no limit beyond the bytes).
  explicit parser(mode m, std::uint64_t max_head_bytes = 64ULL * 1024,
                  std::uint64_t max_fields = 0);
  ~parser();
  parser(const parser&) = delete;
  parser& operator=(const parser&) = delete;

  /// Starts over at a message boundary (a new connection, or after an error).
  void reset();
  /// New limits from the next message head on (a configuration reload).
  void set_limits(std::uint64_t max_head_bytes, std::uint64_t max_fields) noexcept {
    max_head_bytes_ = max_head_bytes;
    max_fields_ = max_fields;
  }
  /// For response mode: the next response answers a HEAD request, so it has no body.
  void set_head_request(bool head) noexcept { head_request_ = head; }

  /// Parses `data`; body bytes seen are appended to body() as views into `data`.
  parse_result feed(std::string_view data);
  /// Tells the parser the peer closed; completes a close-delimited message.
  parse_result finish();

  /// The request head (request mode), valid from head_complete on.
  [[nodiscard]] request_head& request() noexcept { return request_; }
  [[nodiscard]] const request_head& request() const noexcept { return request_; }
  /// The response head (response mode), valid from head_complete on.
  [[nodiscard]] response_head& response() noexcept { return response_; }
  [[nodiscard]] const response_head& response() const noexcept { return response_; }
  /// Body pieces (chunk framing removed) since the last clear_body().
  [[nodiscard]] const std::vector<std::string_view>& body() const noexcept { return body_; }
  /// Forgets body views once their bytes have been passed on.
  void clear_body() noexcept { body_.clear(); }
  /// Body bytes of the current message so far.
  [[nodiscard]] std::uint64_t body_bytes() const noexcept { return body_bytes_; }
  /// The trailer fields of the current message (a chunked body's trailer section), complete
  /// once the message is (values as received, without surrounding spaces).
  [[nodiscard]] const header_list& trailers() const noexcept { return trailers_; }
  /// Whether the current message's head has been completed.
  [[nodiscard]] bool head_done() const noexcept { return head_done_; }
  /// Whether the current message was complete (after message_complete).
  [[nodiscard]] bool message_done() const noexcept { return message_done_; }
  /// Whether the message switches protocols (request with Upgrade, or a 101 response).
  [[nodiscard]] bool upgrade() const noexcept { return upgrade_; }
  /// Whether the message ends only when the peer closes (response without framing).
  [[nodiscard]] bool needs_eof() const noexcept;
  /// Whether the error was the head exceeding max_head_bytes or max_fields (431, not 400).
  [[nodiscard]] bool head_too_large() const noexcept { return head_too_large_; }
  /// Human-readable reason of the last error.
  [[nodiscard]] std::string_view error_reason() const noexcept { return error_reason_; }

private:
  struct callbacks;
  friend struct callbacks;

  int on_headers_complete();
  bool validate_request_head();
  bool check_line_ends(std::string_view head_bytes);
  int on_trailer_bytes(bool name, std::string_view bytes);

  struct llhttp_state;
  std::unique_ptr<llhttp_state> state_;
  mode mode_;
  std::uint64_t max_head_bytes_;
  std::uint64_t max_fields_;
  request_head request_;
  response_head response_;
  std::vector<std::string_view> body_;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t head_bytes_ = 0;
  header* current_header_ = nullptr;
  bool in_value_ = false;
  // Trailer fields (after a chunked body). Their count and bytes share the head's limits.
  header_list trailers_;
  header* current_trailer_ = nullptr;
  std::uint64_t trailer_fields_ = 0;
  std::uint64_t trailer_name_bytes_ = 0;
  std::uint64_t trailer_bytes_ = 0;
  bool trailers_next_ = false; // paused at the last chunk: the trailer section follows
  bool in_trailers_ = false;   // its bytes get check_line_ends() like a head's
  bool head_request_ = false;
  bool head_done_ = false;
  bool message_done_ = false;
  bool upgrade_ = false;
  bool head_too_large_ = false;
  bool after_lf_ = false; // the last head byte fed was LF: the next one must not be SP/HTAB
  bool after_cr_ = false; // the last head byte fed was CR: the next one must be LF
  bool failed_ = false;
  std::string_view error_reason_;
};

} // namespace parallax::proxy::http
