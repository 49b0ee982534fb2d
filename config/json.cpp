// config -> JSON for the admin endpoint: the keys of config.md, secrets left out.

#include "config/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace parallax::config {
namespace {

namespace json = boost::json;

/// Placeholder for the value of a header named in reports.redact.headers.
constexpr const char* redacted = "[redacted]";

/// A number as JSON: integral values as integers (Boost.JSON writes 10.0 as "1E1").
json::value number(double value) {
  constexpr double exact_limit = 9007199254740992.0; // 2^53
  if (std::floor(value) == value && std::fabs(value) < exact_limit)
    return static_cast<std::int64_t>(value);
  return value;
}

json::array string_array(const std::vector<std::string>& values) {
  json::array out;
  out.reserve(values.size());
  for (const auto& value : values)
    out.emplace_back(value);
  return out;
}

json::value optional_string(const std::optional<std::string>& value) {
  if (value) return json::value(*value);
  return nullptr;
}

/// Header name -> value, with values of redacted header names replaced.
json::object header_values(const std::vector<std::pair<std::string, std::string>>& headers,
                           const redaction& redact) {
  json::object out;
  for (const auto& [name, value] : headers) {
    const bool secret =
        std::find(redact.headers.begin(), redact.headers.end(), name) != redact.headers.end();
    out[name] = secret ? json::value(redacted) : json::value(value);
  }
  return out;
}

json::object listener_json(const listener& l) {
  json::object out;
  out["name"] = l.name;
  out["address"] = l.addr.text();
  if (l.tls) {
    // `key` is deliberately absent: the private key path is a secret.
    out["tls"] = json::object{{"cert", l.tls->cert}, {"min_version", l.tls->min_version}};
  } else {
    out["tls"] = nullptr;
  }
  json::array protocols;
  for (const listener_protocol p : l.protocols)
    protocols.emplace_back(protocol_text(p));
  out["protocols"] = std::move(protocols);
  return out;
}

json::object limits_json(const limits& l) {
  return {{"max_connections", l.max_connections},
          {"max_request_header_bytes", l.max_request_header_bytes},
          {"max_request_headers", l.max_request_headers},
          {"max_request_body_bytes", l.max_request_body_bytes},
          {"header_timeout", duration_text(l.header_timeout)},
          {"idle_timeout", duration_text(l.idle_timeout)},
          {"client_io_timeout", duration_text(l.client_io_timeout)},
          {"drain_delay", duration_text(l.drain_delay)},
          {"drain_timeout", duration_text(l.drain_timeout)},
          {"http2",
           {{"max_concurrent_streams", l.http2.max_concurrent_streams},
            {"initial_stream_window", l.http2.initial_stream_window},
            {"initial_connection_window", l.http2.initial_connection_window},
            {"max_header_list_bytes", l.http2.max_header_list_bytes},
            {"max_resets_per_second", l.http2.max_resets_per_second},
            {"max_continuation_frames", l.http2.max_continuation_frames}}}};
}

json::object upstream_json(const upstream& u) {
  json::array endpoints;
  for (const auto& endpoint : u.endpoints)
    endpoints.emplace_back(endpoint.text());
  return {{"endpoints", std::move(endpoints)},
          {"resolve_interval", duration_text(u.resolve_interval)},
          {"tls",
           {{"enabled", u.tls.enabled},
            {"sni", u.tls.sni},
            {"ca", u.tls.ca},
            {"verify", u.tls.verify}}},
          {"connect_timeout", duration_text(u.connect_timeout)},
          {"request_timeout", duration_text(u.request_timeout)},
          {"io_timeout", duration_text(u.io_timeout)},
          {"max_idle_per_endpoint", u.max_idle_per_endpoint},
          {"max_connections_per_endpoint", u.max_connections_per_endpoint},
          {"protocol", protocol_text(u.protocol)},
          {"max_streams_per_connection", u.max_streams_per_connection}};
}

json::object match_json(const route_match& m, const redaction& redact) {
  return {{"path_prefix", optional_string(m.path_prefix)},
          {"path_exact", optional_string(m.path_exact)},
          {"methods", string_array(m.methods)},
          {"host", optional_string(m.host)},
          {"headers", header_values(m.headers, redact)}};
}

std::string sample_by_text(const sample_by& s) {
  switch (s.by) {
  case sample_by::kind::header: return "header:" + s.name;
  case sample_by::kind::cookie: return "cookie:" + s.name;
  case sample_by::kind::query: return "query:" + s.name;
  case sample_by::kind::random: break;
  }
  return "random";
}

json::object compare_json(const compare_policy& c) {
  json::object headers;
  if (c.headers.include_given) {
    headers["include"] = string_array(c.headers.include);
  } else {
    headers["ignore"] = string_array(c.headers.ignore);
  }
  return {{"status", c.status},
          {"headers", std::move(headers)},
          {"body",
           {{"enabled", c.body.enabled},
            {"max_bytes", c.body.max_bytes},
            {"ignore", string_array(c.body.ignore)},
            {"unordered_arrays", string_array(c.body.unordered_arrays)},
            {"numeric_tolerance", number(c.body.numeric_tolerance)},
            {"null_equals_missing", c.body.null_equals_missing}}},
          {"grpc", {{"descriptor_sets", string_array(c.grpc.descriptor_sets)}}},
          {"latency", {{"regression_ratio", number(c.latency.regression_ratio)}}}};
}

json::object mirror_json(const mirror_policy& m, const redaction& redact) {
  const rewrite_policy& r = m.rewrite;
  json::object rewrite{{"host", r.host},
                       {"path_prefix", {{"from", r.path_prefix.from}, {"to", r.path_prefix.to}}},
                       {"set_headers", header_values(r.set_headers, redact)},
                       {"remove_headers", string_array(r.remove_headers)}};
  return {{"upstream", m.upstream},
          {"percent", number(m.percent)},
          {"sample_by", sample_by_text(m.sample_by)},
          {"methods", string_array(m.methods)},
          {"max_rps", number(m.max_rps)},
          {"max_inflight", m.max_inflight},
          {"max_body_bytes", m.max_body_bytes},
          {"rewrite", std::move(rewrite)},
          {"secondary", m.secondary},
          {"grpc",
           {{"methods", string_array(m.grpc.methods)},
            {"streaming", m.grpc.streaming},
            {"max_messages", m.grpc.max_messages}}},
          {"compare", compare_json(m.compare)}};
}

json::object route_json(const route& r, const redaction& redact) {
  json::object out;
  out["name"] = r.name;
  out["match"] = match_json(r.match, redact);
  out["upstream"] = r.upstream;
  if (r.mirror) {
    out["mirror"] = mirror_json(*r.mirror, redact);
  } else {
    out["mirror"] = nullptr;
  }
  return out;
}

json::object reports_json(const reports& r) {
  const discrepancy_log& d = r.discrepancies;
  return {{"discrepancies",
           {{"path", d.path},
            {"max_file_bytes", d.max_file_bytes},
            {"keep_files", d.keep_files},
            {"include_matches", d.include_matches},
            {"max_body_excerpt_bytes", d.max_body_excerpt_bytes}}},
          {"summary", {{"path", r.summary.path}, {"interval", duration_text(r.summary.interval)}}},
          {"redact",
           {{"headers", string_array(r.redact.headers)},
            {"json_fields", string_array(r.redact.json_fields)},
            {"query_params", string_array(r.redact.query_params)}}},
          {"endpoints", string_array(r.endpoints)}};
}

const char* level_text(logging::level level) {
  switch (level) {
  case logging::level::trace: return "trace";
  case logging::level::debug: return "debug";
  case logging::level::info: break;
  case logging::level::warn: return "warn";
  case logging::level::error: return "error";
  }
  return "info";
}

} // namespace

