#pragma once
// Response header comparison (config.md `compare.headers`, reports.md `kind: header`).

#include <cstddef>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "mirror/diff/difference.hpp"
#include "proxy/http/message.hpp"

namespace parallax::mirror::diff {

/// Whether header `name` takes part in the comparison: listed in `include` when an include
/// list is configured (`include_given`, or a non-empty `include`), otherwise not listed in
/// `ignore`. Names compare case-insensitively.
[[nodiscard]] bool header_compared(std::string_view name,
                                   const config::header_compare& policy) noexcept;

/// Compares the compared headers of two responses. Names are case-insensitive and reported
/// lower-case; a name's values are joined with ", " in received order and compared exactly.
/// Order: live names in first-appearance order, then names only the shadow has; a missing
/// side is absent (std::nullopt). With `ignored`, adds to it the names that the `ignore` list
/// keeps out of the comparison and that differ all the same (reports.md counts them in
/// `noise_suppressed`); with an `include` list nothing is ignored, only left out.
[[nodiscard]] std::vector<difference> diff_headers(const proxy::http::header_list& live,
                                                   const proxy::http::header_list& shadow,
                                                   const config::header_compare& policy,
                                                   std::size_t* ignored = nullptr);

} // namespace parallax::mirror::diff
