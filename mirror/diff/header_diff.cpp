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

} // namespace

bool header_compared(std::string_view name, const config::header_compare& policy) noexcept {
  if (policy.include_given || !policy.include.empty()) return listed(name, policy.include);
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
  for (const auto& l : live_headers.entries()) {
    const joined_header* s = shadow_headers.find(l.name);
    if (s == nullptr || s->value() != l.value()) report(&l, s);
  }
  for (const auto& s : shadow_headers.entries())
    if (live_headers.find(s.name) == nullptr) report(nullptr, &s);
  if (ignored != nullptr && !(policy.include_given || !policy.include.empty())) {
    const auto in_ignore_list = [&](std::string_view name) { return listed(name, policy.ignore); };
    const collected live_ignored(live, in_ignore_list);
    const collected shadow_ignored(shadow, in_ignore_list);
    for (const auto& l : live_ignored.entries()) {
      const joined_header* s = shadow_ignored.find(l.name);
      if (s == nullptr || s->value() != l.value()) ++*ignored;
    }
    for (const auto& s : shadow_ignored.entries())
      if (live_ignored.find(s.name) == nullptr) ++*ignored;
  }
  return out;
}

} // namespace parallax::mirror::diff
