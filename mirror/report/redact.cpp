#include "mirror/report/redact.hpp"

#include "proxy/http/ascii.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <optional>
#include <utility>

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

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// If a listed name starts at `pos` and is followed by a separator and a value, the value's
// [begin, end) in `line`.
std::optional<std::pair<std::size_t, std::size_t>>
secret_value_at(std::string_view line, std::size_t pos, const std::vector<std::string>& names) {
  if (pos > 0 && is_name_char(line[pos - 1])) return std::nullopt;
  for (const auto& name : names) {
    if (name.empty() || !proxy::http::istarts_with(line.substr(pos), name)) continue;
    std::size_t i = pos + name.size();
    if (i < line.size() && is_name_char(line[i])) continue;
    if (i < line.size() && (line[i] == '"' || line[i] == '\'')) ++i;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i >= line.size() || (line[i] != ':' && line[i] != '=')) continue;
    const char separator = line[i++];
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i >= line.size()) continue;
    if (line[i] == '"' || line[i] == '\'') {
      const char quote = line[i];
      std::size_t end = i + 1;
      while (end < line.size() && line[end] != quote)
        end += line[end] == '\\' ? 2 : 1;
      return std::pair{i + 1, std::min(end, line.size())};
    }
    // Unquoted: `name=value` ends at whitespace too; `name: value` (a header line, a JSON
    // number) runs to a JSON delimiter, so `Cookie: a=1; b=2` is redacted whole.
    const std::string_view stops = separator == '=' ? "&,;}]) \t\r\n\"'<" : ",}]\r\n\"'<";
    std::size_t end = line.find_first_of(stops, i);
    if (end == std::string_view::npos) end = line.size();
    while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
      --end;
    if (end > i) return std::pair{i, end};
  }
  return std::nullopt;
}

} // namespace

bool is_redacted_name(std::string_view name, const std::vector<std::string>& names) noexcept {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return proxy::http::iequals(n, name); });
}

std::string redact_header(std::string_view name, std::string_view value,
                          const config::redaction& r) {
  if (is_redacted_name(name, r.headers)) return std::string(redacted_text);
  return redact_query(value, r.query_params); // unchanged without a listed parameter
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

std::string redact_text_line(std::string_view line, const std::vector<std::string>& names) {
  std::string out;
  out.reserve(line.size());
  std::size_t i = 0;
  while (i < line.size()) {
    if (const auto value = secret_value_at(line, i, names)) {
      out.append(line.substr(i, value->first - i));
      out.append(redacted_text);
      i = value->second;
    } else {
      out.push_back(line[i++]);
    }
  }
  return out;
}

} // namespace parallax::mirror::report
