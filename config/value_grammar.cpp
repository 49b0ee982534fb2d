// The value grammar of config.md (value_grammar.hpp): pure text in, values or messages out.

#include "config/value_grammar.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

namespace parallax::config::detail {
namespace {

/// Outcome of scaling a decimal like "1.5" by a unit.
enum class scale_status { ok, malformed, inexact, too_large };

/// `number` (digits with an optional fraction of at most 6 digits) times `unit`, exactly.
scale_status scale_decimal(std::string_view number, std::uint64_t unit, std::uint64_t& out) {
  const std::size_t dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
  const auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), is_digit);
  };
  if (whole.empty() || !all_digits(whole) || !all_digits(fraction)) return scale_status::malformed;
  if (dot != std::string_view::npos && fraction.empty()) return scale_status::malformed;
  while (!fraction.empty() && fraction.back() == '0')
    fraction.remove_suffix(1);
  if (fraction.size() > 6) return scale_status::inexact;
  std::uint64_t whole_value = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), whole_value);
  if (ec != std::errc{}) return scale_status::too_large;
  std::uint64_t result = 0;
  if (__builtin_mul_overflow(whole_value, unit, &result)) return scale_status::too_large;
  if (!fraction.empty()) {
    std::uint64_t fraction_value = 0;
    std::from_chars(fraction.data(), fraction.data() + fraction.size(), fraction_value);
    std::uint64_t denominator = 1;
    for (std::size_t i = 0; i < fraction.size(); ++i)
      denominator *= 10;
    const std::uint64_t scaled = fraction_value * unit; // < 10^6 * 2^40: no overflow
    if (scaled % denominator != 0) return scale_status::inexact;
    if (__builtin_add_overflow(result, scaled / denominator, &result))
      return scale_status::too_large;
  }
  out = result;
  return scale_status::ok;
}

/// The first error `check` gives for a "/"-separated segment of `path` (after its leading "/").
template <class Check>
std::optional<std::string> first_segment_error(std::string_view path, Check check) {
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (auto error = check(path.substr(start, end - start))) return error;
    start = end + 1;
  }
  return std::nullopt;
}

/// Splits "1.5MiB" into "1.5" and "MiB".
std::pair<std::string_view, std::string_view> split_unit(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (is_digit(text[i]) || text[i] == '.'))
    ++i;
  return {text.substr(0, i), text.substr(i)};
}

} // namespace

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string quote_text(std::string_view text) {
  constexpr std::size_t max_shown = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < max_shown; ++i) {
    const char c = text[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += hex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  if (text.size() > max_shown) out += "...";
  out += '"';
  return out;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

bool is_name(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.';
  });
}

bool is_host_name(std::string_view text) {
  return is_name(text);
}

std::string format_number(double value) {
  if (std::floor(value) == value && std::fabs(value) < 1e15)
    return std::to_string(static_cast<long long>(value));
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc{}) return std::to_string(value);
  return std::string(buffer, end);
}

std::optional<std::string> expand_env(std::string_view in, std::string& out) {
  const std::string_view usage = " (expected ${NAME} or ${NAME:-default})";
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 2;
      continue;
    }
    if (in.compare(i, 2, "${") != 0) {
      out += in[i];
      continue;
    }
    const std::size_t close = in.find('}', i + 2);
    if (close == std::string_view::npos)
      return "unterminated variable reference " + quote_text(in.substr(i)) + std::string(usage);
    const std::string_view reference = in.substr(i, close - i + 1);
    const std::string_view body = in.substr(i + 2, close - i - 2);
    if (body.empty()) return "empty variable reference \"${}\"" + std::string(usage);
    std::size_t name_end = 0;
    while (name_end < body.size() &&
           (is_alpha(body[name_end]) || is_digit(body[name_end]) || body[name_end] == '_'))
      ++name_end;
    const std::string_view name = body.substr(0, name_end);
    const std::string_view rest = body.substr(name_end);
    if (name.empty() || is_digit(name[0]))
      return "invalid variable name in " + quote_text(reference) +
             " (letters, digits and _, not starting with a digit)";
    std::optional<std::string_view> fallback;
    if (!rest.empty()) {
      if (rest.substr(0, 2) != ":-")
        return "invalid variable reference " + quote_text(reference) + std::string(usage);
      fallback = rest.substr(2);
      if (fallback->find("${") != std::string_view::npos)
        return "nested variable references are not supported in " + quote_text(reference);
    }
    const std::string name_text(name);
    const char* value = std::getenv(name_text.c_str());
    if (fallback && (value == nullptr || *value == '\0')) {
      out += *fallback;
    } else if (value == nullptr) {
      std::string message = "environment variable ";
      message += name_text;
      message += " is not set (use ${";
      message += name_text;
      message += ":-default} to give a default)";
      return message;
    } else {
      out += value;
    }
    i = close;
  }
  return std::nullopt;
}

std::optional<std::string> parse_duration(std::string_view text, duration& out) {
  const std::string usage = "expected a duration like 250ms, 5s, 2m or 1h, got " + quote_text(text);
  if (!text.empty() && std::all_of(text.begin(), text.end(), is_digit))
    return "a duration needs a unit (ms, s, m or h), got " + quote_text(text);
  const auto [number, unit] = split_unit(text);
  if (number.empty()) return usage;
  std::uint64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return "unknown duration unit " + quote_text(unit) + " in " + quote_text(text) +
           " (use ms, s, m or h)";
  }
  std::uint64_t ms = 0;
  switch (scale_decimal(number, scale, ms)) {
  case scale_status::ok: break;
  case scale_status::malformed: return usage;
  case scale_status::inexact:
    return "must be a whole number of milliseconds, got " + quote_text(text);
  case scale_status::too_large:
    return "must be at most " + duration_text(max_duration) + ", got " + quote_text(text);
  }
  if (ms > static_cast<std::uint64_t>(max_duration.count()))
    return "must be at most " + duration_text(max_duration) + ", got " + quote_text(text);
  out = duration(static_cast<duration::rep>(ms));
  return std::nullopt;
}