json::value to_json(const config& cfg) {
  json::object root;
  root["version"] = cfg.version;
  json::array listeners;
  for (const auto& l : cfg.listeners)
    listeners.emplace_back(listener_json(l));
  root["listeners"] = std::move(listeners);
  // The token itself is never shown; only whether one is set.
  root["admin"] = json::object{{"address", cfg.admin.addr.text()},
                               {"token", cfg.admin.token.empty() ? "" : "[redacted]"}};
  if (cfg.workers == 0) {
    root["workers"] = "auto";
  } else {
    root["workers"] = cfg.workers;
  }
  root["limits"] = limits_json(cfg.limits);
  json::object upstreams;
  for (const auto& [name, u] : cfg.upstreams)
    upstreams[name] = upstream_json(u);
  root["upstreams"] = std::move(upstreams);
  json::array routes;
  for (const auto& r : cfg.routes)
    routes.emplace_back(route_json(r, cfg.reports.redact));
  root["routes"] = std::move(routes);
  root["reports"] = reports_json(cfg.reports);
  root["logging"] =
      json::object{{"level", level_text(cfg.logging.lvl)},
                   {"format", cfg.logging.fmt == logging::format::json ? "json" : "text"},
                   {"access_log", cfg.logging.access_log}};
  return root;
}

} // namespace parallax::config
