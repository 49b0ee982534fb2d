#include "mirror/diff/header_diff.hpp"

#include <algorithm>
#include <string>

#include <boost/json/string.hpp>

namespace parallax::mirror::diff {

namespace {

/// One header name of a response with all its values joined.
struct joined_header {
  std::string name; // lower-case
  std::string value;
};

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool listed(std::string_view name, const std::vector<std::string>& names) noexcept {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& item) { return proxy::http::iequals(item, name); });
}

/// The compared headers of `headers`, one entry per name (header counts are small, so a
/// linear search beats a map here).
std::vector<joined_header> collect(const proxy::http::header_list& headers,
                                   const config::header_compare& policy) {
  std::vector<joined_header> out;
  for (const auto& field : headers) {
    if (!header_compared(field.name, policy)) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const joined_header& h) {
      return proxy::http::iequals(h.name, field.name);
    });
    if (it == out.end()) {
      out.push_back({to_lower(field.name), field.value});
    } else {
      it->value.append(", ").append(field.value);
    }
  }
  return out;
}

const joined_header* find(const std::vector<joined_header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (h.name == name) return &h;
  return nullptr;
}

} // namespace

bool header_compared(std::string_view name, const config::header_compare& policy) noexcept {
  if (policy.include_given || !policy.include.empty()) return listed(name, policy.include);
  return !listed(name, policy.ignore);
}

std::vector<difference> diff_headers(const proxy::http::header_list& live,
                                     const proxy::http::header_list& shadow,
                                     const config::header_compare& policy) {
  const std::vector<joined_header> live_headers = collect(live, policy);
  const std::vector<joined_header> shadow_headers = collect(shadow, policy);
  std::vector<difference> out;
  const auto report = [&](const joined_header* l, const joined_header* s) {
    difference& d = out.emplace_back();
    d.kind = difference_kind::header;
    d.name = l != nullptr ? l->name : s->name;
    if (l != nullptr) d.live = boost::json::string(l->value);
    if (s != nullptr) d.shadow = boost::json::string(s->value);
  };
  for (const auto& l : live_headers) {
    const joined_header* s = find(shadow_headers, l.name);
    if (s == nullptr || s->value != l.value) report(&l, s);
  }
  for (const auto& s : shadow_headers)
    if (find(live_headers, s.name) == nullptr) report(nullptr, &s);
  return out;
}

} // namespace parallax::mirror::diff
