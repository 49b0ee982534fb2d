#pragma once
// What a fuzz target does when its oracle is violated: says why on stderr, then traps, so
// libFuzzer reports a crash and saves the input as an artifact.

#include <cstdio>
#include <string>
#include <string_view>

namespace parallax::fuzz {

/// `text` with control and non-ASCII bytes as \xNN (and \r, \n, \t), for messages.
inline std::string printable(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

/// Reports a violated oracle (`what`, then at most 4 KiB of `detail`) and traps.
[[noreturn]] inline void violated(std::string_view what, std::string_view detail = {}) {
  if (detail.size() > 4096) detail = detail.substr(0, 4096);
  std::fprintf(stderr, "\n== parallax fuzz oracle violated: %.*s\n%.*s\n",
               static_cast<int>(what.size()), what.data(), static_cast<int>(detail.size()),
               detail.data());
  std::fflush(stderr);
  __builtin_trap();
}

/// Traps with `what` unless `ok`.
inline void require(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) violated(what, detail);
}

} // namespace parallax::fuzz
