// The upstreams section of config.md: endpoints, timeouts, pools, TLS and protocol per upstream.

#include "config/schema_builder.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "config/value_grammar.hpp"

namespace parallax::config::detail {

void schema_builder::read_upstreams(const field& f, config& out) {
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

void schema_builder::read_upstream(const field& f, upstream& out) {
  section s(*this, f,
            {"endpoints", "resolve_interval", "tls", "connect_timeout", "request_timeout",
             "io_timeout", "max_idle_per_endpoint", "max_connections_per_endpoint", "protocol",
             "max_streams_per_connection"});
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
  if (auto v = s.get("protocol")) {
    static constexpr std::pair<std::string_view, upstream_protocol> names[] = {
        {"http1", upstream_protocol::http1},
        {"h2", upstream_protocol::h2},
        {"h2c", upstream_protocol::h2c}};
    if (auto p = choice(*v, names)) {
      out.protocol = *p;
      check_upstream_protocol(*v, out);
    }
  }
  // Accepted with http1 too (the contract's example does so), where it is ignored.
  constexpr std::int64_t max_streams = 2147483647; // stream ids are 31-bit
  if (auto v = s.get("max_streams_per_connection"))
    assign(out.max_streams_per_connection, integer(*v, 1, max_streams));
}

void schema_builder::check_upstream_protocol(const field& at, const upstream& u) {
  if (u.protocol == upstream_protocol::h2 && !u.tls.enabled)
    fail(at.pos, at.path,
         "h2 is HTTP/2 over TLS and needs tls.enabled: true (use h2c for HTTP/2 without TLS)");
  if (u.protocol == upstream_protocol::h2c && u.tls.enabled)
    fail(at.pos, at.path,
         "h2c is HTTP/2 without TLS but tls.enabled is true (use h2 for HTTP/2 over TLS)");
}

void schema_builder::read_upstream_tls(const field& f, upstream_tls& out) {
  section s(*this, f, {"enabled", "sni", "ca", "verify"});
  if (!s.valid()) return;
  if (auto v = s.get("enabled")) assign(out.enabled, boolean(*v));
  if (auto v = s.get("sni")) assign(out.sni, text(*v));
  if (auto v = s.get("ca")) assign(out.ca, text(*v));
  if (auto v = s.get("verify")) assign(out.verify, boolean(*v));
}

} // namespace parallax::config::detail
