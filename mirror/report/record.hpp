#pragma once
// One compared exchange as the discrepancy log stores it (reports.md, schema
// `parallax.discrepancy/v1`). A record holds clear values; append_json_line() is the only way out
// to a report, and it applies redaction and excerpting, so nothing secret or unbounded is written.
// Reading a line back is record_reader.hpp's.

#include "config/config.hpp"
#include "mirror/diff/difference.hpp"
#include "mirror/report/record_id.hpp" // a record's `id`
#include "proxy/http/timestamp.hpp"    // a record's `time`

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parallax::mirror::report {

using proxy::http::format_time;
using proxy::http::parse_time;

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
  // Differences the secondary showed too (Diffy-style noise), dropped from `differences` and
  // counted in noise_suppressed: the summary lists them with `"noise": true`. Written as
  // `noise` only when there are some (an extension field).
  std::vector<diff::difference> noise;
  std::uint64_t noise_suppressed = 0;
  // The JSON body had more differences than the differ lists (max_differences): containers are
  // replaced whole instead (the operations still rebuild the shadow body). Written only when
  // true (an extension field).
  bool differences_coarsened = false;
};

/// Appends a record as one discrepancy log line (no newline): JSON text, redacted and excerpted
/// per `cfg`, written directly (no JSON tree is built).
void append_json_line(std::string& out, const record& r, const config::reports& cfg);

/// The live and shadow values of `d` exactly as a record line holds them (redacted and
/// excerpted per `cfg`; for `body_bytes` the two digests): what a summary shows as examples.
/// Nothing for a side without a value.
[[nodiscard]] std::pair<std::optional<boost::json::value>, std::optional<boost::json::value>>
written_values(const diff::difference& d, const config::reports& cfg);

} // namespace parallax::mirror::report
