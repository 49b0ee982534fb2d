#pragma once
// Endpoint names for reports: `METHOD /path/template` (reports.md "endpoint"). Configured
// templates (`reports.endpoints`) win, first match first; otherwise id-like path segments are
// replaced by `{id}` so that one endpoint collects every id.

#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::report {

/// Whether a path segment looks like an identifier: all digits, a UUID (8-4-4-4-12 hex digits)
/// or 16 or more hex digits.
bool is_id_segment(std::string_view segment) noexcept;

/// The path of a request target (origin-form or absolute-form) without query and fragment; "/"
/// for an absolute-form target without a path; other forms (`*`, authority-form) unchanged.
std::string_view target_path(std::string_view target) noexcept;

/// Names requests by method and path template. Immutable after construction: safe to share
/// between threads.
class endpoint_namer {
public:
  /// Prepares the configured templates, e.g. "/api/users/{id}/orders/{order}"; a `{name}`
  /// segment matches any one non-empty segment, other segments match exactly (case-sensitive).
  explicit endpoint_namer(const std::vector<std::string>& templates);

  /// The endpoint of a request: "METHOD " + the first matching template, or else the path with
  /// id-like segments replaced by `{id}`. The query string is never part of it.
  [[nodiscard]] std::string name(std::string_view method, std::string_view target) const;

private:
  struct path_template {
    std::string text;                  // as configured, used as the name
    std::vector<std::string> segments; // split at '/', without the leading empty one
    std::vector<bool> placeholders;    // segments[i] is a `{name}`
  };

  [[nodiscard]] static bool matches(const path_template& t, std::string_view path) noexcept;

  std::vector<path_template> templates_;
};

} // namespace parallax::mirror::report
