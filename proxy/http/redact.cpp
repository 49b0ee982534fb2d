#include "proxy/http/redact.hpp"

#include "proxy/http/ascii.hpp"
#include "proxy/http/query.hpp"

#include <algorithm>
#include <utility>

namespace parallax::proxy::http {
namespace {

// Whether the raw (percent-encoded, '+' for space) parameter name equals `name`, ignoring case.
bool encoded_name_equals(std::string_view raw, std::string_view name) noexcept {
  std::size_t j = 0;
  for (std::size_t i = 0; i < raw.size(); ++i, ++j) {
    char c = raw[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 &&
               hex_value(raw[i + 2]) >= 0) {
      c = static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2]));
      i += 2;
    }
    if (j >= name.size() || to_lower(c) != to_lower(name[j])) return false;
  }
  return j == name.size();
}

bool is_listed_encoded(std::string_view raw, const std::vector<std::string>& names) noexcept {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return encoded_name_equals(raw, n); });
}

// Appends the '&'-separated parameters of `params` to `out`, redacting listed values.
void append_redacted_params(std::string_view params, const std::vector<std::string>& names,
                            std::string& out) {
  bool first = true;
  for_each_param(params, [&](const query_param& p) {
    if (!std::exchange(first, false)) out.push_back('&');
    if (p.value && is_listed_encoded(p.name, names)) {
      out.append(p.name);
      out.push_back('=');
      out.append(redacted_text);
    } else {
      out.append(p.text);
    }
    return true;
  });
}

} // namespace

std::string redact_query(std::string_view target, const std::vector<std::string>& names) {
  const auto question = target.find('?');
  const auto hash = target.find('#');
  const auto cut = std::min(question, hash);
  if (cut == std::string_view::npos || names.empty()) return std::string(target);
  std::string out;
  out.reserve(target.size() + 16);
  out.append(target.substr(0, cut));
  std::string_view rest = target.substr(cut);
  if (rest.front() == '?') {
    out.push_back('?');
    rest.remove_prefix(1);
    const auto fragment = rest.find('#');
    append_redacted_params(rest.substr(0, fragment), names, out);
    rest = fragment == std::string_view::npos ? std::string_view{} : rest.substr(fragment);
  }
  if (!rest.empty()) { // "#fragment"
    out.push_back('#');
    append_redacted_params(rest.substr(1), names, out);
  }
  return out;
}

} // namespace parallax::proxy::http
