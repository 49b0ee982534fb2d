// YAML -> config: parsing, ${ENV} interpolation and every validation rule of config.md.
// This is the only translation unit that includes yaml-cpp. Errors are collected (never
// thrown) so one run of `parallax check` reports everything wrong with a file at once.

#include "config/loader.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>

namespace parallax::config {
namespace {

// ---------------------------------------------------------------------------------------
// Text and value grammar (no YAML involved)

/// 1-based line and column of a node in the file.
struct position {
  int line = 1;
  int column = 1;
};

position position_of(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

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

/// `text` in double quotes for messages: escaped control characters, long values cut.
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

/// HTTP token characters (RFC 9110 tchar): method and header names.
bool is_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

/// Names of listeners, upstreams and routes (metric labels): letters, digits, - _ .
bool is_name(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.';
  });
}

/// Host names and IPv4 literals: letters, digits, - _ .
bool is_host_name(std::string_view text) {
  return is_name(text);
}

/// Levenshtein distance, for "did you mean" hints on unknown keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// A number for messages: integers without a fraction, others in shortest form.
std::string format_number(double value) {
  if (std::floor(value) == value && std::fabs(value) < 1e15)
    return std::to_string(static_cast<long long>(value));
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc{}) return std::to_string(value);
  return std::string(buffer, end);
}

/// Expands `${NAME}` and `${NAME:-default}` in `in`; `$${` is a literal `${`.
/// Returns an error message, or nothing on success.
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

/// Splits "1.5MiB" into "1.5" and "MiB".
std::pair<std::string_view, std::string_view> split_unit(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (is_digit(text[i]) || text[i] == '.'))
    ++i;
  return {text.substr(0, i), text.substr(i)};
}

/// Longest duration accepted anywhere (one year).
constexpr duration max_duration = std::chrono::hours(24 * 365);

/// Parses `250ms`, `5s`, `1.5s`, `2m`, `1h` into milliseconds; returns an error message.
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

/// Parses a byte count: digits, or digits with B, KiB, MiB, GiB, TiB; returns an error.
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

/// Parses HOST:PORT or [IPv6]:PORT; returns an error message.
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

/// Checks a JSON Pointer pattern: starts with "/", `~` escapes, `*`/`**` whole segments.
std::optional<std::string> check_pointer_pattern(std::string_view text) {
  if (text.empty() || text.front() != '/')
    return "JSON Pointer patterns must start with \"/\", got " + quote_text(text);
  std::size_t start = 1;
  while (start <= text.size()) {
    std::size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view segment = text.substr(start, end - start);
    if (segment.find('*') != std::string_view::npos && segment != "*" && segment != "**")
      return "\"*\" and \"**\" must be whole segments in " + quote_text(text);
    for (std::size_t i = 0; i < segment.size(); ++i)
      if (segment[i] == '~' &&
          (i + 1 >= segment.size() || (segment[i + 1] != '0' && segment[i + 1] != '1')))
        return "\"~\" must be followed by 0 or 1 in " + quote_text(text);
    start = end + 1;
  }
  return std::nullopt;
}

