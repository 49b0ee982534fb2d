#pragma once
// The Content-Length of an HTTP/1.1 head, for the bench's load tools (which only see their own
// well-formed traffic; the proxy's parser is llhttp).

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace parallax::bench {

/// The Content-Length value of `head` (request or status line and fields, without the blank
/// line); std::nullopt when there is none or it is not a number.
inline std::optional<std::uint64_t> content_length(std::string_view head) {
  constexpr std::string_view name = "content-length:";
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (head.size() - pos < name.size()) break;
    bool match = true;
    for (std::size_t k = 0; k < name.size() && match; ++k) {
      char c = head[pos + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      match = c == name[k];
    }
    if (!match) continue;
    auto v = head.substr(pos + name.size());
    while (!v.empty() && v.front() == ' ')
      v.remove_prefix(1);
    std::uint64_t n = 0;
    if (std::from_chars(v.data(), v.data() + v.size(), n).ec != std::errc{}) return std::nullopt;
    return n;
  }
  return std::nullopt;
}

} // namespace parallax::bench
