#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parallax::test {

// Ordered header fields as they appear on the wire; names keep the case they were sent with.
using header_list = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality, for header names and tokens.
bool iequals(std::string_view a, std::string_view b);

// Value of the first field called `name` (any case), if there is one.
std::optional<std::string> find_header(const header_list& headers, std::string_view name);

// Number of fields called `name` (any case).
std::size_t count_headers(const header_list& headers, std::string_view name);

// True if some field called `name` lists `token` (any case) among its comma-separated values.
bool header_has_token(const header_list& headers, std::string_view name, std::string_view token);

// Standard reason phrase for `status`, or "Unknown" for codes it does not know.
std::string_view reason_phrase(int status);

// `HTTP/1.1 <status> <reason>` line, the given fields and the blank line that ends a head.
std::string response_head(int status, const header_list& headers);

// `text` as a JSON string literal (quotes included); invalid UTF-8 bytes become \u00XX.
std::string json_quote(std::string_view text);

// The deterministic test-body byte at absolute body offset `offset`: 'a' + offset % 26.
constexpr char pattern_byte(std::uint64_t offset) {
  return static_cast<char>('a' + offset % 26);
}

// `size` pattern bytes starting at absolute body offset `offset`.
std::string pattern_bytes(std::uint64_t offset, std::size_t size);

// Counts streamed body bytes and remembers whether all of them followed the test pattern.
class pattern_checker {
public:
  // Checks the next piece of the body.
  void update(std::string_view piece);
  // Bytes seen so far.
  std::uint64_t bytes() const { return bytes_; }
  // True while every byte seen so far matched 'a' + offset % 26.
  bool intact() const { return intact_; }

private:
  std::uint64_t bytes_ = 0;
  bool intact_ = true;
};

} // namespace parallax::test