std::optional<std::string> parse_size(std::string_view text, std::uint64_t& out) {
  const std::string usage =
      "expected a size in bytes or with a unit like 64KiB, 10MiB, 1GiB, got " + quote_text(text);
  const auto [number, unit] = split_unit(text);
  if (number.empty()) return usage;
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "KiB") {
    scale = kib;
  } else if (unit == "MiB") {
    scale = mib;
  } else if (unit == "GiB") {
    scale = 1024 * mib;
  } else if (unit == "TiB") {
    scale = 1024ULL * 1024ULL * mib;
  } else {
    return "unknown size unit " + quote_text(unit) + " in " + quote_text(text) +
           " (use B, KiB, MiB, GiB or TiB)";
  }
  switch (scale_decimal(number, scale, out)) {
  case scale_status::ok: return std::nullopt;
  case scale_status::malformed: return usage;
  case scale_status::inexact: return "must be a whole number of bytes, got " + quote_text(text);
  case scale_status::too_large: break;
  }
  return "size is too large: " + quote_text(text);
}

std::optional<std::string> parse_address(std::string_view text, bool allow_port_zero,
                                         address& out) {
  const std::string prefix = "invalid address " + quote_text(text) + ": ";
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return prefix + "missing \"]\" after the IPv6 address";
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return prefix + "missing port (expected [IPV6]:PORT)";
    if (rest.front() != ':') return prefix + "expected \":PORT\" after \"]\"";
    port = rest.substr(1);
    in6_addr parsed{};
    const std::string host_text(host);
    if (inet_pton(AF_INET6, host_text.c_str(), &parsed) != 1)
      return prefix + quote_text(host) + " is not an IPv6 address";
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return prefix + "missing port (expected HOST:PORT)";
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return prefix + "IPv6 addresses must be in brackets, e.g. [::1]:8080";
    if (host.empty()) return prefix + "missing host (use 0.0.0.0:PORT for all interfaces)";
    if (!is_host_name(host)) return prefix + quote_text(host) + " is not a valid host name";
  }
  if (port.empty()) return prefix + "missing port (expected HOST:PORT)";
  if (!std::all_of(port.begin(), port.end(), is_digit) || port.size() > 6)
    return prefix + "port must be a number, got " + quote_text(port);
  unsigned value = 0;
  std::from_chars(port.data(), port.data() + port.size(), value);
  const unsigned min_port = allow_port_zero ? 0 : 1;
  if (value < min_port || value > 65535)
    return prefix + "port must be between " + std::to_string(min_port) + " and 65535, got " +
           std::string(port);
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return std::nullopt;
}

std::optional<std::string> check_pointer_pattern(std::string_view text) {
  if (text.empty() || text.front() != '/')
    return "JSON Pointer patterns must start with \"/\", got " + quote_text(text);
  return first_segment_error(text, [&](std::string_view segment) -> std::optional<std::string> {
    if (segment.find('*') != std::string_view::npos && segment != "*" && segment != "**")
      return "\"*\" and \"**\" must be whole segments in " + quote_text(text);
    for (std::size_t i = 0; i < segment.size(); ++i)
      if (segment[i] == '~' &&
          (i + 1 >= segment.size() || (segment[i + 1] != '0' && segment[i + 1] != '1')))
        return "\"~\" must be followed by 0 or 1 in " + quote_text(text);
    return std::nullopt;
  });
}

std::optional<std::string> check_endpoint_template(std::string_view text) {
  if (text.empty() || text.front() != '/')
    return "endpoint templates must start with \"/\", got " + quote_text(text);
  return first_segment_error(text, [&](std::string_view segment) -> std::optional<std::string> {
    const bool has_brace = segment.find_first_of("{}") != std::string_view::npos;
    if (has_brace) {
      const bool placeholder =
          segment.size() >= 3 && segment.front() == '{' && segment.back() == '}' &&
          is_name(segment.substr(1, segment.size() - 2)) &&
          segment.substr(1, segment.size() - 2).find('.') == std::string_view::npos;
      if (!placeholder)
        return "placeholders must be whole path segments like {id}, got " + quote_text(text);
    }
    return std::nullopt;
  });
}

std::optional<std::string> check_grpc_method(std::string_view text) {
  // A protobuf identifier: a letter or "_", then letters, digits and "_".
  const auto identifier = [](std::string_view s) {
    return !s.empty() && !is_digit(s.front()) && std::all_of(s.begin(), s.end(), [](char c) {
      return is_alpha(c) || is_digit(c) || c == '_';
    });
  };
  const auto qualified = [&](std::string_view s) {
    for (std::size_t start = 0;;) {
      const std::size_t dot = s.find('.', start);
      if (!identifier(s.substr(start, dot == std::string_view::npos ? dot : dot - start)))
        return false;
      if (dot == std::string_view::npos) return true;
      start = dot + 1;
    }
  };
  const std::size_t slash = text.rfind('/');
  const bool well_formed = !text.empty() && text.front() == '/' && slash != 0 &&
                           qualified(text.substr(1, slash - 1)) &&
                           (text.substr(slash + 1) == "*" || identifier(text.substr(slash + 1)));
  if (well_formed) return std::nullopt;
  return "expected a gRPC method \"/package.Service/Method\" or \"/package.Service/*\", got " +
         quote_text(text);
}

} // namespace parallax::config::detail
