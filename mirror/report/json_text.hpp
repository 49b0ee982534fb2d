#pragma once
// The one writer of JSON text in mirror/: records, summaries and renderings all go through it,
// so strings are escaped exactly as Boost.JSON escapes them and numbers are written in one way
// everywhere (integers in decimal, doubles in their shortest round-trip form, never "1.84E0").

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace parallax::mirror::report {

/// Appends `text` as a JSON string, quoted and escaped exactly as Boost.JSON writes it.
void append_json_string(std::string& out, std::string_view text);

/// Appends `value` as JSON text: indented by two spaces when `pretty`, else on one line. Doubles
/// in their shortest round-trip form, with ".0" when they would read back as an integer ("2.0",
/// "1.84", "1e+300"); non-finite ones as null.
void append_json(std::string& out, const boost::json::value& value, bool pretty = false);

/// JSON text of `value` (append_json()) without a trailing newline.
[[nodiscard]] std::string serialize_json(const boost::json::value& value, bool pretty = false);

/// `value` rounded to a multiple of 1 / `scale` (report numbers carry no noise digits); 0 for
/// NaN and infinities.
[[nodiscard]] double round_to(double value, double scale) noexcept;

/// Writes one JSON document straight into a string, without building a tree: the caller opens,
/// fills and closes objects and arrays in order, and commas come by themselves. Keys are ASCII
/// literals, written as they are; the text is what Boost.JSON would write for the same tree.
class json_text {
public:
  /// A writer appending to `out`, which must outlive it.
  explicit json_text(std::string& out) noexcept : out_(out) {}

  /// Opens an object (as a value).
  void begin_object() { open('{'); }
  /// Closes the innermost object.
  void end_object() { close('}'); }
  /// Opens an array (as a value).
  void begin_array() { open('['); }
  /// Closes the innermost array.
  void end_array() { close(']'); }
  /// Writes the key of an object member; its value follows.
  json_text& key(std::string_view name);
  /// Writes a key that is not an ASCII literal (a header name), escaped and in ASCII lower case.
  json_text& lower_key(std::string_view name);
  /// Writes a string value.
  void string(std::string_view text);
  /// Writes a string value in ASCII lower case (a header name).
  void lower_string(std::string_view text);
  /// Writes an unsigned integer.
  void number(std::uint64_t n);
  /// Writes a null.
  void null();
  /// Writes any JSON value (append_json(), on one line).
  void value(const boost::json::value& v);

private:
  void separate();
  void open(char bracket);
  void close(char bracket);
  void append_lower_string(std::string_view text);

  std::string& out_;
  bool fresh_ = true; // nothing written yet at this level: no comma before the next item
};

} // namespace parallax::mirror::report
