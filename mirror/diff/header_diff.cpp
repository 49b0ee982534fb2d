#include "mirror/diff/header_diff.hpp"

#include <algorithm>
#include <string>

#include <boost/json/string.hpp>

namespace parallax::mirror::diff {

namespace {

/// One header name of a response with all its values joined. Views into the response's
/// header list; a copy only when the name repeats.
struct joined_header {
  std::string_view name; // as first received
  std::string_view single;
  std::string joined; // all values, ", "-separated, when the name repeats
  bool repeated = false;
  [[nodiscard]] std::string_view value() const noexcept { return repeated ? joined : single; }
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

const joined_header* find(const std::vector<joined_header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (proxy::http::iequals(h.name, name)) return &h;
  return nullptr;
}

/// The compared headers of `headers`, one entry per name (header counts are small, so a
/// linear search beats a map here).
std::vector<joined_header> collect(const proxy::http::header_list& headers,
                                   const config::header_compare& policy) {
  std::vector<joined_header> out;
  out.reserve(headers.size());
  for (const auto& field : headers) {
    if (!header_compared(field.name, policy)) continue;
    const auto it = std::find_if(out.begin(), out.end(), [&](const joined_header& h) {
      return proxy::http::iequals(h.name, field.name);
    });
    if (it == out.end()) {
      out.push_back({field.name, field.value, {}, false});
    } else {
      if (!it->repeated) it->joined.assign(it->single);
      it->repeated = true;
      it->joined.append(", ").append(field.value);
    }
  }
  return out;
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
    d.name = to_lower(l != nullptr ? l->name : s->name);
    if (l != nullptr) d.live = boost::json::string(l->value());
    if (s != nullptr) d.shadow = boost::json::string(s->value());
  };
  for (const auto& l : live_headers) {
    const joined_header* s = find(shadow_headers, l.name);
    if (s == nullptr || s->value() != l.value()) report(&l, s);
  }
  for (const auto& s : shadow_headers)
    if (find(live_headers, s.name) == nullptr) report(nullptr, &s);
  return out;
}

} // namespace parallax::mirror::diff
