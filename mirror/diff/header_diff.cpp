#include "mirror/diff/header_diff.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>

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

// Beyond this many fields, names are looked up through a map: an upstream decides how many
// fields its response has, and a linear search per field would make that quadratic.
constexpr std::size_t linear_max = 16;

/// Entries by name (case-insensitive).
class name_index {
public:
  explicit name_index(const std::vector<joined_header>& headers) : headers_(headers) {
    if (headers.size() <= linear_max) return;
    for (std::size_t i = 0; i < headers.size(); ++i)
      map_.emplace(to_lower(headers[i].name), i);
  }
  [[nodiscard]] const joined_header* find(std::string_view name) const {
    if (headers_.size() <= linear_max) {
      for (const auto& h : headers_)
        if (proxy::http::iequals(h.name, name)) return &h;
      return nullptr;
    }
    const auto it = map_.find(to_lower(name));
    return it == map_.end() ? nullptr : &headers_[it->second];
  }

private:
  const std::vector<joined_header>& headers_;
  std::unordered_map<std::string, std::size_t> map_;
};

/// The compared headers of `headers`, one entry per name.
std::vector<joined_header> collect(const proxy::http::header_list& headers,
                                   const config::header_compare& policy) {
  std::vector<joined_header> out;
  out.reserve(headers.size());
  std::unordered_map<std::string, std::size_t> seen; // lower-case name -> entry, long lists only
  const bool mapped = headers.size() > linear_max;
  for (const auto& field : headers) {
    if (!header_compared(field.name, policy)) continue;
    joined_header* entry = nullptr;
    if (mapped) {
      const auto [it, inserted] = seen.try_emplace(to_lower(field.name), out.size());
      if (!inserted) entry = &out[it->second];
    } else {
      const auto it = std::find_if(out.begin(), out.end(), [&](const joined_header& h) {
        return proxy::http::iequals(h.name, field.name);
      });
      if (it != out.end()) entry = &*it;
    }
    if (entry == nullptr) {
      out.push_back({field.name, field.value, {}, false});
    } else {
      if (!entry->repeated) entry->joined.assign(entry->single);
      entry->repeated = true;
      entry->joined.append(", ").append(field.value);
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
  const name_index live_index(live_headers);
  const name_index shadow_index(shadow_headers);
  for (const auto& l : live_headers) {
    const joined_header* s = shadow_index.find(l.name);
    if (s == nullptr || s->value() != l.value()) report(&l, s);
  }
  for (const auto& s : shadow_headers)
    if (live_index.find(s.name) == nullptr) report(nullptr, &s);
  return out;
}

} // namespace parallax::mirror::diff
