#pragma once
// HTTP/1.1 message heads (RFC 9112) as parsed from the wire. Header storage is reused across
// messages on a connection: clear() keeps every string's capacity, so a steady keep-alive
// connection parses heads without heap allocation.

#include "proxy/http/ascii.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::proxy::http {

/// `s` without leading and trailing spaces and tabs (RFC 9110 OWS).
std::string_view trim_ows(std::string_view s) noexcept;

/// Whether `pred` holds for an item of the comma-separated header value `list` (each item
/// without surrounding spaces and tabs).
template <typename Pred>
bool any_list_item(std::string_view list, Pred pred) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (pred(trim_ows(list.substr(0, comma)))) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

/// True when the comma-separated header value `list` holds `token` (case-insensitive).
bool list_contains(std::string_view list, std::string_view token) noexcept;

/// Header names the proxy itself acts on. Each field's name is recognised once, when it is
/// parsed or added, so the hot path compares a byte instead of case-folding strings.
enum class field : std::uint8_t {
  other,
  connection,
  content_length,
  expect,
  host,
  keep_alive,
  proxy_connection,
  te,
  trailer,
  transfer_encoding,
  upgrade,
  x_forwarded_for,
  x_forwarded_host,
  x_forwarded_proto,
};

/// The field `name` denotes (case-insensitive), or field::other.
field field_of(std::string_view name) noexcept;

/// One header field as received (name case preserved, value without surrounding spaces).
struct header {
  std::string name;
  std::string value;
  field id = field::other; // field_of(name): kept by the parser and by header_list::add
};

/// A header field by reference: its name and value are owned elsewhere.
struct field_view {
  std::string_view name;
  std::string_view value;
};

/// An ordered list of header fields whose storage survives clear().
class header_list {
public:
  /// Forgets every field but keeps their buffers for the next message.
  void clear() noexcept { size_ = 0; }
  /// Number of fields.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// True when there are no fields.
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// Field `i` (0 <= i < size()).
  [[nodiscard]] const header& operator[](std::size_t i) const noexcept { return items_[i]; }
  [[nodiscard]] header& operator[](std::size_t i) noexcept { return items_[i]; }
  /// Appends an empty field and returns it (reusing a previous field's buffers); the caller
  /// fills in its name and then sets its id to field_of(name).
  header& append();
  /// Appends a field with the given name and value.
  void add(std::string_view name, std::string_view value);
  /// Appends a copy of `h` (its id included: the name is not looked up again); `h` must
  /// belong to another list.
  void add(const header& h);
  /// Makes room for `n` fields, so copying a list of `n` allocates the field array once.
  void reserve(std::size_t n) { items_.reserve(n); }
  /// The first value of `name`, if present.
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
  /// (The field overloads take a recognised field, never field::other.)
  [[nodiscard]] std::optional<std::string_view> find(field id) const noexcept;
  /// How many fields are named `name`.
  [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
  [[nodiscard]] std::size_t count(field id) const noexcept;
  /// Removes every field named `name`.
  void remove(std::string_view name) noexcept;
  void remove(field id) noexcept;
  /// Sets `name` to `value`, replacing all previous fields of that name.
  void set(std::string_view name, std::string_view value);

  [[nodiscard]] const header* begin() const noexcept { return items_.data(); }
  [[nodiscard]] const header* end() const noexcept { return items_.data() + size_; }

private:
  std::vector<header> items_;
  std::size_t size_ = 0;
};

/// Message framing derived from the head (RFC 9112 section 6).
struct framing {
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
  bool keep_alive = true; // the sender allows another message on this connection
  bool upgrade = false;   // Connection: upgrade + Upgrade present
};

/// A parsed request head.
struct request_head {
  std::string method;
  std::string target;
  int version_minor = 1; // HTTP/1.x
  header_list headers;
  framing frame;
  bool expect_continue = false;

  /// Resets for the next message, keeping buffers.
  void clear() noexcept;
  /// The target's path (origin-form or absolute-form), without the query.
  [[nodiscard]] std::string_view path() const noexcept;
  /// The Host header without port, or the absolute-form authority's host.
  [[nodiscard]] std::string_view host() const noexcept;
  /// Whether the request carries a body (Content-Length > 0 or chunked).
  [[nodiscard]] bool has_body() const noexcept {
    return frame.chunked || (frame.content_length && *frame.content_length > 0);
  }
};

/// A parsed response head.
struct response_head {
  int status = 0;
  std::string reason;
  int version_minor = 1;
  header_list headers;
  framing frame;

  /// Resets for the next message, keeping buffers.
  void clear() noexcept;
};

/// An absolute-form target (`http://host/p?q`) without scheme and authority (`/p?q`; `?q` or
/// empty when it has no path); other targets unchanged. Only configured upstreams are
/// contacted, so the authority is never used.
std::string_view origin_form(std::string_view target) noexcept;

/// Whether `name` is a hop-by-hop header that a proxy must not forward (RFC 9110 7.6.1).
bool is_hop_by_hop(std::string_view name) noexcept;
bool is_hop_by_hop(field id) noexcept;

/// Whether a trailer field may be passed on: not hop-by-hop (nor TE, Transfer-Encoding, Upgrade)
/// and none of the fields RFC 9110 6.5.1 keeps out of trailers for framing and routing
/// (Content-Length, Host). Fields a Connection header names are dropped by the caller.
bool forwardable_trailer(const header& h) noexcept;

/// Whether `name` is listed as a connection option in any Connection header of `headers`.
bool named_in_connection(const header_list& headers, std::string_view name) noexcept;

/// Whether a Connection field of `headers` names an option beyond close/keep-alive/upgrade
/// (which are not field names, or hop-by-hop anyway). Most messages have none: then no field
/// needs to be checked with named_in_connection().
bool names_other_options(const header_list& headers) noexcept;

} // namespace parallax::proxy::http
