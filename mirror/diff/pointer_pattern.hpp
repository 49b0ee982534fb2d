#pragma once
// RFC 6901 JSON Pointers and the pointer patterns of `compare.body.ignore` and
// `compare.body.unordered_arrays` (config.md): a pattern is a pointer whose whole segments
// may be `*` (exactly one segment) or `**` (zero or more segments), e.g. `/meta/time`,
// `/items/*/id`, `/**/trace_id`. A `*` segment is always a wildcard: RFC 6901 has no escape
// for it, and a member literally named "*" is matched by the wildcard anyway.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::diff {

/// One step of a path during a traversal: an object member name or an array index.
/// `key` views the member name held by the document being walked (unescaped).
struct path_segment {
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;
};

/// Appends "/" and `segment` escaped as RFC 6901 requires (`~` -> `~0`, `/` -> `~1`).
void append_segment(std::string& pointer, std::string_view segment);

/// Appends "/" and the decimal array index `index`.
void append_index(std::string& pointer, std::size_t index);

/// The RFC 6901 escaped form of one segment (without the leading "/").
[[nodiscard]] std::string escape_segment(std::string_view segment);

/// Splits `pointer` into unescaped segments; false (and `segments` unspecified) when it is
/// not a valid RFC 6901 pointer ("" is the root; otherwise it starts with "/").
[[nodiscard]] bool parse_pointer(std::string_view pointer, std::vector<std::string>& segments);

/// The array index a segment names ("0", "17": digits, no sign, no leading zero).
[[nodiscard]] std::optional<std::size_t> parse_index(std::string_view segment) noexcept;

/// A compiled pointer pattern. Compile once (configuration time), match many times: matching
/// never allocates.
class pointer_pattern {
public:
  /// Compiles `text` ("" for the root, or "/"-separated segments with `~0`/`~1` escapes and
  /// whole-segment `*`/`**`); std::nullopt when malformed.
  [[nodiscard]] static std::optional<pointer_pattern> compile(std::string_view text);

  /// Whether the path of a traversal matches the whole pattern.
  [[nodiscard]] bool matches(std::span<const path_segment> path) const noexcept;

  /// Whether the unescaped segments of a pointer match the whole pattern.
  [[nodiscard]] bool matches(std::span<const std::string_view> segments) const noexcept;

  /// Whether the pointer text `pointer` matches (parses it; false when it is malformed).
  [[nodiscard]] bool matches_pointer(std::string_view pointer) const;

  /// The pattern as written.
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
  /// One compiled segment: a literal (unescaped, with its array index when it names one),
  /// `*` or `**`.
  struct segment {
    enum class kind { literal, one, any };
    kind what = kind::literal;
    std::string literal;
    std::optional<std::size_t> index;
  };

  template <class Path, class Equal>
  bool match(const Path& path, Equal equal) const noexcept;

  std::string text_;
  std::vector<segment> segments_;
};

} // namespace parallax::mirror::diff
