#pragma once
// Why the shadow dispatcher did not mirror a sampled exchange (reports.md "skipped"). The
// dispatcher decides; the counters, the metrics and the summary only count and print them.

#include <cstddef>
#include <string_view>

namespace parallax::mirror {

/// Why a sampled exchange was not mirrored.
enum class skip_reason {
  method,         // the method is not mirrored (route mirror.methods)
  body_too_large, // the request body exceeded the route's mirror.max_body_bytes
  rate_limited,   // over the route's mirror.max_rps
  saturated,      // the route's mirror.max_inflight shadow exchanges were already running
  live_error,     // the live exchange failed before its response head
  client_aborted, // the client went away before the live response was complete
  paused,         // a runtime override paused the route's mirroring
  shadow_request, // the request carries the shadow marker already: never mirrored again
};

/// Number of skip reasons.
inline constexpr std::size_t skip_reason_count = 8;

/// The report spelling of a skip reason.
[[nodiscard]] constexpr std::string_view to_string(skip_reason reason) noexcept {
  switch (reason) {
  case skip_reason::method: return "method";
  case skip_reason::body_too_large: return "body_too_large";
  case skip_reason::rate_limited: return "rate_limited";
  case skip_reason::saturated: return "saturated";
  case skip_reason::live_error: return "live_error";
  case skip_reason::client_aborted: return "client_aborted";
  case skip_reason::paused: return "paused";
  case skip_reason::shadow_request: return "shadow_request";
  }
  return "method";
}

} // namespace parallax::mirror
