#pragma once
// Times in reports and the admin API: RFC 3339 UTC text (`2026-11-26T03:21:01.123Z`), written and
// read back.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace parallax::proxy::http {

/// RFC 3339 UTC time, e.g. "2026-11-26T03:21:01.123Z" (with milliseconds) or
/// "2026-11-26T03:21:01Z" (without).
[[nodiscard]] std::string format_time(std::chrono::system_clock::time_point time,
                                      bool milliseconds = true);

/// Parses the UTC forms format_time() writes (any number of fraction digits, 'Z' or "+00:00").
[[nodiscard]] std::optional<std::chrono::system_clock::time_point>
parse_time(std::string_view text) noexcept;

} // namespace parallax::proxy::http
