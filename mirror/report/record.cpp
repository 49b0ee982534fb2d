#include "mirror/report/record.hpp"

#include "mirror/report/excerpt.hpp"
#include "mirror/report/json_text.hpp"
#include "mirror/report/record_reader.hpp"
#include "mirror/report/redact.hpp"
#include "proxy/http/ascii.hpp"

#include <boost/json/parse.hpp>

#include <unordered_map>
#include <utility>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::difference_kind;

// `text` excerpted to `max_bytes` (see excerpt()), copied only when it is cut.
void write_excerpt(json_text& w, std::string_view text, std::uint64_t max_bytes) {
  if (text.size() <= max_bytes) {
    w.string(text);
  } else {
    w.string(excerpt(text, max_bytes));
  }
}

// A value as excerpt_json() would give it, written without copying strings and scalars.
void write_excerpt_json(json_text& w, const json::value& v,
                        const std::vector<std::string>& json_fields, std::uint64_t max_bytes) {
  if (const auto* s = v.if_string()) {
    write_excerpt(w, *s, max_bytes);
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
  case difference_kind::grpc_status:
    both_sides([&](std::string_view side, const json::value& v) { w.key(side).value(v); });
    break;
  case difference_kind::header:
  case difference_kind::trailer: {
    w.key("name").lower_string(d.name);
    both_sides([&](std::string_view side, const json::value& v) {
      w.key(side);
      if (const auto* s = v.if_string()) {
        write_excerpt(w, redact_header(d.name, *s, cfg.redact), max);
      } else if (is_redacted_name(d.name, cfg.redact.headers)) { // only in a record read back
        w.string(redacted_text);
      } else {
        write_excerpt_json(w, v, fields, max);
      }
    });
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
        write_excerpt(w, redact_text_line(*s, *text_names), max);
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
    const auto [it, inserted] = last.try_emplace(proxy::http::to_lower_copy(headers[i].first), i);
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
      return redact_header(name, headers[k].second, cfg.redact);
    };
    if (next[i] == std::string::npos) {
      write_excerpt(w, shown(i), max);
      continue;
    }
    // The joined value is one string: it is excerpted as one (max_body_excerpt_bytes).
    std::string joined = shown(i);
    for (std::size_t j = next[i]; j != std::string::npos; j = next[j]) {
      joined_earlier[j] = true;
      joined.append(", ");
      joined.append(shown(j));
    }
    write_excerpt(w, joined, max);
  }
  w.end_object();
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
  w.key("target");
  write_excerpt(w, redact_query(r.request.target, cfg.redact.query_params), max);
  w.key("headers");
  write_request_headers(w, r.request.headers, cfg);
  w.key("body_bytes").number(r.request.body_bytes);
  w.end_object();

  w.key("live").begin_object();
  w.key("status").value(json::value(r.live.status));
  w.key("latency_ms").value(json::value(round_to(r.live.latency_ms, 1000)));
  w.key("body_bytes").number(r.live.body_bytes);
  w.key("body_sha256");
  r.live.body_sha256.empty() ? w.null() : w.string(r.live.body_sha256);
  w.end_object();

  w.key("shadow").begin_object();
  w.key("status");
  r.shadow.status == 0 ? w.null() : w.value(json::value(r.shadow.status));
  w.key("latency_ms").value(json::value(round_to(r.shadow.latency_ms, 1000)));
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
  if (!r.noise.empty()) {
    w.key("noise").begin_array();
    for (const auto& d : r.noise)
      write_difference(w, d, cfg, text_names);
    w.end_array();
  }
  w.key("noise_suppressed").number(r.noise_suppressed);
  if (r.differences_coarsened) w.key("differences_coarsened").value(boost::json::value(true));
  w.end_object();
}

} // namespace parallax::mirror::report

namespace parallax::mirror::report {

std::pair<std::optional<json::value>, std::optional<json::value>>
written_values(const diff::difference& d, const config::reports& cfg) {
  // Written by the record writer and read back: one place decides what a report may show.
  std::string text;
  json_text w(text);
  std::optional<std::vector<std::string>> text_names;
  write_difference(w, d, cfg, text_names);
  boost::system::error_code ec;
  const auto v = json::parse(text, ec, {}, record_parse_options());
  std::pair<std::optional<json::value>, std::optional<json::value>> out;
  if (ec || !v.is_object()) return out;
  const bool digests = d.kind == difference_kind::body_bytes;
  const auto side = [&](std::string_view key) -> std::optional<json::value> {
    const auto* x = v.get_object().if_contains(key);
    if (x == nullptr || (digests && x->is_null())) return std::nullopt;
    return *x;
  };
  out.first = side(digests ? "live_sha256" : "live");
  out.second = side(digests ? "shadow_sha256" : "shadow");
  return out;
}

} // namespace parallax::mirror::report
