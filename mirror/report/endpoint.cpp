#include "mirror/report/endpoint.hpp"

#include <algorithm>

namespace parallax::mirror::report {
namespace {

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

bool is_placeholder(std::string_view segment) noexcept {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Calls `visit(segment)` for each '/'-separated segment after the leading '/'.
template <class Visit>
void for_each_segment(std::string_view path, Visit&& visit) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    visit(path.substr(0, slash));
    if (slash == std::string_view::npos) return;
    path.remove_prefix(slash + 1);
  }
}

} // namespace

bool is_id_segment(std::string_view segment) noexcept {
  if (segment.empty()) return false;
  if (std::all_of(segment.begin(), segment.end(), is_digit)) return true;
  if (is_uuid(segment)) return true;
  return segment.size() >= 16 && std::all_of(segment.begin(), segment.end(), is_hex);
}

std::string_view target_path(std::string_view target) noexcept {
  if (!target.empty() && target.front() != '/') {
    const auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return target; // "*" or authority-form
    target.remove_prefix(scheme_end + 3);
    const auto path_start = target.find_first_of("/?#");
    if (path_start == std::string_view::npos) return "/";
    target.remove_prefix(path_start);
    if (target.front() != '/') return "/";
  }
  return target.substr(0, target.find_first_of("?#"));
}

endpoint_namer::endpoint_namer(const std::vector<std::string>& templates) {
  templates_.reserve(templates.size());
  for (const auto& text : templates) {
    path_template t;
    t.text = text;
    for_each_segment(text, [&](std::string_view segment) {
      t.segments.emplace_back(segment);
      t.placeholders.push_back(is_placeholder(segment));
    });
    templates_.push_back(std::move(t));
  }
}

std::string endpoint_namer::name(std::string_view method, std::string_view target) const {
  const std::string_view path = target_path(target);
  std::string out;
  out.reserve(method.size() + 1 + path.size());
  out.append(method);
  out.push_back(' ');
  if (path.empty() || path.front() != '/') {
    out.append(path.empty() ? std::string_view("/") : path);
    return out;
  }
  for (const auto& t : templates_) {
    if (matches(t, path)) {
      out.append(t.text);
      return out;
    }
  }
  for_each_segment(path, [&](std::string_view segment) {
    out.push_back('/');
    out.append(is_id_segment(segment) ? std::string_view("{id}") : segment);
  });
  return out;
}

bool endpoint_namer::matches(const path_template& t, std::string_view path) noexcept {
  std::size_t i = 0;
  bool ok = true;
  for_each_segment(path, [&](std::string_view segment) {
    if (!ok) return;
    // A placeholder matches any one non-empty segment, a literal only itself.
    ok = i < t.segments.size() && (t.placeholders[i] ? !segment.empty() : segment == t.segments[i]);
    ++i;
  });
  return ok && i == t.segments.size();
}

} // namespace parallax::mirror::report
