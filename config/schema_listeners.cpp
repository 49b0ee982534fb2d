// The listeners, admin, workers and limits sections of config.md (with limits.http2).

#include "config/schema_builder.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/value_grammar.hpp"

namespace parallax::config::detail {

void schema_builder::read_listeners(const field& f, config& out) {
  const auto items = elements(f, true);
  if (!items) return;
  std::map<std::string, int> seen; // name -> line of first use
  for (const field& item : *items) {
    section s(*this, item, {"name", "address", "tls", "protocols"});
    if (!s.valid()) continue;
    listener l;
    std::optional<field> address_field;
    if (auto v = s.require("name")) assign(l.name, unique_name(*v, seen, "listener"));
    if ((address_field = s.require("address"))) {
      if (auto v = host_port(*address_field, true)) {
        l.addr = *v;
      } else {
        address_field.reset();
      }
    }
    if (auto tls_field = s.get("tls")) l.tls = read_listener_tls(*tls_field);
    if (auto v = s.get("protocols")) assign(l.protocols, read_listener_protocols(*v));
    out.listeners.push_back(std::move(l));
    listener_address_fields_.push_back(address_field);
  }
}

std::optional<listener_tls> schema_builder::read_listener_tls(const field& f) {
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

std::optional<std::vector<listener_protocol>>
schema_builder::read_listener_protocols(const field& f) {
  static constexpr std::pair<std::string_view, listener_protocol> names[] = {
      {"http1", listener_protocol::http1}, {"h2", listener_protocol::h2}};
  const auto items = elements(f, true);
  if (!items) return std::nullopt;
  std::vector<listener_protocol> out;
  bool valid = true;
  for (const field& item : *items) {
    const auto p = choice(item, names);
    if (!p) {
      valid = false;
    } else if (std::find(out.begin(), out.end(), *p) != out.end()) {
      fail(item.pos, item.path, quote_text(protocol_text(*p)) + " is listed twice");
      valid = false;
    } else {
      out.push_back(*p);
    }
  }
  if (!valid) return std::nullopt;
  return out;
}

void schema_builder::read_admin(const field& f, config& out) {
  section s(*this, f, {"address", "token"});
  if (!s.valid()) return;
  if (auto v = s.get("token")) assign(out.admin.token, text(*v));
  if (auto v = s.get("address")) {
    if (auto parsed = host_port(*v, true)) {
      out.admin.addr = *parsed;
      admin_address_field_ = v;
    }
  }
}

void schema_builder::read_workers(const field& f, config& out) {
  constexpr std::int64_t max_workers = 1024;
  const auto value = scalar_text(f, "auto or an integer >= 1");
  if (!value) return;
  if (*value == "auto") {
    out.workers = 0;
    return;
  }
  assign(out.workers, integer_value(f, *value, 1, max_workers, "auto or an integer >= 1"));
}

void schema_builder::read_limits(const field& f, limits& out) {
  section s(*this, f,
            {"max_connections", "max_request_header_bytes", "max_request_headers",
             "max_request_body_bytes", "header_timeout", "idle_timeout", "client_io_timeout",
             "drain_delay", "drain_timeout", "http2"});
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
  if (auto v = s.get("drain_delay")) assign(out.drain_delay, time_span(*v, duration(0)));
  if (auto v = s.get("drain_timeout")) assign(out.drain_timeout, time_span(*v, duration(0)));
  if (auto v = s.get("http2")) read_http2_limits(*v, out.http2);
}

void schema_builder::read_http2_limits(const field& f, http2_limits& out) {
  section s(*this, f,
            {"max_concurrent_streams", "initial_stream_window", "initial_connection_window",
             "max_header_list_bytes", "max_resets_per_second", "max_continuation_frames"});
  if (!s.valid()) return;
  // RFC 9113: stream ids and flow-control windows are 31-bit; a connection window starts at
  // 65535 and can only grow (SETTINGS do not lower it). Envoy accepts the same ranges.
  constexpr std::int64_t max_31 = 2147483647;
  constexpr std::uint64_t default_window = 65535;
  constexpr std::int64_t max_u32 = std::numeric_limits<std::uint32_t>::max();
  if (auto v = s.get("max_concurrent_streams"))
    assign(out.max_concurrent_streams, integer(*v, 1, max_31));
  if (auto v = s.get("initial_stream_window"))
    assign(out.initial_stream_window, size(*v, default_window, max_31));
  if (auto v = s.get("initial_connection_window"))
    assign(out.initial_connection_window, size(*v, default_window, max_31));
  if (auto v = s.get("max_header_list_bytes"))
    assign(out.max_header_list_bytes, size(*v, 1, max_u32));
  if (auto v = s.get("max_resets_per_second"))
    assign(out.max_resets_per_second, integer(*v, 1, max_u32));
  if (auto v = s.get("max_continuation_frames"))
    assign(out.max_continuation_frames, integer(*v, 0, max_u32));
}

} // namespace parallax::config::detail
