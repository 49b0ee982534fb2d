#pragma once
// ASCII case folding for protocol text (header and parameter names, tokens, media types): only
// 'A'..'Z' fold, every other byte (UTF-8 included) compares as it is, whatever the locale. And
// hexadecimal digits, for percent-decoding.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace parallax::proxy::http {

/// `c` with 'A'..'Z' mapped to 'a'..'z'; any other byte unchanged.
constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Whether `text` holds an ASCII capital letter (so that folding would change it). Looks at
/// eight bytes at a time (every field name an HTTP/2 upstream gets passes through it).
constexpr bool has_upper(std::string_view text) noexcept {
  const auto capital = [](char c) { return c >= 'A' && c <= 'Z'; };
  if (std::is_constant_evaluated() || text.size() < 8) {
    return std::any_of(text.begin(), text.end(), capital);
  }
  // A byte b < 0x80 gets its top bit from b + 0x3f when b >= 'A' and from b + 0x25 when
  // b > 'Z'; bytes with the top bit set are masked out first (no carry crosses a byte) and
  // left out at the end.
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  const auto any_capital = [](std::uint64_t x) {
    const auto low = x & (0x7f * ones);
    return ((low + 0x3f * ones) & ~(low + 0x25 * ones) & ~x & (0x80 * ones)) != 0;
  };
  std::uint64_t x = 0;
  for (std::size_t i = 0; i + 8 <= text.size(); i += 8) {
    std::memcpy(&x, text.data() + i, 8);
    if (any_capital(x)) return true;
  }
  std::memcpy(&x, text.data() + text.size() - 8, 8); // the last eight (overlapping) bytes
  return any_capital(x);
}

/// Folds ASCII letters in [first, last) to lower case, in place.
constexpr void to_lower_in_place(char* first, char* last) noexcept {
  std::transform(first, last, first, to_lower);
}

/// A copy of `text` with ASCII letters in lower case.
inline std::string to_lower_copy(std::string_view text) {
  std::string out(text);
  to_lower_in_place(out.data(), out.data() + out.size());
  return out;
}

/// ASCII case-insensitive equality, as header names need.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a == b) return true; // the usual case (HTTP/2 names are lower case): one memcmp
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

/// Whether `text` begins with `prefix`, ignoring ASCII case.
constexpr bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

/// Whether `text` ends with `suffix`, ignoring ASCII case.
constexpr bool iends_with(std::string_view text, std::string_view suffix) noexcept {
  return text.size() >= suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

/// The value of hexadecimal digit `c` (either case), or -1 (percent-decoding).
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Whether `needle` occurs in `haystack`, ignoring ASCII case.
constexpr bool icontains(std::string_view haystack, std::string_view needle) noexcept {
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

} // namespace parallax::proxy::http
