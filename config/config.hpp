#pragma once
// Plain, immutable configuration structs (config.md). Built only by the loader (config/);
// everything else reads a shared `std::shared_ptr<const config>` snapshot so a reload can swap it
// without touching in-flight requests.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace parallax::config {

using duration = std::chrono::milliseconds;

inline constexpr std::uint64_t kib = 1024;
inline constexpr std::uint64_t mib = 1024 * kib;

/// "250ms", "5s", "2m", "1h": a duration in the largest unit that represents it exactly.
inline std::string duration_text(duration value) {
  const auto ms = value.count();
  if (ms == 0) return "0s";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

/// HOST:PORT as written (host without IPv6 brackets); port 0 lets the OS choose.
struct address {
  std::string host;
  std::uint16_t port = 0;
  /// "host:port", or "[v6]:port" for IPv6 literals.
  [[nodiscard]] std::string text() const {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
  }
  bool operator==(const address&) const = default;
};

/// What a listener accepts: HTTP/1.1, and HTTP/2 (by ALPN over TLS, by prior knowledge without).
enum class listener_protocol { http1, h2 };

/// How parallax speaks to an upstream: HTTP/1.1, HTTP/2 over TLS (ALPN), or h2c (prior knowledge).
enum class upstream_protocol { http1, h2, h2c };

/// The configuration name of a listener protocol ("http1", "h2").
inline const char* protocol_text(listener_protocol p) {
  return p == listener_protocol::h2 ? "h2" : "http1";
}

/// The configuration name of an upstream protocol ("http1", "h2", "h2c").
inline const char* protocol_text(upstream_protocol p) {
  switch (p) {
  case upstream_protocol::h2: return "h2";
  case upstream_protocol::h2c: return "h2c";
  case upstream_protocol::http1: break;
  }
  return "http1";
}

/// TLS termination on a listener.
struct listener_tls {
  std::string cert;                // PEM chain file
  std::string key;                 // PEM private key file (a secret: never exported)
  std::string min_version = "1.2"; // "1.2" | "1.3"
};

/// One downstream listening socket.
struct listener {
  std::string name;
  address addr;
  std::optional<listener_tls> tls;
  // Offered protocols in the order written; non-empty, no duplicates.
  std::vector<listener_protocol> protocols{listener_protocol::http1, listener_protocol::h2};
};

/// The admin HTTP listener.
struct admin {
  address addr{"127.0.0.1", 9901};
  // With a token, POST/DELETE admin requests need "Authorization: Bearer TOKEN"; without one
  // they are accepted from loopback peers only. Never shown by /config.
  std::string token;
};

/// Downstream HTTP/2 limits (flood and reset defences).
struct http2_limits {
  std::uint32_t max_concurrent_streams = 100;
  std::uint32_t initial_stream_window = 64 * kib;    // SETTINGS_INITIAL_WINDOW_SIZE
  std::uint32_t initial_connection_window = 1 * mib; // raised from 65535 by WINDOW_UPDATE
  std::uint32_t max_header_list_bytes = 64 * kib;    // beyond -> the stream is reset
  std::uint32_t max_resets_per_second = 33;          // rapid reset: beyond a burst -> GOAWAY
  std::uint32_t max_continuation_frames = 8;         // per header block

  bool operator==(const http2_limits&) const = default;
};

/// Downstream limits.
struct limits {
  std::uint64_t max_connections = 10000;
  std::uint64_t max_request_header_bytes = 64 * kib;
  std::uint64_t max_request_headers = 100;  // header fields in one request; beyond -> 431
  std::uint64_t max_request_body_bytes = 0; // 0 = unlimited
  duration header_timeout = std::chrono::seconds(10);
  duration idle_timeout = std::chrono::seconds(60);
  // A client that sends no body bytes or reads no response bytes this long mid-exchange.
  duration client_io_timeout = std::chrono::seconds(60);
  // SIGTERM: /readyz is 503 at once, the listeners keep accepting and serving this long (load
  // balancers and Kubernetes endpoints stop sending), then the drain starts.
  duration drain_delay = std::chrono::seconds(0);
  duration drain_timeout = std::chrono::seconds(15);
  http2_limits http2;
};

/// TLS towards an upstream.
struct upstream_tls {
  bool enabled = false;
  std::string sni; // empty: the endpoint's host
  std::string ca;  // empty: system store
  bool verify = true;

  bool operator==(const upstream_tls&) const = default;
};

/// A named group of endpoints requests are forwarded to.
struct upstream {
  std::string name;
  std::vector<address> endpoints;
  duration resolve_interval = std::chrono::seconds(30);
  upstream_tls tls;
  duration connect_timeout = std::chrono::seconds(1);
  duration request_timeout = std::chrono::seconds(30);
  // Longest pause in progress writing the request or reading the response body.
  duration io_timeout = std::chrono::seconds(30);
  std::uint32_t max_idle_per_endpoint = 64;
  std::uint32_t max_connections_per_endpoint = 0;        // 0 = unlimited
  upstream_protocol protocol = upstream_protocol::http1; // h2 needs tls.enabled, h2c forbids it
  std::uint32_t max_streams_per_connection = 100;        // h2/h2c only; ignored for http1

  bool operator==(const upstream&) const = default;
};

/// Conditions a request must meet for a route to apply (all given ones must hold).
struct route_match {
  std::optional<std::string> path_prefix;
  std::optional<std::string> path_exact;
  std::vector<std::string> methods;                         // empty: any (stored upper-case)
  std::optional<std::string> host;                          // exact, case-insensitive, port ignored
  std::vector<std::pair<std::string, std::string>> headers; // names lower-cased
};

/// How the sampler picks requests: random, or a stable hash of a request key.
struct sample_by {
  enum class kind { random, header, cookie, query };
  kind by = kind::random;
  std::string name; // header (lower-cased) / cookie / query parameter name
};

/// Leading path prefix replacement for shadow requests.
struct path_rewrite {
  std::string from;
  std::string to;
};

/// Changes applied to the shadow copy of a request.
struct rewrite_policy {
  std::string host; // empty: the original Host
  path_rewrite path_prefix;
  // A user-given map replaces this default entirely (so `set_headers: {}` removes the mark).
  std::vector<std::pair<std::string, std::string>> set_headers{{"x-parallax-shadow", "1"}};
  std::vector<std::string> remove_headers; // lower-cased
};

/// Header comparison: an ignore list (default) or an include list.
struct header_compare {
  std::vector<std::string> ignore{
      "date",          "server",         "x-request-id",      "set-cookie", "age",        "etag",
      "last-modified", "content-length", "transfer-encoding", "connection", "keep-alive", "via"};
  std::vector<std::string> include; // non-empty (or include_given): compare only these
  bool include_given = false;       // true when `include` was configured

  bool operator==(const header_compare&) const = default;
};

/// Body comparison options.
struct body_compare {
  bool enabled = true;
  std::uint64_t max_bytes = 1 * mib;
  std::vector<std::string> ignore;           // JSON Pointer patterns with * and **
  std::vector<std::string> unordered_arrays; // JSON Pointer patterns
  double numeric_tolerance = 0;
  bool null_equals_missing = false;

  bool operator==(const body_compare&) const = default;
};

/// Latency comparison options.
struct latency_compare {
  double regression_ratio = 0; // 0 = off

  bool operator==(const latency_compare&) const = default;
};

/// gRPC message comparison options.
struct grpc_compare {
  // FileDescriptorSet files, for parallax to read when it starts or reloads (the loader and
  // `parallax check` only check that the paths are not empty).
  std::vector<std::string> descriptor_sets;

  bool operator==(const grpc_compare&) const = default;
};

/// What is compared between live and shadow responses.
struct compare_policy {
  bool status = true;
  header_compare headers;
  body_compare body;
  grpc_compare grpc;
  latency_compare latency;

  bool operator==(const compare_policy&) const = default;
};

/// Which gRPC calls (content-type application/grpc*) are mirrored, and how much of them.
struct grpc_mirror {
  // "/pkg.Service/Method" or "/pkg.Service/*"; empty: methods whose descriptor says
  // NO_SIDE_EFFECTS or IDEMPOTENT (none without descriptor sets).
  std::vector<std::string> methods;
  bool streaming = false;           // also client-streaming and bidirectional calls
  std::uint32_t max_messages = 100; // shadow response messages captured per call

  bool operator==(const grpc_mirror&) const = default;
};

/// Shadowing of a route's traffic.
struct mirror_policy {
  std::string upstream;
  double percent = 0;
  struct sample_by sample_by;
  std::vector<std::string> methods{"GET", "HEAD", "OPTIONS"}; // upper-case
  double max_rps = 0;                                         // 0 = unlimited
  std::uint32_t max_inflight = 256;
  std::uint64_t max_body_bytes = 1 * mib;
  rewrite_policy rewrite;
  std::string secondary; // empty: none
  grpc_mirror grpc;
  compare_policy compare;
};

/// One routing rule; first match wins.
struct route {
  std::string name;
  route_match match;
  std::string upstream;
  std::optional<mirror_policy> mirror;
};

/// Discrepancy log output.
struct discrepancy_log {
  std::string path = "discrepancies.jsonl"; // "-" = stdout
  std::uint64_t max_file_bytes = 100 * mib;
  std::uint32_t keep_files = 5;
  bool include_matches = false;
  std::uint64_t max_body_excerpt_bytes = 2 * kib;

  bool operator==(const discrepancy_log&) const = default;
};

/// Periodic summary file.
struct summary_output {
  std::string path; // empty: none
  duration interval = std::chrono::seconds(30);

  bool operator==(const summary_output&) const = default;
};

/// Values never written anywhere in clear (names lower-cased).
struct redaction {
  std::vector<std::string> headers{"authorization", "cookie", "set-cookie", "proxy-authorization"};
  std::vector<std::string> json_fields{"password", "token", "secret", "access_token",
                                       "refresh_token"};
  std::vector<std::string> query_params{"token", "access_token", "api_key"};

  bool operator==(const redaction&) const = default;
};

/// Report outputs.
struct reports {
  discrepancy_log discrepancies;
  summary_output summary;
  redaction redact;
  std::vector<std::string> endpoints; // templates like /api/users/{id}

  bool operator==(const reports&) const = default;
};

/// Process logging.
struct logging {
  enum class level { trace, debug, info, warn, error };
  enum class format { text, json };
  level lvl = level::info;
  format fmt = format::text;
  bool access_log = false;

  bool operator==(const logging&) const = default;
};

/// A whole validated configuration file.
struct config {
  std::string source_path; // the file it was loaded from (for reload and messages)
  int version = 1;
  std::vector<listener> listeners;
  struct admin admin;
  unsigned workers = 0; // 0 = auto (number of CPU cores)
  struct limits limits;
  std::map<std::string, upstream> upstreams; // name -> upstream (name also inside)
  std::vector<route> routes;
  struct reports reports;
  struct logging logging;
};

} // namespace parallax::config