/// Checks an endpoint template like /api/users/{id}: placeholders are whole segments.
std::optional<std::string> check_endpoint_template(std::string_view text) {
  if (text.empty() || text.front() != '/')
    return "endpoint templates must start with \"/\", got " + quote_text(text);
  std::size_t start = 1;
  while (start <= text.size()) {
    std::size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view segment = text.substr(start, end - start);
    const bool has_brace = segment.find_first_of("{}") != std::string_view::npos;
    if (has_brace) {
      const bool placeholder =
          segment.size() >= 3 && segment.front() == '{' && segment.back() == '}' &&
          is_name(segment.substr(1, segment.size() - 2)) &&
          segment.substr(1, segment.size() - 2).find('.') == std::string_view::npos;
      if (!placeholder)
        return "placeholders must be whole path segments like {id}, got " + quote_text(text);
    }
    start = end + 1;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// YAML walking

/// A YAML value with the key path and position used in its error messages.
struct field {
  YAML::Node node;
  std::string path;
  position pos;
};

/// One key of a YAML map, with its value.
struct entry {
  std::string key;
  position key_pos;
  field value;
};

/// How a node is described in "expected X, got Y" messages.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Null: return "null";
  case YAML::NodeType::Scalar: return quote_text(node.Scalar());
  case YAML::NodeType::Sequence: return "a list";
  case YAML::NodeType::Map: return "a map";
  case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

/// A reference to an upstream by name, checked once all upstream names are known.
struct upstream_reference {
  std::string name;
  field at;
};

class section;

/// Converts YAML nodes into a `config`, collecting every error with its position.
class builder {
public:
  explicit builder(std::string file) : file_(std::move(file)) {}

  /// Records one error.
  void fail(position pos, std::string path, std::string message) {
    errors_.push_back(load_error{file_, pos.line, pos.column, std::move(path), std::move(message)});
  }

  /// Records a type mismatch on `f`.
  void fail_type(const field& f, std::string_view expected) {
    fail(f.pos, f.path, "expected " + std::string(expected) + ", got " + describe(f.node));
  }

  /// The errors recorded so far.
  std::vector<load_error>& errors() { return errors_; }

  /// The keys of map `f` with duplicate and non-string keys reported.
  std::vector<entry> entries(const field& f);

  /// The elements of list `f` (nothing if it is not a list, or empty when `non_empty`).
  std::optional<std::vector<field>> elements(const field& f, bool non_empty);

  /// A string scalar with ${ENV} references expanded.
  std::optional<std::string> text(const field& f);

  /// A string that must not be empty.
  std::optional<std::string> non_empty_text(const field& f);

  /// true / false.
  std::optional<bool> boolean(const field& f);

  /// A decimal integer in [min, max].
  std::optional<std::int64_t> integer(const field& f, std::int64_t min, std::int64_t max);

  /// `value` (the expanded text of `f`) as a decimal integer in [min, max].
  std::optional<std::int64_t> integer_value(const field& f, const std::string& value,
                                            std::int64_t min, std::int64_t max,
                                            std::string_view expected);

  /// A finite decimal number in [min, max].
  std::optional<double> number(const field& f, double min, double max);

  /// A duration with a unit in [min, max_duration].
  std::optional<duration> time_span(const field& f, duration min);

  /// A size in bytes, at least `min`.
  std::optional<std::uint64_t> size(const field& f, std::uint64_t min);

  /// HOST:PORT.
  std::optional<address> host_port(const field& f, bool allow_port_zero);

  /// A list of strings converted one by one with `convert` (elements failing are dropped).
  template <class Convert>
  std::optional<std::vector<std::string>> list(const field& f, bool non_empty, Convert convert);

  /// An HTTP header name, lower-cased.
  std::optional<std::string> header_name(const field& f);

  /// An HTTP method, upper-cased.
  std::optional<std::string> method(const field& f);

  /// A listener/upstream/route name.
  std::optional<std::string> name(const field& f);

  /// Fills `out` from the root map of the file.
  void build(const field& root, config& out);

private:
  void read_listeners(const field& f, config& out);
  std::optional<listener_tls> read_listener_tls(const field& f);
  void read_admin(const field& f, config& out);
  void read_workers(const field& f, config& out);
  void read_limits(const field& f, limits& out);
  void read_upstreams(const field& f, config& out);
  void read_upstream(const field& f, upstream& out);
  void read_upstream_tls(const field& f, upstream_tls& out);
  void read_routes(const field& f, config& out);
  void read_route(const field& f, std::map<std::string, int>& seen, route& out);
  void read_match(const field& f, route_match& out);
  void read_mirror(const field& f, const route& owner, mirror_policy& out);
  std::optional<sample_by> read_sample_by(const field& f);
  void read_rewrite(const field& f, rewrite_policy& out);
  void read_header_values(const field& f, std::vector<std::pair<std::string, std::string>>& out);
  void read_compare(const field& f, compare_policy& out);
  void read_header_compare(const field& f, header_compare& out);
  void read_body_compare(const field& f, body_compare& out);
  void read_reports(const field& f, reports& out);
  void read_discrepancies(const field& f, discrepancy_log& out);
  void read_summary(const field& f, summary_output& out);
  void read_redaction(const field& f, redaction& out);
  void read_logging(const field& f, logging& out);
  void check_upstream_references(const config& out);

  std::string file_;
  std::vector<load_error> errors_;
  std::vector<upstream_reference> references_;
  bool upstreams_valid_ = false;
  std::vector<std::optional<field>> listener_address_fields_;
  std::optional<field> admin_address_field_;
};

/// A YAML map with a fixed set of keys: reports duplicate and unknown keys on construction.
class section {
public:
  section(builder& b, const field& f, std::initializer_list<std::string_view> keys)
      : builder_(b), self_(f) {
    if (!f.node.IsMap()) {
      b.fail_type(f, "a map");
      return;
    }
    valid_ = true;
    entries_ = b.entries(f);
    for (const entry& e : entries_) {
      if (std::find(keys.begin(), keys.end(), e.key) != keys.end()) continue;
      std::string message = "unknown key " + quote_text(e.key);
      if (e.key == "<<") {
        message += " (YAML merge keys are not supported)";
      } else {
        std::string_view best;
        std::size_t best_distance = 3;
        for (std::string_view known : keys) {
          const std::size_t d = edit_distance(e.key, known);
          if (d < best_distance) {
            best_distance = d;
            best = known;
          }
        }
        if (!best.empty()) message += " (did you mean " + quote_text(best) + "?)";
      }
      b.fail(e.key_pos, e.value.path, std::move(message));
    }
  }

  /// True when the node is a map.
  [[nodiscard]] bool valid() const { return valid_; }

  /// The value of `key`, if present.
  [[nodiscard]] std::optional<field> get(std::string_view key) const {
    for (const entry& e : entries_)
      if (e.key == key) return e.value;
    return std::nullopt;
  }

  /// The value of `key`; reports it missing otherwise.
  [[nodiscard]] std::optional<field> require(std::string_view key) const {
    auto value = get(key);
    if (!value && valid_) builder_.fail(self_.pos, child_path(key), "required key is missing");
    return value;
  }

  /// The key path of `key` inside this map.
  [[nodiscard]] std::string child_path(std::string_view key) const {
    return self_.path.empty() ? std::string(key) : self_.path + "." + std::string(key);
  }

private:
  builder& builder_;
  field self_;
  std::vector<entry> entries_;
  bool valid_ = false;
};

/// Stores `value` into `out` when a conversion succeeded.
template <class T, class U>
void assign(T& out, const std::optional<U>& value) {
  if (value) out = static_cast<T>(*value);
}

std::vector<entry> builder::entries(const field& f) {
  std::vector<entry> out;
  for (auto it = f.node.begin(); it != f.node.end(); ++it) {
    const YAML::Node key = it->first;
    const position key_pos = position_of(key.Mark());
    if (!key.IsScalar()) {
      fail(key_pos, f.path, "map keys must be strings, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    std::string path = f.path.empty() ? name : f.path + "." + name;
    const auto first =
        std::find_if(out.begin(), out.end(), [&](const entry& e) { return e.key == name; });
    if (first != out.end()) {
      fail(key_pos, path,
           "duplicate key " + quote_text(name) + " (first at line " +
               std::to_string(first->key_pos.line) + ")");
      continue;
    }
    const YAML::Node value = it->second;
    // An empty value's mark points at the next token; the key is where the user looks.
    const position value_pos = value.IsNull() ? key_pos : position_of(value.Mark());
    out.push_back(entry{name, key_pos, field{value, std::move(path), value_pos}});
  }
  return out;
}

std::optional<std::vector<field>> builder::elements(const field& f, bool non_empty) {
  if (!f.node.IsSequence()) {
    fail_type(f, "a list");
    return std::nullopt;
  }
  if (non_empty && f.node.size() == 0) {
    fail(f.pos, f.path, "must contain at least one entry");
    return std::nullopt;
  }
  std::vector<field> out;
  std::size_t index = 0;
  for (const YAML::Node& element : f.node) {
    const position pos = element.IsNull() ? f.pos : position_of(element.Mark());
    out.push_back(field{element, f.path + "[" + std::to_string(index++) + "]", pos});
  }
  return out;
}

std::optional<std::string> builder::text(const field& f) {
  if (!f.node.IsScalar()) {
    fail_type(f, "a string");
    return std::nullopt;
  }
  std::string out;
  if (auto error = expand_env(f.node.Scalar(), out)) {
    fail(f.pos, f.path, std::move(*error));
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> builder::non_empty_text(const field& f) {
  auto value = text(f);
  if (value && value->empty()) {
    fail(f.pos, f.path, "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<bool> builder::boolean(const field& f) {
  if (!f.node.IsScalar()) {
    fail_type(f, "true or false");
    return std::nullopt;
  }
  const auto value = text(f);
  if (!value) return std::nullopt;
  if (*value == "true" || *value == "True" || *value == "TRUE") return true;
  if (*value == "false" || *value == "False" || *value == "FALSE") return false;
  fail(f.pos, f.path, "expected true or false, got " + quote_text(*value));
  return std::nullopt;
}

std::optional<std::int64_t> builder::integer(const field& f, std::int64_t min, std::int64_t max) {
  if (!f.node.IsScalar()) {
    fail_type(f, "an integer");
    return std::nullopt;
  }
  const auto value = text(f);
  if (!value) return std::nullopt;
  return integer_value(f, *value, min, max, "an integer");
}

std::optional<std::int64_t> builder::integer_value(const field& f, const std::string& value,
                                                   std::int64_t min, std::int64_t max,
                                                   std::string_view expected) {
  std::string_view digits = value;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  const std::string_view magnitude =
      !digits.empty() && digits.front() == '-' ? digits.substr(1) : digits;
  if (magnitude.empty() || !std::all_of(magnitude.begin(), magnitude.end(), is_digit)) {
    fail(f.pos, f.path, "expected " + std::string(expected) + ", got " + quote_text(value));
    return std::nullopt;
  }
  std::int64_t parsed = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
  if (ec != std::errc{} || parsed < min || parsed > max) {
    std::string bound =
        max == std::numeric_limits<std::int64_t>::max()
            ? "must be at least " + std::to_string(min)
            : "must be between " + std::to_string(min) + " and " + std::to_string(max);
    fail(f.pos, f.path, bound + ", got " + value);
    return std::nullopt;
  }
  return parsed;
}

std::optional<double> builder::number(const field& f, double min, double max) {
  if (!f.node.IsScalar()) {
    fail_type(f, "a number");
    return std::nullopt;
  }
  const auto value = text(f);
  if (!value) return std::nullopt;
  // YAML 1.2 core decimal: [-+]? ( digits [. digits*] | . digits ) [ [eE] [-+]? digits ]
  std::string_view s = *value;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::size_t i = !s.empty() && s.front() == '-' ? 1 : 0;
  std::size_t mantissa_digits = 0;
  while (i < s.size() && is_digit(s[i]))
    ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i]))
      ++i, ++mantissa_digits;
  }
  bool well_formed = mantissa_digits > 0;
  if (well_formed && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t exponent_start = i;
    while (i < s.size() && is_digit(s[i]))
      ++i;
    well_formed = i > exponent_start;
  }
  double parsed = 0;
  if (well_formed && i == s.size()) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    well_formed = ec == std::errc{} && end == s.data() + s.size() && std::isfinite(parsed);
  } else {
    well_formed = false;
  }
  if (!well_formed) {
    fail(f.pos, f.path, "expected a number, got " + quote_text(*value));
    return std::nullopt;
  }
  if (parsed < min || parsed > max) {
    std::string bound =
        max == std::numeric_limits<double>::max()
            ? "must be at least " + format_number(min)
            : "must be between " + format_number(min) + " and " + format_number(max);
    fail(f.pos, f.path, bound + ", got " + *value);
    return std::nullopt;
  }
  return parsed;
}

std::optional<duration> builder::time_span(const field& f, duration min) {
  if (!f.node.IsScalar()) {
    fail_type(f, "a duration like 5s");
    return std::nullopt;
  }
  const auto value = text(f);
  if (!value) return std::nullopt;
  duration parsed{};
  if (auto error = parse_duration(*value, parsed)) {
    fail(f.pos, f.path, std::move(*error));
    return std::nullopt;
  }
  if (parsed < min) {
    fail(f.pos, f.path, "must be at least " + duration_text(min) + ", got " + *value);
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::uint64_t> builder::size(const field& f, std::uint64_t min) {
  if (!f.node.IsScalar()) {
    fail_type(f, "a size like 64KiB");
    return std::nullopt;
  }
  const auto value = text(f);
  if (!value) return std::nullopt;
  std::uint64_t parsed = 0;
  if (auto error = parse_size(*value, parsed)) {
    fail(f.pos, f.path, std::move(*error));
    return std::nullopt;
  }
  if (parsed < min) {
    fail(f.pos, f.path, "must be at least " + std::to_string(min) + " bytes, got " + *value);
    return std::nullopt;
  }
  return parsed;
}

std::optional<address> builder::host_port(const field& f, bool allow_port_zero) {
  if (!f.node.IsScalar()) {
    fail_type(f, "an address like 127.0.0.1:8080");
    return std::nullopt;
  }
  const auto value = text(f);
  if (!value) return std::nullopt;
  address parsed;
  if (auto error = parse_address(*value, allow_port_zero, parsed)) {
    fail(f.pos, f.path, std::move(*error));
    return std::nullopt;
  }
  return parsed;
}

template <class Convert>
std::optional<std::vector<std::string>> builder::list(const field& f, bool non_empty,
                                                      Convert convert) {
  const auto items = elements(f, non_empty);
  if (!items) return std::nullopt;
  std::vector<std::string> out;
  for (const field& item : *items)
    if (auto value = convert(item)) out.push_back(std::move(*value));
  return out;
}

std::optional<std::string> builder::header_name(const field& f) {
  const auto value = text(f);
  if (!value) return std::nullopt;
  if (!is_token(*value)) {
    fail(f.pos, f.path, "not a valid HTTP header name: " + quote_text(*value));
    return std::nullopt;
  }
  return to_lower(*value);
}

std::optional<std::string> builder::method(const field& f) {
  const auto value = text(f);
  if (!value) return std::nullopt;
  if (!is_token(*value)) {
    fail(f.pos, f.path, "not a valid HTTP method: " + quote_text(*value));
    return std::nullopt;
  }
  return to_upper(*value);
}

std::optional<std::string> builder::name(const field& f) {
  auto value = text(f);
  if (!value) return std::nullopt;
  if (!is_name(*value)) {
    fail(f.pos, f.path,
         "names may contain only letters, digits, \"-\", \"_\" and \".\", got " +
             quote_text(*value));
    return std::nullopt;
  }
  return value;
}

// ---------------------------------------------------------------------------------------
// The schema of config.md, section by section

void builder::build(const field& root, config& out) {
  section s(*this, root,
            {"version", "listeners", "admin", "workers", "limits", "upstreams", "routes", "reports",
             "logging"});
  if (!s.valid()) return;
  if (auto f = s.require("version")) {
    if (auto v = integer(*f, std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max())) {
      if (*v != 1) {
        // Other versions have another schema: their remaining keys would only add noise.
        fail(f->pos, f->path, "unsupported version " + std::to_string(*v) + "; only 1 is accepted");
        return;
      }
    }
  }
  if (auto f = s.require("listeners")) read_listeners(*f, out);
  if (auto f = s.get("admin")) read_admin(*f, out);
  if (auto f = s.get("workers")) read_workers(*f, out);
  if (auto f = s.get("limits")) read_limits(*f, out.limits);
  if (auto f = s.require("upstreams")) read_upstreams(*f, out);
  if (auto f = s.require("routes")) read_routes(*f, out);
  if (auto f = s.get("reports")) read_reports(*f, out.reports);
  if (auto f = s.get("logging")) read_logging(*f, out.logging);
  check_upstream_references(out);

  // Two sockets on the same HOST:PORT cannot both bind; port 0 always gets a fresh port.
  std::vector<std::pair<address, std::string>> bound;
  const auto claim = [&](const address& addr, const std::optional<field>& at) {
    if (!at || addr.port == 0) return;
    for (const auto& [other, other_path] : bound) {
      if (other == addr) {
        fail(at->pos, at->path, "address " + addr.text() + " is already used by " + other_path);
        return;
      }
    }
    bound.emplace_back(addr, at->path);
  };
  for (std::size_t i = 0; i < out.listeners.size() && i < listener_address_fields_.size(); ++i) {
    const auto& at = listener_address_fields_[i];
    if (at && !admin_address_field_ && out.listeners[i].addr == out.admin.addr) {
      fail(at->pos, at->path,
           "address " + out.admin.addr.text() +
               " is the admin listener's default address (set admin.address to another one)");
      continue;
    }
    claim(out.listeners[i].addr, at);
  }
  claim(out.admin.addr, admin_address_field_);
}

void builder::read_listeners(const field& f, config& out) {
  const auto items = elements(f, true);
  if (!items) return;
  std::map<std::string, int> seen; // name -> line of first use
  for (const field& item : *items) {
    section s(*this, item, {"name", "address", "tls"});
    if (!s.valid()) continue;
    listener l;
    std::optional<field> address_field;
    if (auto name_field = s.require("name")) {
      if (auto v = name(*name_field)) {
        const auto [it, inserted] = seen.emplace(*v, name_field->pos.line);
        if (!inserted)
          fail(name_field->pos, name_field->path,
               "duplicate listener name " + quote_text(*v) + " (first at line " +
                   std::to_string(it->second) + ")");
        l.name = *v;
      }
    }
    if ((address_field = s.require("address"))) {
      if (auto v = host_port(*address_field, true)) {
        l.addr = *v;
      } else {
        address_field.reset();
      }
    }
    if (auto tls_field = s.get("tls")) l.tls = read_listener_tls(*tls_field);
    out.listeners.push_back(std::move(l));
    listener_address_fields_.push_back(address_field);
  }
}

std::optional<listener_tls> builder::read_listener_tls(const field& f) {
  section s(*this, f, {"cert", "key", "min_version"});
  if (!s.valid()) return std::nullopt;
  listener_tls tls;
  if (auto v = s.require("cert")) assign(tls.cert, non_empty_text(*v));
  if (auto v = s.require("key")) assign(tls.key, non_empty_text(*v));
  if (auto v = s.get("min_version")) {
    if (auto version = text(*v)) {
      if (*version == "1.2" || *version == "1.3") {
        tls.min_version = *version;
      } else {
        fail(v->pos, v->path, "must be \"1.2\" or \"1.3\", got " + quote_text(*version));
      }
    }
  }
  return tls;
}

void builder::read_admin(const field& f, config& out) {
  section s(*this, f, {"address"});
  if (!s.valid()) return;
  if (auto v = s.get("address")) {
    if (auto parsed = host_port(*v, true)) {
      out.admin.addr = *parsed;
      admin_address_field_ = v;
    }
  }
}

void builder::read_workers(const field& f, config& out) {
  constexpr std::int64_t max_workers = 1024;
  if (!f.node.IsScalar()) {
    fail_type(f, "auto or an integer >= 1");
    return;
  }
  const auto value = text(f);
  if (!value) return;
  if (*value == "auto") {
    out.workers = 0;
    return;
  }
  assign(out.workers, integer_value(f, *value, 1, max_workers, "auto or an integer >= 1"));
}

void builder::read_limits(const field& f, limits& out) {
  section s(*this, f,
            {"max_connections", "max_request_header_bytes", "max_request_headers",
             "max_request_body_bytes", "header_timeout", "idle_timeout", "client_io_timeout",
             "drain_timeout"});
  if (!s.valid()) return;
  constexpr auto any = std::numeric_limits<std::int64_t>::max();
  if (auto v = s.get("max_connections")) assign(out.max_connections, integer(*v, 1, any));
  if (auto v = s.get("max_request_header_bytes")) assign(out.max_request_header_bytes, size(*v, 1));
  if (auto v = s.get("max_request_headers")) assign(out.max_request_headers, integer(*v, 1, any));
  if (auto v = s.get("max_request_body_bytes")) assign(out.max_request_body_bytes, size(*v, 0));
  const duration one_ms(1);
  if (auto v = s.get("header_timeout")) assign(out.header_timeout, time_span(*v, one_ms));
  if (auto v = s.get("idle_timeout")) assign(out.idle_timeout, time_span(*v, one_ms));
  if (auto v = s.get("client_io_timeout")) assign(out.client_io_timeout, time_span(*v, one_ms));
  if (auto v = s.get("drain_timeout")) assign(out.drain_timeout, time_span(*v, duration(0)));
}

void builder::read_upstreams(const field& f, config& out) {
  if (!f.node.IsMap()) {
    fail_type(f, "a map of upstream names to upstreams");
    return;
  }
  if (f.node.size() == 0) {
    fail(f.pos, f.path, "must contain at least one upstream");
    return;
  }
  upstreams_valid_ = true;
  for (const entry& e : entries(f)) {
    upstream u;
    u.name = e.key;
    if (!is_name(e.key))
      fail(e.key_pos, e.value.path,
           "upstream names may contain only letters, digits, \"-\", \"_\" and \".\", got " +
               quote_text(e.key));
    read_upstream(e.value, u);
    out.upstreams.emplace(e.key, std::move(u));
  }
}

void builder::read_upstream(const field& f, upstream& out) {
  section s(*this, f,
            {"endpoints", "resolve_interval", "tls", "connect_timeout", "request_timeout",
             "io_timeout", "max_idle_per_endpoint", "max_connections_per_endpoint"});
  if (!s.valid()) return;
  if (auto v = s.require("endpoints")) {
    if (auto items = elements(*v, true)) {
      for (const field& item : *items)
        if (auto parsed = host_port(item, false)) out.endpoints.push_back(*parsed);
    }
  }
  const duration one_ms(1);
  constexpr std::int64_t max_u32 = std::numeric_limits<std::uint32_t>::max();
  if (auto v = s.get("resolve_interval")) assign(out.resolve_interval, time_span(*v, one_ms));
  if (auto v = s.get("tls")) read_upstream_tls(*v, out.tls);
  if (auto v = s.get("connect_timeout")) assign(out.connect_timeout, time_span(*v, one_ms));
  if (auto v = s.get("request_timeout")) assign(out.request_timeout, time_span(*v, one_ms));
  if (auto v = s.get("io_timeout")) assign(out.io_timeout, time_span(*v, one_ms));
  if (auto v = s.get("max_idle_per_endpoint"))
    assign(out.max_idle_per_endpoint, integer(*v, 0, max_u32));
  if (auto v = s.get("max_connections_per_endpoint"))
    assign(out.max_connections_per_endpoint, integer(*v, 0, max_u32));
}

void builder::read_upstream_tls(const field& f, upstream_tls& out) {
  section s(*this, f, {"enabled", "sni", "ca", "verify"});
  if (!s.valid()) return;
  if (auto v = s.get("enabled")) assign(out.enabled, boolean(*v));
  if (auto v = s.get("sni")) assign(out.sni, text(*v));
  if (auto v = s.get("ca")) assign(out.ca, text(*v));
  if (auto v = s.get("verify")) assign(out.verify, boolean(*v));
}

void builder::read_routes(const field& f, config& out) {
  const auto items = elements(f, true);
  if (!items) return;
  std::map<std::string, int> seen; // name -> line of first use
  for (const field& item : *items) {
    route r;
    read_route(item, seen, r);
    out.routes.push_back(std::move(r));
  }
}

void builder::read_route(const field& f, std::map<std::string, int>& seen, route& out) {
  section s(*this, f, {"name", "match", "upstream", "mirror"});
  if (!s.valid()) return;
  if (auto v = s.require("name")) {
    if (auto route_name = name(*v)) {
      const auto [it, inserted] = seen.emplace(*route_name, v->pos.line);
      if (!inserted)
        fail(v->pos, v->path,
             "duplicate route name " + quote_text(*route_name) + " (first at line " +
                 std::to_string(it->second) + ")");
      out.name = *route_name;
    }
  }
  if (auto v = s.get("match")) read_match(*v, out.match);
  if (auto v = s.require("upstream")) {
    if (auto target = non_empty_text(*v)) {
      out.upstream = *target;
      references_.push_back(upstream_reference{*target, *v});
    }
  }
  if (auto v = s.get("mirror")) {
    mirror_policy m;
    read_mirror(*v, out, m);
    out.mirror = std::move(m);
  }
}

void builder::read_match(const field& f, route_match& out) {
  section s(*this, f, {"path_prefix", "path_exact", "methods", "host", "headers"});
  if (!s.valid()) return;
  const auto path = [&](const field& v) -> std::optional<std::string> {
    auto value = text(v);
    if (value && (value->empty() || value->front() != '/')) {
      fail(v.pos, v.path, "must start with \"/\", got " + quote_text(*value));
      return std::nullopt;
    }
    return value;
  };
  const auto prefix = s.get("path_prefix");
  const auto exact = s.get("path_exact");
  if (prefix) out.path_prefix = path(*prefix);
  if (exact) out.path_exact = path(*exact);
  if (prefix && exact) {
    const field& later =
        prefix->pos.line > exact->pos.line ||
                (prefix->pos.line == exact->pos.line && prefix->pos.column > exact->pos.column)
            ? *prefix
            : *exact;
    fail(later.pos, later.path, "path_prefix and path_exact cannot both be given");
  }
  if (auto v = s.get("methods"))
    assign(out.methods, list(*v, true, [&](const field& item) { return method(item); }));
  if (auto v = s.get("host")) {
    if (auto host = non_empty_text(*v)) {
      const bool bracketed = host->front() == '[' && host->back() == ']';
      if (!bracketed && host->find(':') != std::string::npos) {
        fail(v->pos, v->path,
             "must be a host without a port (the port is ignored), got " + quote_text(*host));
      } else if (!bracketed && !is_host_name(*host)) {
        fail(v->pos, v->path, "not a valid host name: " + quote_text(*host));
      } else {
        out.host = to_lower(*host);
      }
    }
  }
  if (auto v = s.get("headers")) read_header_values(*v, out.headers);
}

void builder::read_header_values(const field& f,
                                 std::vector<std::pair<std::string, std::string>>& out) {
  if (!f.node.IsMap()) {
    fail_type(f, "a map of header names to values");
    return;
  }
  out.clear();
  for (const entry& e : entries(f)) {
    if (!is_token(e.key)) {
      fail(e.key_pos, e.value.path, "not a valid HTTP header name: " + quote_text(e.key));
      continue;
    }
    std::string lowered = to_lower(e.key);
    const bool repeated = std::any_of(out.begin(), out.end(),
                                      [&](const auto& header) { return header.first == lowered; });
    if (repeated) {
      fail(e.key_pos, e.value.path,
           "header " + quote_text(lowered) + " is given twice (names are case-insensitive)");
      continue;
    }
    const auto value = text(e.value);
    if (!value) continue;
    if (value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      fail(e.value.pos, e.value.path, "header values must not contain CR, LF or NUL");
      continue;
    }
    out.emplace_back(std::move(lowered), *value);
  }
}

void builder::read_mirror(const field& f, const route& owner, mirror_policy& out) {
  section s(*this, f,
            {"upstream", "percent", "sample_by", "methods", "max_rps", "max_inflight",
             "max_body_bytes", "rewrite", "secondary", "compare"});
  if (!s.valid()) return;
  if (auto v = s.require("upstream")) {
    if (auto target = non_empty_text(*v)) {
      out.upstream = *target;
      if (!owner.upstream.empty() && *target == owner.upstream) {
        fail(v->pos, v->path,
             "must differ from the route's upstream " + quote_text(owner.upstream) +
                 " (the live upstream would receive every request twice)");
      } else {
        references_.push_back(upstream_reference{*target, *v});
      }
    }
  }
  if (auto v = s.require("percent")) assign(out.percent, number(*v, 0, 100));
  if (auto v = s.get("sample_by")) assign(out.sample_by, read_sample_by(*v));
  if (auto v = s.get("methods"))
    assign(out.methods, list(*v, true, [&](const field& item) { return method(item); }));
  constexpr double any_number = std::numeric_limits<double>::max();
  if (auto v = s.get("max_rps")) assign(out.max_rps, number(*v, 0, any_number));
  if (auto v = s.get("max_inflight"))
    assign(out.max_inflight, integer(*v, 1, std::numeric_limits<std::uint32_t>::max()));
  if (auto v = s.get("max_body_bytes")) assign(out.max_body_bytes, size(*v, 0));
  if (auto v = s.get("rewrite")) read_rewrite(*v, out.rewrite);
  if (auto v = s.get("secondary")) {
    if (auto target = text(*v); target && !target->empty()) {
      out.secondary = *target;
      if (*target == owner.upstream || *target == out.upstream) {
        fail(v->pos, v->path,
             "must differ from the route's upstream and the mirror upstream, got " +
                 quote_text(*target));
      } else {
        references_.push_back(upstream_reference{*target, *v});
      }
    }
  }
  if (auto v = s.get("compare")) read_compare(*v, out.compare);
}

std::optional<sample_by> builder::read_sample_by(const field& f) {
  const auto value = text(f);
  if (!value) return std::nullopt;
  const std::string usage =
      "must be random, header:NAME, cookie:NAME or query:NAME, got " + quote_text(*value);
  if (*value == "random") return sample_by{};
  const std::size_t colon = value->find(':');
  if (colon == std::string::npos) {
    fail(f.pos, f.path, usage);
    return std::nullopt;
  }
  const std::string kind = value->substr(0, colon);
  const std::string key = value->substr(colon + 1);
  sample_by out;
  if (kind == "header") {
    out.by = sample_by::kind::header;
  } else if (kind == "cookie") {
    out.by = sample_by::kind::cookie;
  } else if (kind == "query") {
    out.by = sample_by::kind::query;
  } else {
    fail(f.pos, f.path, usage);
    return std::nullopt;
  }
  if (key.empty()) {
    fail(f.pos, f.path, "missing NAME in " + quote_text(*value) + " (e.g. " + kind + ":x-user-id)");
    return std::nullopt;
  }
  const bool valid_key = out.by == sample_by::kind::query
                             ? key.find_first_of(" &=#\t") == std::string::npos
                             : is_token(key);
  if (!valid_key) {
    fail(f.pos, f.path, "not a valid " + kind + " name in " + quote_text(*value));
    return std::nullopt;
  }
  out.name = out.by == sample_by::kind::header ? to_lower(key) : key;
  return out;
}

void builder::read_rewrite(const field& f, rewrite_policy& out) {
  section s(*this, f, {"host", "path_prefix", "set_headers", "remove_headers"});
  if (!s.valid()) return;
  if (auto v = s.get("host")) {
    if (auto host = text(*v)) {
      if (host->find_first_of(" \t\r\n/") != std::string::npos) {
        fail(v->pos, v->path, "not a valid Host header value: " + quote_text(*host));
      } else {
        out.host = *host;
      }
    }
  }
  if (auto v = s.get("path_prefix")) {
    section p(*this, *v, {"from", "to"});
    if (p.valid()) {
      const auto path = [&](const std::optional<field>& at, std::string& target) {
        if (!at) return;
        auto value = text(*at);
        if (value && !value->empty() && value->front() != '/') {
          fail(at->pos, at->path, "must start with \"/\", got " + quote_text(*value));
          return;
        }
        assign(target, value);
      };
      const auto from = p.get("from");
      const auto to = p.get("to");
      path(from, out.path_prefix.from);
      path(to, out.path_prefix.to);
      if (out.path_prefix.from.empty() && !out.path_prefix.to.empty() && to)
        fail(to->pos, to->path, "needs a non-empty \"from\" prefix to replace");
    }
  }
  if (auto v = s.get("set_headers")) read_header_values(*v, out.set_headers);
  if (auto v = s.get("remove_headers"))
    assign(out.remove_headers,
           list(*v, false, [&](const field& item) { return header_name(item); }));
}

void builder::read_compare(const field& f, compare_policy& out) {
  section s(*this, f, {"status", "headers", "body", "latency"});
  if (!s.valid()) return;
  if (auto v = s.get("status")) assign(out.status, boolean(*v));
  if (auto v = s.get("headers")) read_header_compare(*v, out.headers);
  if (auto v = s.get("body")) read_body_compare(*v, out.body);
  if (auto v = s.get("latency")) {
    section l(*this, *v, {"regression_ratio"});
    if (l.valid()) {
      if (auto ratio = l.get("regression_ratio")) {
        if (auto value = number(*ratio, 0, std::numeric_limits<double>::max())) {
          if (*value != 0 && *value < 1) {
            fail(ratio->pos, ratio->path,
                 "must be 0 (off) or at least 1, got " + format_number(*value));
          } else {
            out.latency.regression_ratio = *value;
          }
        }
      }
    }
  }
}

void builder::read_header_compare(const field& f, header_compare& out) {
  section s(*this, f, {"ignore", "include"});
  if (!s.valid()) return;
  const auto ignore = s.get("ignore");
  const auto include = s.get("include");
  const auto names = [&](const field& item) { return header_name(item); };
  if (ignore && include) {
    fail(include->pos, include->path, "ignore and include cannot both be given");
    return;
  }
  if (ignore) assign(out.ignore, list(*ignore, false, names));
  if (include) {
    if (auto value = list(*include, false, names)) {
      out.include = *value;
      out.include_given = true;
      out.ignore.clear(); // only `include` applies; keep the struct unambiguous
    }
  }
}

void builder::read_body_compare(const field& f, body_compare& out) {
  section s(*this, f,
            {"enabled", "max_bytes", "ignore", "unordered_arrays", "numeric_tolerance",
             "null_equals_missing"});
  if (!s.valid()) return;
  const auto pattern = [&](const field& item) -> std::optional<std::string> {
    auto value = text(item);
    if (!value) return std::nullopt;
    if (auto error = check_pointer_pattern(*value)) {
      fail(item.pos, item.path, std::move(*error));
      return std::nullopt;
    }
    return value;
  };
  if (auto v = s.get("enabled")) assign(out.enabled, boolean(*v));
  if (auto v = s.get("max_bytes")) assign(out.max_bytes, size(*v, 0));
  if (auto v = s.get("ignore")) assign(out.ignore, list(*v, false, pattern));
  if (auto v = s.get("unordered_arrays")) assign(out.unordered_arrays, list(*v, false, pattern));
  if (auto v = s.get("numeric_tolerance"))
    assign(out.numeric_tolerance, number(*v, 0, std::numeric_limits<double>::max()));
  if (auto v = s.get("null_equals_missing")) assign(out.null_equals_missing, boolean(*v));
}

void builder::read_reports(const field& f, reports& out) {
  section s(*this, f, {"discrepancies", "summary", "redact", "endpoints"});
  if (!s.valid()) return;
  if (auto v = s.get("discrepancies")) read_discrepancies(*v, out.discrepancies);
  if (auto v = s.get("summary")) read_summary(*v, out.summary);
  if (auto v = s.get("redact")) read_redaction(*v, out.redact);
  if (auto v = s.get("endpoints")) {
    const auto endpoint = [&](const field& item) -> std::optional<std::string> {
      auto value = text(item);
      if (!value) return std::nullopt;
      if (auto error = check_endpoint_template(*value)) {
        fail(item.pos, item.path, std::move(*error));
        return std::nullopt;
      }
      return value;
    };
    assign(out.endpoints, list(*v, false, endpoint));
  }
}

void builder::read_discrepancies(const field& f, discrepancy_log& out) {
  section s(*this, f,
            {"path", "max_file_bytes", "keep_files", "include_matches", "max_body_excerpt_bytes"});
  if (!s.valid()) return;
  if (auto v = s.get("path")) {
    auto value = text(*v);
    if (value && value->empty()) {
      fail(v->pos, v->path, "must not be empty (use \"-\" for standard output)");
    } else {
      assign(out.path, value);
    }
  }
  if (auto v = s.get("max_file_bytes")) assign(out.max_file_bytes, size(*v, 1));
  if (auto v = s.get("keep_files"))
    assign(out.keep_files, integer(*v, 1, std::numeric_limits<std::uint32_t>::max()));
  if (auto v = s.get("include_matches")) assign(out.include_matches, boolean(*v));
  if (auto v = s.get("max_body_excerpt_bytes")) assign(out.max_body_excerpt_bytes, size(*v, 0));
}

void builder::read_summary(const field& f, summary_output& out) {
  section s(*this, f, {"path", "interval"});
  if (!s.valid()) return;
  if (auto v = s.get("path")) assign(out.path, text(*v));
  if (auto v = s.get("interval")) assign(out.interval, time_span(*v, duration(1)));
}

void builder::read_redaction(const field& f, redaction& out) {
  section s(*this, f, {"headers", "json_fields", "query_params"});
  if (!s.valid()) return;
  if (auto v = s.get("headers"))
    assign(out.headers, list(*v, false, [&](const field& item) { return header_name(item); }));
  if (auto v = s.get("json_fields")) {
    const auto json_field = [&](const field& item) -> std::optional<std::string> {
      auto value = non_empty_text(item);
      if (value) return to_lower(*value);
      return value;
    };
    assign(out.json_fields, list(*v, false, json_field));
  }
  if (auto v = s.get("query_params"))
    assign(out.query_params,
           list(*v, false, [&](const field& item) { return non_empty_text(item); }));
}

void builder::read_logging(const field& f, logging& out) {
  section s(*this, f, {"level", "format", "access_log"});
  if (!s.valid()) return;
  if (auto v = s.get("level")) {
    if (auto value = text(*v)) {
      static constexpr std::pair<std::string_view, logging::level> levels[] = {
          {"trace", logging::level::trace},
          {"debug", logging::level::debug},
          {"info", logging::level::info},
          {"warn", logging::level::warn},
          {"error", logging::level::error}};
      const auto it = std::find_if(std::begin(levels), std::end(levels),
                                   [&](const auto& level) { return level.first == *value; });
      if (it == std::end(levels)) {
        fail(v->pos, v->path,
             "must be one of trace, debug, info, warn, error; got " + quote_text(*value));
      } else {
        out.lvl = it->second;
      }
    }
  }
  if (auto v = s.get("format")) {
    if (auto value = text(*v)) {
      if (*value == "text") {
        out.fmt = logging::format::text;
      } else if (*value == "json") {
        out.fmt = logging::format::json;
      } else {
        fail(v->pos, v->path, "must be text or json, got " + quote_text(*value));
      }
    }
  }
  if (auto v = s.get("access_log")) assign(out.access_log, boolean(*v));
}

void builder::check_upstream_references(const config& out) {
  if (!upstreams_valid_) return; // the missing/invalid upstreams map is already reported
  std::string known;
  for (const auto& [upstream_name, u] : out.upstreams)
    known += (known.empty() ? "" : ", ") + upstream_name;
  for (const upstream_reference& ref : references_)
    if (out.upstreams.count(ref.name) == 0)
      fail(ref.at.pos, ref.at.path,
           "unknown upstream " + quote_text(ref.name) + " (defined: " + known + ")");
}

} // namespace

std::string load_error::text() const {
  std::string out = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

load_result load_string(std::string_view yaml, const std::string& file_name) {
  load_result result;
  builder b(file_name);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp words this one as "bad file".
    b.fail(position_of(e.mark), "", "the YAML nesting is too deep");
    result.errors = std::move(b.errors());
    return result;
  } catch (const YAML::Exception& e) {
    b.fail(position_of(e.mark), "", e.msg);
    result.errors = std::move(b.errors());
    return result;
  }
  if (documents.empty() || documents.front().IsNull()) {
    b.fail({}, "",
           "the file is empty (expected a map with version, listeners, upstreams and routes)");
    result.errors = std::move(b.errors());
    return result;
  }
  if (documents.size() > 1)
    b.fail(position_of(documents[1].Mark()), "", "only one YAML document is allowed");

  auto cfg = std::make_shared<config>();
  cfg->source_path = file_name;
  b.build(field{documents.front(), "", position_of(documents.front().Mark())}, *cfg);
  auto& errors = b.errors();
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const load_error& a, const load_error& c) {
      return a.line != c.line ? a.line < c.line : a.column < c.column;
    });
    result.errors = std::move(errors);
    return result;
  }
  result.cfg = std::move(cfg);
  return result;
}

load_result load_file(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    load_result result;
    result.errors.push_back(load_error{path, 1, 1, "", "cannot read file: it is a directory"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    load_result result;
    const int error = errno;
    result.errors.push_back(load_error{path, 1, 1, "",
                                       std::string("cannot read file: ") +
                                           (error != 0 ? std::strerror(error) : "open failed")});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    load_result result;
    result.errors.push_back(load_error{path, 1, 1, "", "cannot read file"});
    return result;
  }
  return load_string(text.str(), path);
}

} // namespace parallax::config
