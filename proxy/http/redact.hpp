#pragma once
// Redaction of secret query parameters in a request target, shared by the access log (proxy/)
// and the reports (mirror/), so every line written anywhere hides the same values the same way.

#include <string>
#include <string_view>
#include <vector>

namespace parallax::proxy::http {

/// What every redacted value is replaced with.
inline constexpr std::string_view redacted_text = "[redacted]";

/// A request target with the values of the listed query parameters replaced by `[redacted]`.
/// Parameter names are compared case-insensitively after percent-decoding (and '+' as space),
/// so `api%5Fkey=` is caught too; a parameter without '=' has no value and is kept. A fragment,
/// if a client sent one, is treated like a query (OAuth-style `#access_token=`). Everything else
/// is unchanged.
std::string redact_query(std::string_view target, const std::vector<std::string>& names);

} // namespace parallax::proxy::http
