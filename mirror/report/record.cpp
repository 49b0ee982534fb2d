#include "mirror/report/record.hpp"

#include "mirror/report/format.hpp"
#include "mirror/report/redact.hpp"
#include "proxy/http/message.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::body_op;
using diff::difference_kind;

constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view ellipsis = "\xE2\x80\xA6"; // U+2026

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Latencies are written with microsecond precision: more digits are noise.
double round_latency(double ms) noexcept {
  const double rounded = std::round(ms * 1000.0) / 1000.0; // infinite also when ms * 1000 is
  return std::isfinite(rounded) ? rounded : 0.0;
}

// Per-thread id state: ids from one thread are strictly increasing within a millisecond.
struct id_state {
  std::mt19937_64 rng;
  std::uint64_t last_ms = 0;
  std::uint16_t random_high = 0; // top 16 of the 80 random bits
  std::uint64_t random_low = 0;  // low 64 of the 80 random bits

  id_state() {
    std::random_device device;
    std::seed_seq seed{
        device(), device(), device(), device(),
        static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id()))};
    rng.seed(seed);
  }
};

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

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

bool iequals_at(std::string_view text, std::size_t pos, std::string_view name) noexcept {
  if (pos + name.size() > text.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (lower(text[pos + i]) != lower(name[i])) return false;
  }
  return true;
}

// If a listed name starts at `pos` and is followed by a separator and a value, the value's
// [begin, end) in `line`.
std::optional<std::pair<std::size_t, std::size_t>>
secret_value_at(std::string_view line, std::size_t pos, const std::vector<std::string>& names) {
  if (pos > 0 && is_name_char(line[pos - 1])) return std::nullopt;
  for (const auto& name : names) {
    if (name.empty() || !iequals_at(line, pos, name)) continue;
    std::size_t i = pos + name.size();
    if (i < line.size() && is_name_char(line[i])) continue;
    if (i < line.size() && (line[i] == '"' || line[i] == '\'')) ++i;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i >= line.size() || (line[i] != ':' && line[i] != '=')) continue;
    const char separator = line[i++];
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i >= line.size()) continue;
    if (line[i] == '"' || line[i] == '\'') {
      const char quote = line[i];
      std::size_t end = i + 1;
      while (end < line.size() && line[end] != quote)
        end += line[end] == '\\' ? 2 : 1;
      return std::pair{i + 1, std::min(end, line.size())};
    }
    // Unquoted: `name=value` ends at whitespace too; `name: value` (a header line, a JSON
    // number) runs to a JSON delimiter, so `Cookie: a=1; b=2` is redacted whole.
    const std::string_view stops = separator == '=' ? "&,;}]) \t\r\n\"'<" : ",}]\r\n\"'<";
    std::size_t end = line.find_first_of(stops, i);
    if (end == std::string_view::npos) end = line.size();
    while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
      --end;
    if (end > i) return std::pair{i, end};
  }
  return std::nullopt;
}

// Writes one JSON document straight into a string: no tree, no per-node allocation. Keys are
// ASCII literals (written as they are); strings go through append_json_string and values
// through append_json, so the text is what Boost.JSON would write for the same tree.
class json_text {
public:
  explicit json_text(std::string& out) noexcept : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  json_text& key(std::string_view name) {
    separate();
    out_ += '"';
    out_ += name;
    out_ += "\":";
    fresh_ = true; // the value follows without a comma
    return *this;
  }
  void string(std::string_view text) {
    separate();
    append_json_string(out_, text);
    fresh_ = false;
  }
  // `text` excerpted to `max_bytes` (see excerpt()), copied only when it is cut.
  void excerpt(std::string_view text, std::uint64_t max_bytes) {
    if (text.size() <= max_bytes) {
      string(text);
    } else {
      string(report::excerpt(text, max_bytes));
    }
  }
  // A header name in lower case, as a value (a difference's `name`) or as a key.
  void lower_string(std::string_view name) {
    separate();
    append_lower(name);
    fresh_ = false;
  }
  json_text& lower_key(std::string_view name) {
    separate();
    append_lower(name);
    out_ += ':';
    fresh_ = true;
    return *this;
  }
  void number(std::uint64_t n) {
    separate();
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
    out_.append(buffer, ec == std::errc() ? end : buffer);
    fresh_ = false;
  }
  void null() {
    separate();
    out_ += "null";
    fresh_ = false;
  }
  void value(const json::value& v) {
    separate();
    append_json(out_, v);
    fresh_ = false;
  }

private:
  void separate() {
    if (!fresh_) out_ += ',';
  }
  void open(char bracket) {
    separate();
    out_ += bracket;
    fresh_ = true; // the first member or element follows without a comma
  }
  void close(char bracket) {
    out_ += bracket;
    fresh_ = false;
  }
  void append_lower(std::string_view name) {
    const auto start = static_cast<std::ptrdiff_t>(out_.size());
    append_json_string(out_, name); // lower-casing ASCII letters keeps the escaping valid
    std::transform(out_.begin() + start, out_.end(), out_.begin() + start, lower);
  }

