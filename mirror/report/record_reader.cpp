#include "mirror/report/record_reader.hpp"

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <cstdint>
#include <utility>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::body_op;
using diff::difference_kind;

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
  const auto kind = diff::difference_kind_named(*kind_text);
  known = kind.has_value();
  if (!known) return true;
  d.kind = *kind;
  auto side = [&](std::string_view key) -> std::optional<json::value> {
    if (const auto* v = member(o, key)) return *v;
    return std::nullopt;
  };
  switch (d.kind) {
  case difference_kind::status:
  case difference_kind::grpc_status:
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
  case difference_kind::header:
  case difference_kind::trailer: {
    const auto* name = string_member(o, "name");
    if (name == nullptr) {
      error = std::string(to_string(d.kind)) + " difference without a \"name\"";
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
  // `differences`, and `noise` (the same form, present only when there is some).
  for (auto [name, into] :
       {std::pair{"differences", &r.differences}, std::pair{"noise", &r.noise}}) {
    const auto* member_value = member(*o, name);
    if (member_value == nullptr) continue;
    const auto* list = member_value->if_array();
    if (list == nullptr) {
      error = "\"" + std::string(name) + "\" is not an array";
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
      if (known) into->push_back(std::move(parsed));
    }
  }
  r.noise_suppressed = count(member(*o, "noise_suppressed")).value_or(0);
  if (const auto* t = o->if_contains("differences_coarsened"); t != nullptr && t->is_bool()) {
    r.differences_coarsened = t->get_bool();
  }
  return r;
}

} // namespace parallax::mirror::report
