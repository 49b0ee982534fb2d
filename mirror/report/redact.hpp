#pragma once
// Redaction of secrets before anything is written (reports.md: `reports.redact` applies to every
// header, query parameter and JSON field value written anywhere, in every report and log line).
// Names are matched ASCII case-insensitively; the value becomes the text `[redacted]`.

#include "config/config.hpp"
#include "proxy/http/redact.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::report {

/// What every redacted value is replaced with.
using proxy::http::redacted_text;

/// Whether `name` is one of `names` (case-insensitive).
bool is_redacted_name(std::string_view name, const std::vector<std::string>& names) noexcept;

/// A request target with the listed query parameters' values redacted (proxy/http/redact.hpp).
using proxy::http::redact_query;

/// A header value as reports may show it: `[redacted]` when the header's `name` is listed in
/// `r.headers`; otherwise the value with the listed query parameters redacted (`r.query_params`)
/// wherever it holds a query or fragment (a Referer or Location URL, a Link: reports.md redacts
/// every query parameter written anywhere).
[[nodiscard]] std::string redact_header(std::string_view name, std::string_view value,
                                        const config::redaction& r);

/// Replaces, at any depth, the value of every object member whose key is listed (whatever its
/// type, objects and arrays included) with the string "[redacted]". Iterative: no recursion
/// limit on deeply nested documents.
void redact_json(boost::json::value& value, const std::vector<std::string>& names);

/// Whether a JSON Pointer (RFC 6901) points at or into a redacted field: any reference token
/// (with ~1 and ~0 unescaped) is a listed name. Values reported at such paths must be redacted.
bool is_redacted_pointer(std::string_view pointer, const std::vector<std::string>& names) noexcept;

/// Best-effort redaction in a line of text (a `body_text` difference): the value after any
/// listed name followed by ':' or '=' (JSON-ish, form- or header-like text) becomes
/// `[redacted]`.
[[nodiscard]] std::string redact_text_line(std::string_view line,
                                           const std::vector<std::string>& names);

} // namespace parallax::mirror::report