  std::string& out_;
  bool fresh_ = true;
};

// A value as excerpt_json() would give it, written without copying strings and scalars.
void write_excerpt_json(json_text& w, const json::value& v,
                        const std::vector<std::string>& json_fields, std::uint64_t max_bytes) {
  if (const auto* s = v.if_string()) {
    w.excerpt(*s, max_bytes);
  } else if (!v.is_structured()) {
    w.value(v);
  } else {
    w.value(excerpt_json(v, json_fields, max_bytes));
  }
}

// The names a `body_text` line is redacted by: every configured kind of secret name.
std::vector<std::string> text_secret_names(const config::redaction& r) {
  std::vector<std::string> names = r.json_fields;
  names.insert(names.end(), r.query_params.begin(), r.query_params.end());
  names.insert(names.end(), r.headers.begin(), r.headers.end());
  return names;
}

void write_difference(json_text& w, const diff::difference& d, const config::reports& cfg,
                      std::optional<std::vector<std::string>>& text_names) {
  const auto max = cfg.discrepancies.max_body_excerpt_bytes;
  const auto& fields = cfg.redact.json_fields;
  const auto both_sides = [&](auto&& write_side) {
    if (d.live) write_side("live", *d.live);
    if (d.shadow) write_side("shadow", *d.shadow);
  };
  // Header and body values: "[redacted]" when the field is secret, else excerpted JSON.
  const auto both_values = [&](bool secret) {
    both_sides([&](std::string_view side, const json::value& v) {
      w.key(side);
      if (secret) {
        w.string(redacted_text);
      } else {
        write_excerpt_json(w, v, fields, max);
      }
    });
  };
  w.begin_object();
  w.key("kind").string(to_string(d.kind));
  switch (d.kind) {
  case difference_kind::status:
    both_sides([&](std::string_view side, const json::value& v) { w.key(side).value(v); });
    break;
  case difference_kind::header: {
    w.key("name").lower_string(d.name);
    both_values(is_redacted_name(d.name, cfg.redact.headers));
    break;
  }
  case difference_kind::body: {
    w.key("op").string(to_string(d.op));
    w.key("path").string(d.path);
    both_values(is_redacted_pointer(d.path, fields));
    break;
  }
  case difference_kind::body_text:
    w.key("line").number(d.line);
    if (!text_names) text_names = text_secret_names(cfg.redact);
    both_sides([&](std::string_view side, const json::value& v) {
      w.key(side);
      if (const auto* s = v.if_string()) {
        w.excerpt(redact_text_line(*s, *text_names), max);
      } else {
        write_excerpt_json(w, v, *text_names, max);
      }
    });
    break;
  case difference_kind::body_bytes:
    w.key("live_sha256");
    d.live ? w.value(*d.live) : w.null();
    w.key("shadow_sha256");
    d.shadow ? w.value(*d.shadow) : w.null();
    break;
  }
  w.end_object();
}

// For each header, the index of the next one with the same name (case-insensitive), or
// npos. Linear with a map for long lists: the client decides how many fields there are.
std::vector<std::size_t>
same_name_links(const std::vector<std::pair<std::string, std::string>>& headers) {
  constexpr auto none = std::string::npos;
  std::vector<std::size_t> next(headers.size(), none);
  if (headers.size() <= 16) {
    for (std::size_t i = 0; i < headers.size(); ++i) {
      for (std::size_t j = i + 1; j < headers.size(); ++j) {
        if (proxy::http::iequals(headers[i].first, headers[j].first)) {
          next[i] = j;
          break;
        }
      }
    }
    return next;
  }
  std::unordered_map<std::string, std::size_t> last; // lower-case name -> latest index
  for (std::size_t i = 0; i < headers.size(); ++i) {
    std::string key = headers[i].first;
    std::transform(key.begin(), key.end(), key.begin(), lower);
    const auto [it, inserted] = last.try_emplace(std::move(key), i);
    if (!inserted) next[std::exchange(it->second, i)] = i;
  }
  return next;
}

