#include "mirror/report/redact.hpp"

#include "proxy/http/ascii.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace parallax::mirror::report {
namespace {

// RFC 6901 reference token unescaping, compared against `name` without allocating.
bool pointer_token_equals(std::string_view token, std::string_view name) noexcept {
  std::size_t j = 0;
  for (std::size_t i = 0; i < token.size(); ++i, ++j) {
    char c = token[i];
    if (c == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      c = token[i + 1] == '0' ? '~' : '/';
      ++i;
    }
    if (j >= name.size() || proxy::http::to_lower(c) != proxy::http::to_lower(name[j]))
      return false;
  }
  return j == name.size();
}

} // namespace

bool is_redacted_name(std::string_view name, const std::vector<std::string>& names) noexcept {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return proxy::http::iequals(n, name); });
}

std::string_view redact_header(std::string_view name, std::string_view value,
                               const std::vector<std::string>& names) noexcept {
  return is_redacted_name(name, names) ? redacted_text : value;
}

void redact_headers(proxy::http::header_list& headers, const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < headers.size(); ++i) {
    auto& h = headers[i];
    if (is_redacted_name(h.name, names)) h.value.assign(redacted_text);
  }
}

void redact_json(boost::json::value& value, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::vector<boost::json::value*> pending{&value};
  while (!pending.empty()) {
    boost::json::value* v = pending.back();
    pending.pop_back();
    if (auto* object = v->if_object()) {
      for (auto& member : *object) {
        if (is_redacted_name(member.key(), names)) {
          member.value() = redacted_text;
        } else if (member.value().is_structured()) {
          pending.push_back(&member.value());
        }
      }
    } else if (auto* array = v->if_array()) {
      for (auto& element : *array) {
        if (element.is_structured()) pending.push_back(&element);
      }
    }
  }
}

bool is_redacted_pointer(std::string_view pointer, const std::vector<std::string>& names) noexcept {
  if (pointer.empty() || pointer.front() != '/') return false;
  pointer.remove_prefix(1);
  for (;;) {
    const auto slash = pointer.find('/');
    const std::string_view token = pointer.substr(0, slash);
    if (std::any_of(names.begin(), names.end(),
                    [&](const std::string& n) { return pointer_token_equals(token, n); }))
      return true;
    if (slash == std::string_view::npos) return false;
    pointer.remove_prefix(slash + 1);
  }
}

} // namespace parallax::mirror::report
