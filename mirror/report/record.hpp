#pragma once
// One compared exchange as the discrepancy log stores it (reports.md, schema
// `parallax.discrepancy/v1`). A record holds clear values; append_json_line() is the only way out
// to a report, and it applies redaction and excerpting, so nothing secret or unbounded is written.

#include "config/config.hpp"
#include "mirror/diff/difference.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parallax::mirror::report {

/// The `schema` value of every discrepancy record.
inline constexpr std::string_view record_schema = "parallax.discrepancy/v1";

/// What a comparison found (the record's `outcome`).
enum class outcome { match, differ, shadow_error };

/// The record spelling of an outcome (`match`, `differ`, `shadow_error`).
[[nodiscard]] std::string_view to_string(outcome o) noexcept;

/// The outcome spelled `text`, if it is one.
[[nodiscard]] std::optional<outcome> outcome_from_string(std::string_view text) noexcept;

/// The mirrored request, as the client sent it (values in clear; redacted when serialised).
struct request_info {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers; // name, value; order kept
  std::uint64_t body_bytes = 0;
};

/// The live response.
struct live_info {
  int status = 0;
  double latency_ms = 0;
  std::uint64_t body_bytes = 0;
  std::string body_sha256; // lower-case hex; empty: unknown (written as null)
};

/// The shadow response, or how the shadow failed.
struct shadow_info {
  int status = 0; // 0: no response head (written as null)
  double latency_ms = 0;
  std::uint64_t body_bytes = 0;
  std::string body_sha256;          // lower-case hex; empty: unknown (written as null)
  std::optional<std::string> error; // shadow error kind (`timeout`, ...); nullopt: none
};

/// One compared exchange.
struct record {
  std::chrono::system_clock::time_point time;
  std::string id; // 26-char Crockford base32, see make_record_id()
  std::string route;
  std::string endpoint; // "METHOD /path/template"
  report::outcome outcome = report::outcome::match;
  request_info request;
  live_info live;
  shadow_info shadow;
  std::vector<diff::difference> differences;
  std::uint64_t noise_suppressed = 0;
};

/// A new ULID-like id: 48-bit milliseconds since the epoch then 80 random bits, in 26
/// Crockford base32 characters. Ids made by one thread sort in creation order, also within
/// one millisecond (the random part is incremented then).
[[nodiscard]] std::string make_record_id(std::chrono::system_clock::time_point time);

/// Whether `id` has the shape make_record_id() produces (26 Crockford base32 characters,
/// upper-case, first character at most '7').
[[nodiscard]] bool is_record_id(std::string_view id) noexcept;

/// RFC 3339 UTC time, e.g. "2026-11-26T03:21:01.123Z" (with milliseconds) or
/// "2026-11-26T03:21:01Z" (without).
[[nodiscard]] std::string format_time(std::chrono::system_clock::time_point time,
                                      bool milliseconds = true);

/// Parses the UTC forms format_time() writes (any number of fraction digits, 'Z' or "+00:00").
[[nodiscard]] std::optional<std::chrono::system_clock::time_point>
parse_time(std::string_view text) noexcept;

/// `text` itself when it is at most `max_bytes` long; otherwise its first `max_bytes` bytes,
/// shortened to a UTF-8 character boundary, followed by "…".
[[nodiscard]] std::string excerpt(std::string_view text, std::uint64_t max_bytes);

/// A copy of a JSON value fit for a report: members named in `json_fields` redacted at any
/// depth, strings excerpted, and a structured value whose serialisation is longer than
/// `max_bytes` replaced by an excerpt of that serialisation (a string).
[[nodiscard]] boost::json::value excerpt_json(const boost::json::value& value,
                                              const std::vector<std::string>& json_fields,
                                              std::uint64_t max_bytes);

/// Best-effort redaction in a line of text (a `body_text` difference): the value after any
/// listed name followed by ':' or '=' (JSON-ish, form- or header-like text) becomes
/// `[redacted]`.
[[nodiscard]] std::string redact_text_line(std::string_view line,
                                           const std::vector<std::string>& names);

/// Appends a record as one discrepancy log line (no newline): JSON text, redacted and excerpted
/// per `cfg`, written directly (no JSON tree is built).
void append_json_line(std::string& out, const record& r, const config::reports& cfg);

/// The JSON form of a record: its log line, parsed.
[[nodiscard]] boost::json::object to_json(const record& r, const config::reports& cfg);

/// How record lines are parsed back: strings may hold bytes that are not UTF-8 (header values
/// with obs-text are written as received).
[[nodiscard]] boost::json::parse_options record_parse_options() noexcept;

/// A record read back from its JSON form; std::nullopt with `error` set when `value` is not a
/// `parallax.discrepancy/v1` record. Values come back as written (redacted, excerpted).
[[nodiscard]] std::optional<record> record_from_json(const boost::json::value& value,
                                                     std::string& error);

} // namespace parallax::mirror::report