// Request headers as one object: lower-case names, repeated fields joined as one list value
// (RFC 9110 5.3) at the place of their first occurrence.
void write_request_headers(json_text& w,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const config::reports& cfg) {
  const auto max = cfg.discrepancies.max_body_excerpt_bytes;
  const auto next = same_name_links(headers);
  std::vector<bool> joined_earlier(headers.size(), false);
  w.begin_object();
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (joined_earlier[i]) continue;
    const std::string& name = headers[i].first; // clang 14 lambdas cannot capture a binding
    w.lower_key(name);
    const auto shown = [&](std::size_t k) {
      return redact_header(name, headers[k].second, cfg.redact.headers);
    };
    if (next[i] == std::string::npos) {
      w.excerpt(shown(i), max);
      continue;
    }
    std::string joined = excerpt(shown(i), max);
    for (std::size_t j = next[i]; j != std::string::npos; j = next[j]) {
      joined_earlier[j] = true;
      joined.append(", ");
      joined.append(excerpt(shown(j), max));
    }
    w.string(joined);
  }
  w.end_object();
}

// ---- reading records back ----

const json::value* member(const json::object& o, std::string_view key) noexcept {
  return o.if_contains(key);
}

std::optional<double> number(const json::value* v) noexcept {
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return std::nullopt;
}

/// A status code read back: a number from 0 to 999, else 0 (unknown); never cast out of range.
int status_code(const json::value* v) noexcept {
  const double n = number(v).value_or(0);
  return n >= 0 && n <= 999 ? static_cast<int>(n) : 0;
}

std::optional<std::uint64_t> count(const json::value* v) noexcept {
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return std::nullopt;
}

const json::string* string_member(const json::object& o, std::string_view key) noexcept {
  const auto* v = member(o, key);
  return v == nullptr ? nullptr : v->if_string();
}

std::optional<difference_kind> kind_from_string(std::string_view s) noexcept {
  for (auto k : {difference_kind::status, difference_kind::header, difference_kind::body,
                 difference_kind::body_text, difference_kind::body_bytes}) {
    if (to_string(k) == s) return k;
  }
  return std::nullopt;
}

std::optional<body_op> op_from_string(std::string_view s) noexcept {
  for (auto op : {body_op::add, body_op::remove, body_op::replace, body_op::type}) {
    if (to_string(op) == s) return op;
  }
  return std::nullopt;
}

// Fills `d` from a difference object; false (with `error`) when it is not one. Unknown kinds
// (from a later additive version) leave `known` false.
bool difference_from_json(const json::object& o, diff::difference& d, bool& known,
                          std::string& error) {
  const auto* kind_text = string_member(o, "kind");
  if (kind_text == nullptr) {
    error = "difference without a \"kind\"";
    return false;
  }
  const auto kind = kind_from_string(*kind_text);
  known = kind.has_value();
  if (!known) return true;
  d.kind = *kind;
  auto side = [&](std::string_view key) -> std::optional<json::value> {
    if (const auto* v = member(o, key)) return *v;
    return std::nullopt;
  };
  switch (d.kind) {
  case difference_kind::status:
  case difference_kind::body_text:
    d.live = side("live");
    d.shadow = side("shadow");
    if (d.kind == difference_kind::body_text) {
      const auto line = count(member(o, "line"));
      if (!line) {
        error = "body_text difference without a valid \"line\"";
        return false;
      }
      d.line = static_cast<std::size_t>(*line);
    }
    break;
  case difference_kind::header: {
    const auto* name = string_member(o, "name");
    if (name == nullptr) {
      error = "header difference without a \"name\"";
      return false;
    }
    d.name = std::string(*name);
    d.live = side("live");
    d.shadow = side("shadow");
    break;
  }
  case difference_kind::body: {
    const auto* op = string_member(o, "op");
    const auto* path = string_member(o, "path");
    const auto parsed_op = op == nullptr ? std::nullopt : op_from_string(*op);
    if (!parsed_op || path == nullptr) {
      error = "body difference without a valid \"op\" and \"path\"";
      return false;
    }
    d.op = *parsed_op;
    d.path = std::string(*path);
    d.live = side("live");
    d.shadow = side("shadow");
    break;
  }
  case difference_kind::body_bytes:
    d.live = side("live_sha256");
    d.shadow = side("shadow_sha256");
    break;
  }
  return true;
}

} // namespace

std::string_view to_string(outcome o) noexcept {
  switch (o) {
  case outcome::match: return "match";
  case outcome::differ: return "differ";
  case outcome::shadow_error: return "shadow_error";
  }
  return "match";
}

