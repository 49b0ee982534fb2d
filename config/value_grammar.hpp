#pragma once
// The grammar of config.md's scalar values, without YAML: durations, sizes, addresses,
// ${ENV} references, names and JSON Pointer patterns. Internal to the loader; every parser
// returns an error message (for "FILE:LINE:COL: key: message") or nothing on success.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace parallax::config::detail {

/// An ASCII decimal digit.
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// An ASCII letter.
inline bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// `text` with ASCII letters lower-cased (header names, hosts, redacted fields).
std::string to_lower(std::string_view text);

/// `text` with ASCII letters upper-cased (HTTP methods).
std::string to_upper(std::string_view text);

/// `text` in double quotes for messages: escaped control characters, long values cut.
std::string quote_text(std::string_view text);

/// HTTP token characters (RFC 9110 tchar): method and header names.
bool is_token(std::string_view text);

/// Names of listeners, upstreams and routes (metric labels): letters, digits, - _ .
bool is_name(std::string_view text);

/// Host names and IPv4 literals: letters, digits, - _ .
bool is_host_name(std::string_view text);

/// A number for messages: integers without a fraction, others in shortest form.
std::string format_number(double value);

/// Expands `${NAME}` and `${NAME:-default}` in `in`; `$${` is a literal `${`.
/// Returns an error message, or nothing on success.
std::optional<std::string> expand_env(std::string_view in, std::string& out);

/// Longest duration accepted anywhere (one year).
inline constexpr duration max_duration = std::chrono::hours(24 * 365);

/// Parses `250ms`, `5s`, `1.5s`, `2m`, `1h` into milliseconds; returns an error message.
std::optional<std::string> parse_duration(std::string_view text, duration& out);

/// Parses a byte count: digits, or digits with B, KiB, MiB, GiB, TiB; returns an error.
std::optional<std::string> parse_size(std::string_view text, std::uint64_t& out);

/// Parses HOST:PORT or [IPv6]:PORT; returns an error message.
std::optional<std::string> parse_address(std::string_view text, bool allow_port_zero, address& out);

/// Checks a JSON Pointer pattern: starts with "/", `~` escapes, `*`/`**` whole segments.
std::optional<std::string> check_pointer_pattern(std::string_view text);

/// Checks an endpoint template like /api/users/{id}: placeholders are whole segments.
std::optional<std::string> check_endpoint_template(std::string_view text);

/// Checks a gRPC method name: "/pkg.Service/Method" or "/pkg.Service/*" (protobuf identifiers;
/// the package is optional, as in a .proto file without one).
std::optional<std::string> check_grpc_method(std::string_view text);

} // namespace parallax::config::detail
