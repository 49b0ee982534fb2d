#pragma once
// Excerpts: every value a report writes is bounded (reports.md: strings longer than
// `max_body_excerpt_bytes` are cut and end in `…`), and JSON values are redacted first.

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::report {

/// `text` itself when it is at most `max_bytes` long; otherwise its first `max_bytes` bytes,
/// shortened to a UTF-8 character boundary, followed by "…".
[[nodiscard]] std::string excerpt(std::string_view text, std::uint64_t max_bytes);

/// A copy of a JSON value fit for a report: members named in `json_fields` redacted at any
/// depth, strings excerpted, and a structured value whose serialisation is longer than
/// `max_bytes` replaced by an excerpt of that serialisation (a string).
[[nodiscard]] boost::json::value excerpt_json(const boost::json::value& value,
                                              const std::vector<std::string>& json_fields,
                                              std::uint64_t max_bytes);

} // namespace parallax::mirror::report