std::optional<outcome> outcome_from_string(std::string_view text) noexcept {
  for (auto o : {outcome::match, outcome::differ, outcome::shadow_error}) {
    if (to_string(o) == text) return o;
  }
  return std::nullopt;
}

std::string make_record_id(std::chrono::system_clock::time_point time) {
  thread_local id_state state;
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::uint64_t ms =
      since_epoch < 0 ? 0 : static_cast<std::uint64_t>(since_epoch) & 0xFFFFFFFFFFFFULL;
  if (ms == state.last_ms) {
    // Same millisecond: the next value of the 80-bit random part keeps the order.
    if (++state.random_low == 0) ++state.random_high;
  } else {
    state.last_ms = ms;
    state.random_low = state.rng();
    state.random_high = static_cast<std::uint16_t>(state.rng());
  }
  // 128 bits = high (48-bit time, 16 random bits) and low (64 random bits); 26 base32
  // characters hold 130 bits, so the first character carries only 3.
  std::uint64_t high = (ms << 16) | state.random_high;
  std::uint64_t low = state.random_low;
  std::string id(26, '0');
  for (std::size_t i = 26; i-- > 0;) {
    id[i] = crockford[low & 0x1F];
    low = (low >> 5) | ((high & 0x1F) << 59);
    high >>= 5;
  }
  return id;
}

bool is_record_id(std::string_view id) noexcept {
  if (id.size() != 26 || id.front() > '7') return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return crockford.find(c) != std::string_view::npos; });
}

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

std::string excerpt(std::string_view text, std::uint64_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  auto cut = static_cast<std::size_t>(max_bytes);
  // Back up over continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  std::string out;
  out.reserve(cut + ellipsis.size());
  out.append(text.substr(0, cut));
  out.append(ellipsis);
  return out;
}

json::value excerpt_json(const json::value& value, const std::vector<std::string>& json_fields,
                         std::uint64_t max_bytes) {
  if (const auto* s = value.if_string()) return json::string(excerpt(*s, max_bytes));
  if (!value.is_structured()) return value;
  json::value copy = value;
  redact_json(copy, json_fields);
  const std::string text = json::serialize(copy);
  if (text.size() <= max_bytes) return copy;
  return json::string(excerpt(text, max_bytes));
}

std::string redact_text_line(std::string_view line, const std::vector<std::string>& names) {
  std::string out;
  out.reserve(line.size());
  std::size_t i = 0;
  while (i < line.size()) {
    if (const auto value = secret_value_at(line, i, names)) {
      out.append(line.substr(i, value->first - i));
      out.append(redacted_text);
      i = value->second;
    } else {
      out.push_back(line[i++]);
    }
  }
  return out;
}

void append_json_line(std::string& out, const record& r, const config::reports& cfg) {
  const auto max = cfg.discrepancies.max_body_excerpt_bytes;
  json_text w(out);
  w.begin_object();
  w.key("schema").string(record_schema);
  w.key("time").string(format_time(r.time));
  w.key("id").string(r.id);
  w.key("route").string(r.route);
  w.key("endpoint").string(r.endpoint);
  w.key("outcome").string(to_string(r.outcome));

  w.key("request").begin_object();
  w.key("method").string(r.request.method);
  w.key("target").excerpt(redact_query(r.request.target, cfg.redact.query_params), max);
  w.key("headers");
  write_request_headers(w, r.request.headers, cfg);
  w.key("body_bytes").number(r.request.body_bytes);
  w.end_object();

  w.key("live").begin_object();
  w.key("status").value(json::value(r.live.status));
  w.key("latency_ms").value(json::value(round_latency(r.live.latency_ms)));
  w.key("body_bytes").number(r.live.body_bytes);
  w.key("body_sha256");
  r.live.body_sha256.empty() ? w.null() : w.string(r.live.body_sha256);
  w.end_object();

  w.key("shadow").begin_object();
  w.key("status");
  r.shadow.status == 0 ? w.null() : w.value(json::value(r.shadow.status));
  w.key("latency_ms").value(json::value(round_latency(r.shadow.latency_ms)));
  w.key("body_bytes").number(r.shadow.body_bytes);
  w.key("body_sha256");
  r.shadow.body_sha256.empty() ? w.null() : w.string(r.shadow.body_sha256);
  w.key("error");
  r.shadow.error ? w.string(*r.shadow.error) : w.null();
  w.end_object();

  std::optional<std::vector<std::string>> text_names; // made for the first body_text difference
  w.key("differences").begin_array();
  for (const auto& d : r.differences)
    write_difference(w, d, cfg, text_names);
  w.end_array();
  w.key("noise_suppressed").number(r.noise_suppressed);
  w.end_object();
}

