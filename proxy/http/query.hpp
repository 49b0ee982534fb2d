#pragma once
// Query strings of request targets (`/p?a=1&b&c=`): parameters as they were sent, split but not
// percent-decoded, so each user decides how names compare (raw for sampling keys, decoded and
// case-insensitive for redaction).

#include <optional>
#include <string_view>

namespace parallax::proxy::http {

/// One '&'-separated parameter of a query string, as sent.
struct query_param {
  std::string_view text;                 // the whole parameter: `name=value` or a bare `name`
  std::string_view name;                 // before the first '='
  std::optional<std::string_view> value; // after the first '='; nullopt when there is none
};

/// `param` split at its first '='.
constexpr query_param split_param(std::string_view param) noexcept {
  const auto equals = param.find('=');
  if (equals == std::string_view::npos) return {param, param, std::nullopt};
  return {param, param.substr(0, equals), param.substr(equals + 1)};
}

/// The query of a request target: what follows its first '?' up to a '#' (a fragment, if a
/// client sent one); nothing when there is no '?' before any '#'.
constexpr std::optional<std::string_view> query_of(std::string_view target) noexcept {
  target = target.substr(0, target.find('#'));
  const auto question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  return target.substr(question + 1);
}

/// Calls `visit(query_param)` for each '&'-separated parameter of `query` in order, empty ones
/// included (an empty query has one), until `visit` returns false.
template <typename Visit>
constexpr void for_each_param(std::string_view query, Visit&& visit) {
  for (;;) {
    const auto amp = query.find('&');
    if (!visit(split_param(query.substr(0, amp)))) return;
    if (amp == std::string_view::npos) return;
    query.remove_prefix(amp + 1);
  }
}

} // namespace parallax::proxy::http
