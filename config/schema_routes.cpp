// The routes section of config.md: match conditions, and the mirror of each route with its
// sampling, rewrite, gRPC and compare rules.

#include "config/schema_builder.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "config/value_grammar.hpp"

namespace parallax::config::detail {

void schema_builder::read_routes(const field& f, config& out) {
  const auto items = elements(f, true);
  if (!items) return;
  std::map<std::string, int> seen; // name -> line of first use
  for (const field& item : *items) {
    route r;
    read_route(item, seen, r);
    out.routes.push_back(std::move(r));
  }
}

void schema_builder::read_route(const field& f, std::map<std::string, int>& seen, route& out) {
  section s(*this, f, {"name", "match", "upstream", "mirror"});
  if (!s.valid()) return;
  if (auto v = s.require("name")) {
    assign(out.name, unique_name(*v, seen, "route"));
    // The metrics count requests no route matches under this route label.
    if (out.name == "unmatched")
      fail(v->pos, v->path,
           "route name \"unmatched\" is reserved (the metrics label of requests no route matches)");
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

void schema_builder::read_match(const field& f, route_match& out) {
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
  if (auto v = s.get("methods")) assign(out.methods, methods(*v));
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

void schema_builder::read_header_values(const field& f,
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

void schema_builder::read_mirror(const field& f, const route& owner, mirror_policy& out) {
  section s(*this, f,
            {"upstream", "percent", "sample_by", "methods", "max_rps", "max_inflight",
             "max_body_bytes", "rewrite", "secondary", "grpc", "compare"});
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
  if (auto v = s.get("methods")) assign(out.methods, methods(*v));
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
  if (auto v = s.get("grpc")) read_grpc_mirror(*v, out.grpc);
  if (auto v = s.get("compare")) read_compare(*v, out.compare);
}

void schema_builder::read_grpc_mirror(const field& f, grpc_mirror& out) {
  section s(*this, f, {"methods", "streaming", "max_messages"});
  if (!s.valid()) return;
  const auto method = [&](const field& item) { return checked_text(item, check_grpc_method); };
  if (auto v = s.get("methods")) assign(out.methods, list(*v, false, method));
  if (auto v = s.get("streaming")) assign(out.streaming, boolean(*v));
  if (auto v = s.get("max_messages"))
    assign(out.max_messages, integer(*v, 1, std::numeric_limits<std::uint32_t>::max()));
}

std::optional<sample_by> schema_builder::read_sample_by(const field& f) {
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

void schema_builder::read_rewrite(const field& f, rewrite_policy& out) {
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
  if (auto v = s.get("remove_headers")) assign(out.remove_headers, header_names(*v));
}

void schema_builder::read_compare(const field& f, compare_policy& out) {
  section s(*this, f, {"status", "headers", "body", "grpc", "latency"});
  if (!s.valid()) return;
  if (auto v = s.get("status")) assign(out.status, boolean(*v));
  if (auto v = s.get("headers")) read_header_compare(*v, out.headers);
  if (auto v = s.get("body")) read_body_compare(*v, out.body);
  if (auto v = s.get("grpc")) {
    // Only the paths: the files are read when parallax starts or reloads, like TLS files.
    section g(*this, *v, {"descriptor_sets"});
    if (g.valid()) {
      if (auto sets = g.get("descriptor_sets")) {
        const auto path = [&](const field& item) { return non_empty_text(item); };
        assign(out.grpc.descriptor_sets, list(*sets, false, path));
      }
    }
  }
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

void schema_builder::read_header_compare(const field& f, header_compare& out) {
  section s(*this, f, {"ignore", "include"});
  if (!s.valid()) return;
  const auto ignore = s.get("ignore");
  const auto include = s.get("include");
  if (ignore && include) {
    fail(include->pos, include->path, "ignore and include cannot both be given");
    return;
  }
  if (ignore) assign(out.ignore, header_names(*ignore));
  if (include) {
    if (auto value = header_names(*include)) {
      out.include = *value;
      out.include_given = true;
      out.ignore.clear(); // only `include` applies; keep the struct unambiguous
    }
  }
}

void schema_builder::read_body_compare(const field& f, body_compare& out) {
  section s(*this, f,
            {"enabled", "max_bytes", "ignore", "unordered_arrays", "numeric_tolerance",
             "null_equals_missing"});
  if (!s.valid()) return;
  const auto pattern = [&](const field& item) { return checked_text(item, check_pointer_pattern); };
  if (auto v = s.get("enabled")) assign(out.enabled, boolean(*v));
  if (auto v = s.get("max_bytes")) assign(out.max_bytes, size(*v, 0));
  if (auto v = s.get("ignore")) assign(out.ignore, list(*v, false, pattern));
  if (auto v = s.get("unordered_arrays")) assign(out.unordered_arrays, list(*v, false, pattern));
  if (auto v = s.get("numeric_tolerance"))
    assign(out.numeric_tolerance, number(*v, 0, std::numeric_limits<double>::max()));
  if (auto v = s.get("null_equals_missing")) assign(out.null_equals_missing, boolean(*v));
}

} // namespace parallax::config::detail