json::object to_json(const record& r, const config::reports& cfg) {
  std::string line;
  append_json_line(line, r, cfg);
  return json::parse(line, {}, record_parse_options()).as_object();
}

json::parse_options record_parse_options() noexcept {
  json::parse_options options;
  options.allow_invalid_utf8 = true; // header values may carry obs-text, written as received
  return options;
}

std::optional<record> record_from_json(const json::value& value, std::string& error) {
  const auto* o = value.if_object();
  if (o == nullptr) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const auto* schema = string_member(*o, "schema");
  if (schema == nullptr || *schema != record_schema) {
    error = "not a " + std::string(record_schema) + " record (\"schema\")";
    return std::nullopt;
  }
  record r;
  const auto* time = string_member(*o, "time");
  const auto parsed_time = time == nullptr ? std::nullopt : parse_time(*time);
  if (!parsed_time) {
    error = "missing or invalid \"time\"";
    return std::nullopt;
  }
  r.time = *parsed_time;
  const auto* id = string_member(*o, "id");
  const auto* endpoint = string_member(*o, "endpoint");
  const auto* outcome_text = string_member(*o, "outcome");
  if (id == nullptr || endpoint == nullptr || outcome_text == nullptr) {
    error = "missing \"id\", \"endpoint\" or \"outcome\"";
    return std::nullopt;
  }
  const auto parsed_outcome = outcome_from_string(*outcome_text);
  if (!parsed_outcome) {
    error = "unknown outcome \"" + std::string(*outcome_text) + "\"";
    return std::nullopt;
  }
  r.id = std::string(*id);
  r.endpoint = std::string(*endpoint);
  r.outcome = *parsed_outcome;
  if (const auto* route = string_member(*o, "route")) r.route = std::string(*route);

  if (const auto* request = member(*o, "request"); request && request->is_object()) {
    const auto& q = request->get_object();
    if (const auto* m = string_member(q, "method")) r.request.method = std::string(*m);
    if (const auto* t = string_member(q, "target")) r.request.target = std::string(*t);
    if (const auto* h = member(q, "headers"); h && h->is_object()) {
      for (const auto& field : h->get_object()) {
        if (const auto* s = field.value().if_string()) {
          r.request.headers.emplace_back(std::string(field.key()), std::string(*s));
        }
      }
    }
    r.request.body_bytes = count(member(q, "body_bytes")).value_or(0);
  }
  if (const auto* live = member(*o, "live"); live && live->is_object()) {
    const auto& l = live->get_object();
    r.live.status = status_code(member(l, "status"));
    r.live.latency_ms = number(member(l, "latency_ms")).value_or(0);
    r.live.body_bytes = count(member(l, "body_bytes")).value_or(0);
    if (const auto* sha = string_member(l, "body_sha256")) r.live.body_sha256 = std::string(*sha);
  }
  if (const auto* shadow = member(*o, "shadow"); shadow && shadow->is_object()) {
    const auto& s = shadow->get_object();
    r.shadow.status = status_code(member(s, "status"));
    r.shadow.latency_ms = number(member(s, "latency_ms")).value_or(0);
    r.shadow.body_bytes = count(member(s, "body_bytes")).value_or(0);
    if (const auto* sha = string_member(s, "body_sha256")) {
      r.shadow.body_sha256 = std::string(*sha);
    }
    if (const auto* e = string_member(s, "error")) r.shadow.error = std::string(*e);
  }
  if (r.outcome == outcome::shadow_error && !r.shadow.error) {
    error = "shadow_error record without \"shadow.error\"";
    return std::nullopt;
  }
  if (const auto* differences = member(*o, "differences")) {
    const auto* list = differences->if_array();
    if (list == nullptr) {
      error = "\"differences\" is not an array";
      return std::nullopt;
    }
    for (const auto& item : *list) {
      const auto* d = item.if_object();
      if (d == nullptr) {
        error = "a difference is not an object";
        return std::nullopt;
      }
      diff::difference parsed;
      bool known = false;
      if (!difference_from_json(*d, parsed, known, error)) return std::nullopt;
      if (known) r.differences.push_back(std::move(parsed));
    }
  }
  r.noise_suppressed = count(member(*o, "noise_suppressed")).value_or(0);
  return r;
}

} // namespace parallax::mirror::report
