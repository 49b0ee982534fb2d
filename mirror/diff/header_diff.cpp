#include "mirror/diff/header_diff.hpp"

#include "proxy/http/ascii.hpp"

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

bool listed(std::string_view name, const std::vector<std::string>& names) noexcept {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& item) { return proxy::http::iequals(item, name); });
}

// Beyond this many fields, names are looked up through a map: an upstream decides how many
// fields its response has, and a linear search per field would make that quadratic.
constexpr std::size_t linear_max = 16;

/// The headers of one response that `keep` selects, one entry per name, and how to find them
/// by name (case-insensitive): a linear search over a short list, the map built while
/// collecting a long one.
class collected {
public:
  template <typename Keep> // bool keep(std::string_view name)
  collected(const proxy::http::header_list& headers, Keep keep)
      : mapped_(headers.size() > linear_max) {
    entries_.reserve(headers.size());
    for (const auto& field : headers) {
      if (!keep(field.name)) continue;
      std::size_t at = none;
      if (mapped_) {
        const auto [it, inserted] =
            by_name_.try_emplace(proxy::http::to_lower_copy(field.name), entries_.size());
        if (!inserted) at = it->second;
      } else {
        at = index_of(field.name);
      }
      if (at == none) {
        entries_.push_back({field.name, field.value, {}, false});
      } else {
        auto& entry = entries_[at];
        if (!entry.repeated) entry.joined.assign(entry.single);
        entry.repeated = true;
        entry.joined.append(", ").append(field.value);
      }
    }
  }
  [[nodiscard]] const std::vector<joined_header>& entries() const noexcept { return entries_; }
  [[nodiscard]] const joined_header* find(std::string_view name) const {
    const auto at = index_of(name);
    return at == none ? nullptr : &entries_[at];
  }

private:
  static constexpr std::size_t none = std::string::npos;

  [[nodiscard]] std::size_t index_of(std::string_view name) const {
    if (mapped_) {
      const auto it = by_name_.find(proxy::http::to_lower_copy(name));
      return it == by_name_.end() ? none : it->second;
    }
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (proxy::http::iequals(entries_[i].name, name)) return i;
    return none;
  }

  bool mapped_;
  std::vector<joined_header> entries_;
  std::unordered_map<std::string, std::size_t> by_name_; // lower-case name -> entry
};

// Whether an include list decides (given, even empty), rather than the ignore list.
bool include_mode(const config::header_compare& policy) noexcept {
  return policy.include_given || !policy.include.empty();
}

// Calls `f(live entry or null, shadow entry or null)` for each name whose values differ: live
// names in first-appearance order, then names only the shadow has.
template <typename F>
void each_difference(const collected& live, const collected& shadow, F f) {
  for (const auto& l : live.entries()) {
    const joined_header* s = shadow.find(l.name);
    if (s == nullptr || s->value() != l.value()) f(&l, s);
  }
  for (const auto& s : shadow.entries())
    if (live.find(s.name) == nullptr) f(nullptr, &s);
}

} // namespace

bool header_compared(std::string_view name, const config::header_compare& policy) noexcept {
  if (include_mode(policy)) return listed(name, policy.include);
  return !listed(name, policy.ignore);
}

std::vector<difference> diff_headers(const proxy::http::header_list& live,
                                     const proxy::http::header_list& shadow,
                                     const config::header_compare& policy, std::size_t* ignored) {
  const auto compared = [&](std::string_view name) { return header_compared(name, policy); };
  const collected live_headers(live, compared);
  const collected shadow_headers(shadow, compared);
  std::vector<difference> out;
  const auto report = [&](const joined_header* l, const joined_header* s) {
    difference& d = out.emplace_back();
    d.kind = difference_kind::header;
    d.name = proxy::http::to_lower_copy(l != nullptr ? l->name : s->name);
    if (l != nullptr) d.live = boost::json::string(l->value());
    if (s != nullptr) d.shadow = boost::json::string(s->value());
  };
  each_difference(live_headers, shadow_headers, report);
  if (ignored != nullptr && !include_mode(policy)) {
    const auto in_ignore_list = [&](std::string_view name) { return listed(name, policy.ignore); };
    each_difference(collected(live, in_ignore_list), collected(shadow, in_ignore_list),
                    [&](const joined_header*, const joined_header*) { ++*ignored; });
  }
  return out;
}

} // namespace parallax::mirror::diff
