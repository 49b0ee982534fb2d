#include "mirror/diff/pointer_pattern.hpp"

#include <charconv>
#include <limits>

namespace parallax::mirror::diff {

void append_segment(std::string& pointer, std::string_view segment) {
  pointer.push_back('/');
  for (const char c : segment) {
    if (c == '~') {
      pointer.append("~0");
    } else if (c == '/') {
      pointer.append("~1");
    } else {
      pointer.push_back(c);
    }
  }
}

void append_index(std::string& pointer, std::size_t index) {
  char digits[std::numeric_limits<std::size_t>::digits10 + 2];
  const auto result = std::to_chars(std::begin(digits), std::end(digits), index);
  pointer.push_back('/');
  pointer.append(digits, result.ptr);
}

std::string escape_segment(std::string_view segment) {
  std::string out;
  append_segment(out, segment);
  out.erase(0, 1);
  return out;
}

namespace {

/// Unescapes one segment into `out`; false on a `~` not followed by 0 or 1.
bool unescape_segment(std::string_view segment, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '~') {
      out.push_back(segment[i]);
      continue;
    }
    if (i + 1 >= segment.size()) return false;
    const char next = segment[++i];
    if (next == '0') {
      out.push_back('~');
    } else if (next == '1') {
      out.push_back('/');
    } else {
      return false;
    }
  }
  return true;
}

/// Calls `each(raw_segment)` for every escaped segment of a pointer that starts with "/".
template <class Each>
bool for_each_raw_segment(std::string_view pointer, Each each) {
  if (pointer.empty()) return true;
  if (pointer.front() != '/') return false;
  std::size_t start = 1;
  while (true) {
    std::size_t end = pointer.find('/', start);
    if (end == std::string_view::npos) end = pointer.size();
    if (!each(pointer.substr(start, end - start))) return false;
    if (end == pointer.size()) return true;
    start = end + 1;
  }
}

} // namespace

bool parse_pointer(std::string_view pointer, std::vector<std::string>& segments) {
  segments.clear();
  return for_each_raw_segment(pointer, [&](std::string_view raw) {
    segments.emplace_back();
    return unescape_segment(raw, segments.back());
  });
}

std::optional<std::size_t> parse_index(std::string_view segment) noexcept {
  if (segment.empty() || (segment.size() > 1 && segment.front() == '0')) return std::nullopt;
  std::size_t value = 0;
  const char* const end = segment.data() + segment.size();
  const auto result = std::from_chars(segment.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return value;
}

std::optional<pointer_pattern> pointer_pattern::compile(std::string_view text) {
  pointer_pattern out;
  out.text_ = std::string(text);
  const bool ok = for_each_raw_segment(text, [&](std::string_view raw) {
    segment& seg = out.segments_.emplace_back();
    if (raw == "*") {
      seg.what = segment::kind::one;
      return true;
    }
    if (raw == "**") {
      seg.what = segment::kind::any;
      return true;
    }
    // A `*` inside a longer segment would read as a glob that is not supported: reject it
    // as the configuration loader does.
    if (raw.find('*') != std::string_view::npos) return false;
    if (!unescape_segment(raw, seg.literal)) return false;
    seg.index = parse_index(seg.literal);
    return true;
  });
  if (!ok) return std::nullopt;
  return out;
}

// Segment-wise glob matching: `*` consumes exactly one segment, `**` any number. Greedy with
// one backtracking point (the latest `**`), which is enough because `**` matches any
// sequence: linear in the usual case, never allocating.
template <class Path, class Equal>
bool pointer_pattern::match(const Path& path, Equal equal) const noexcept {
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = none;
  std::size_t star_t = 0;
  while (t < path.size()) {
    if (p < segments_.size() && segments_[p].what == segment::kind::any) {
      star_p = p++;
      star_t = t;
    } else if (p < segments_.size() &&
               (segments_[p].what == segment::kind::one || equal(segments_[p], path[t]))) {
      ++p;
      ++t;
    } else if (star_p != none) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < segments_.size() && segments_[p].what == segment::kind::any)
    ++p;
  return p == segments_.size();
}

bool pointer_pattern::matches(std::span<const path_segment> path) const noexcept {
  return match(path, [](const segment& pat, const path_segment& seg) {
    if (seg.is_index) return pat.index && *pat.index == seg.index;
    return pat.literal == seg.key;
  });
}

bool pointer_pattern::matches(std::span<const std::string_view> segments) const noexcept {
  return match(segments,
               [](const segment& pat, std::string_view seg) { return pat.literal == seg; });
}

bool pointer_pattern::matches_pointer(std::string_view pointer) const {
  std::vector<std::string> parsed;
  if (!parse_pointer(pointer, parsed)) return false;
  std::vector<std::string_view> views(parsed.begin(), parsed.end());
  return matches(std::span<const std::string_view>(views));
}

} // namespace parallax::mirror::diff
