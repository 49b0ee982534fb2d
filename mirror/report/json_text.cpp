#include "mirror/report/json_text.hpp"

#include "proxy/http/ascii.hpp"

#include <boost/json/serializer.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;

// What `sr` (reset to a string) writes: Boost.JSON's escaping, without the std::string and
// json::string that json::serialize() would allocate per call.
void append_serialized(std::string& out, json::serializer& sr) {
  char buf[512];
  while (!sr.done()) {
    const auto part = sr.read(buf, sizeof buf);
    out.append(part.data(), part.size());
  }
}

template <typename Integer>
void append_integer(std::string& out, Integer n) {
  char buffer[24]; // what Boost.JSON writes for integers: plain decimal
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

// A double in its shortest round-trip form; see append_json().
void append_json_double(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  // The shortest text that reads back as exactly `value` (std::to_chars round-trip guarantee).
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  const std::string_view text(buffer,
                              ec == std::errc() ? static_cast<std::size_t>(end - buffer) : 0);
  out += text;
  // Keep it a JSON number that reads back as a double ("2" would come back an integer).
  if (text.find_first_of(".eEn") == std::string_view::npos) out += ".0";
}

void write_json(std::string& out, const json::value& v, bool pretty, int indent) {
  const auto newline = [&](int level) {
    if (!pretty) return;
    out += '\n';
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  if (const auto* o = v.if_object()) {
    if (o->empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& [key, value] : *o) {
      if (!first) out += ',';
      first = false;
      newline(indent + 1);
      append_json_string(out, key);
      out += pretty ? ": " : ":";
      write_json(out, value, pretty, indent + 1);
    }
    newline(indent);
    out += '}';
  } else if (const auto* a = v.if_array()) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& value : *a) {
      if (!first) out += ',';
      first = false;
      newline(indent + 1);
      write_json(out, value, pretty, indent + 1);
    }
    newline(indent);
    out += ']';
  } else if (v.is_double()) {
    append_json_double(out, v.get_double());
  } else if (const auto* str = v.if_string()) {
    append_json_string(out, *str);
  } else if (v.is_int64()) {
    append_integer(out, v.get_int64());
  } else if (v.is_uint64()) {
    append_integer(out, v.get_uint64());
  } else if (v.is_bool()) {
    out += v.get_bool() ? "true" : "false";
  } else {
    out += "null";
  }
}

} // namespace

void append_json_string(std::string& out, std::string_view text) {
  // Boost.JSON escapes only '"', '\\' and control characters (below 0x20); a string without
  // them is written as it is, which is what it would write, without its per-call setup.
  const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\';
  });
  if (plain) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  thread_local json::serializer sr;
  sr.reset(json::string_view(text.data(), text.size()));
  append_serialized(out, sr);
}

void append_json(std::string& out, const json::value& value, bool pretty) {
  write_json(out, value, pretty, 0);
}

std::string serialize_json(const json::value& value, bool pretty) {
  std::string out;
  append_json(out, value, pretty);
  return out;
}

double round_to(double value, double scale) noexcept {
  const double rounded = std::round(value * scale) / scale; // infinite also when value * scale is
  return std::isfinite(rounded) ? rounded : 0.0;
}

// ---- json_text ----

json_text& json_text::key(std::string_view name) {
  separate();
  out_ += '"';
  out_ += name;
  out_ += "\":";
  fresh_ = true; // the value follows without a comma
  return *this;
}

json_text& json_text::lower_key(std::string_view name) {
  separate();
  append_lower_string(name);
  out_ += ':';
  fresh_ = true;
  return *this;
}

void json_text::string(std::string_view text) {
  separate();
  append_json_string(out_, text);
  fresh_ = false;
}

void json_text::lower_string(std::string_view text) {
  separate();
  append_lower_string(text);
  fresh_ = false;
}

void json_text::number(std::uint64_t n) {
  separate();
  append_integer(out_, n);
  fresh_ = false;
}

void json_text::null() {
  separate();
  out_ += "null";
  fresh_ = false;
}

void json_text::value(const json::value& v) {
  separate();
  append_json(out_, v);
  fresh_ = false;
}

void json_text::separate() {
  if (!fresh_) out_ += ',';
}

void json_text::open(char bracket) {
  separate();
  out_ += bracket;
  fresh_ = true; // the first member or element follows without a comma
}

void json_text::close(char bracket) {
  out_ += bracket;
  fresh_ = false;
}

void json_text::append_lower_string(std::string_view text) {
  const auto start = static_cast<std::ptrdiff_t>(out_.size());
  append_json_string(out_, text); // lower-casing ASCII letters keeps the escaping valid
  proxy::http::to_lower_in_place(out_.data() + start, out_.data() + out_.size());
}

} // namespace parallax::mirror::report
