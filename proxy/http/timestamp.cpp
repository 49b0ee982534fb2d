#include "proxy/http/timestamp.hpp"

#include <array>
#include <cstdint>
#include <cstdio>

namespace parallax::proxy::http {
namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Parses exactly `n` digits at `text[pos]`, advancing `pos`.
std::optional<int> digits(std::string_view text, std::size_t& pos, std::size_t n) noexcept {
  if (pos + n > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(text[pos + i])) return std::nullopt;
    value = value * 10 + (text[pos + i] - '0');
  }
  pos += n;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) noexcept {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

} // namespace

std::string format_time(std::chrono::system_clock::time_point time, bool milliseconds) {
  using namespace std::chrono;
  const auto ms = floor<std::chrono::milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss clock{ms - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) { // not a four-digit year: the general (slower) path
    std::array<char, 48> buffer{};
    std::snprintf(buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d", year,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(clock.hours().count()),
                  static_cast<int>(clock.minutes().count()),
                  static_cast<int>(clock.seconds().count()));
    std::string out = buffer.data();
    if (milliseconds) {
      std::snprintf(buffer.data(), buffer.size(), ".%03d",
                    static_cast<int>(clock.subseconds().count()));
      out += buffer.data();
    }
    return out + "Z";
  }
  // "YYYY-MM-DDTHH:MM:SS.mmmZ", digits written in place (snprintf costs more than the rest of
  // a discrepancy record's fixed fields together).
  std::string out = milliseconds ? "0000-00-00T00:00:00.000Z" : "0000-00-00T00:00:00Z";
  const auto put = [&out](std::size_t at, unsigned value, std::size_t width) {
    for (std::size_t i = width; i-- > 0; value /= 10)
      out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(year), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, static_cast<unsigned>(clock.hours().count()), 2);
  put(14, static_cast<unsigned>(clock.minutes().count()), 2);
  put(17, static_cast<unsigned>(clock.seconds().count()), 2);
  if (milliseconds) put(20, static_cast<unsigned>(clock.subseconds().count()), 3);
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_time(std::string_view text) noexcept {
  using namespace std::chrono;
  std::size_t pos = 0;
  const auto y = digits(text, pos, 4);
  if (!y || !expect(text, pos, '-')) return std::nullopt;
  const auto mo = digits(text, pos, 2);
  if (!mo || !expect(text, pos, '-')) return std::nullopt;
  const auto d = digits(text, pos, 2);
  if (!d || pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) return std::nullopt;
  ++pos;
  const auto h = digits(text, pos, 2);
  if (!h || !expect(text, pos, ':')) return std::nullopt;
  const auto mi = digits(text, pos, 2);
  if (!mi || !expect(text, pos, ':')) return std::nullopt;
  const auto s = digits(text, pos, 2);
  if (!s) return std::nullopt;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos, ++n) {
      if (n < 6) micros = micros * 10 + (text[pos] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n)
      micros *= 10;
  }
  const std::string_view zone = text.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  // The clock counts nanoseconds in 64 bits: years 1678 to 2261. No record is older than 1970.
  if (!ymd.ok() || *y < 1970 || *y > 2261 || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  const auto tp = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*s} + microseconds{micros};
  return time_point_cast<system_clock::duration>(tp);
}

} // namespace parallax::proxy::http
