// The complete example of config.md, verbatim: every key of the contract with its default
// (or a documented value) loads, and the keys of HTTP/2 and gRPC keep their defaults.

#include "config/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test/config/loader_fixture.hpp"

namespace parallax::config {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

/// The complete example of config.md, verbatim.
const std::string contract_example =
    R"(version: 1                       # required; only 1 is accepted

listeners:                       # required, at least one
  - name: public                 # required, unique
    address: 0.0.0.0:8080        # required
    tls:                         # optional: terminate TLS on this listener
      cert: /etc/parallax/tls.crt   # PEM chain
      key: /etc/parallax/tls.key    # PEM private key
      min_version: "1.2"         # "1.2" | "1.3"
    protocols: [http1, h2]       # with tls: offered by ALPN; without: h2 = h2c prior knowledge
                                 #   (detected by the connection preface); default shown

admin:
  address: 127.0.0.1:9901        # default; admin is loopback-only unless set otherwise
  token: ""                      # e.g. "${PARALLAX_ADMIN_TOKEN}". Set: POST/DELETE admin requests
                                 #   need "Authorization: Bearer TOKEN" (else 401). Empty: they are
                                 #   accepted only from loopback peers (else 403). GETs are open.

workers: auto                    # I/O threads; auto = number of CPU cores; or an integer >= 1

limits:
  max_connections: 10000         # downstream connections across all workers
  max_request_header_bytes: 64KiB   # request line + headers; beyond -> 431
  max_request_headers: 100       # header fields in one request; beyond -> 431
  max_request_body_bytes: 0      # 0 = unlimited (streamed); beyond -> 413
  header_timeout: 10s            # time to receive a complete request head; beyond -> 408 and close
  idle_timeout: 60s              # keep-alive idle time before the connection is closed
  client_io_timeout: 60s         # a client that sends no body bytes or reads no response bytes
                                 #   for this long mid-exchange is disconnected
  drain_delay: 0s                # on SIGTERM: /readyz turns 503 at once, but listeners keep
                                 #   accepting and serving this long (Kubernetes: ~5s) ...
  drain_timeout: 15s             # ... then they close; in-flight requests get this long to finish
  http2:                         # downstream HTTP/2 limits (flood and reset defences)
    max_concurrent_streams: 100
    initial_stream_window: 64KiB
    initial_connection_window: 1MiB
    max_header_list_bytes: 64KiB    # beyond -> the stream is reset (431 semantics)
    max_resets_per_second: 33       # rapid reset (CVE-2023-44487): beyond a burst of 1000 ->
                                    #   GOAWAY ENHANCE_YOUR_CALM and close
    max_continuation_frames: 8

upstreams:                       # required; map of name -> upstream
  live:
    endpoints: ["127.0.0.1:9001"]   # required, host:port; DNS names are re-resolved
    resolve_interval: 30s
    tls:                         # optional: speak TLS to the upstream
      enabled: false
      sni: ""                    # default: the endpoint's host
      ca: ""                     # PEM bundle; default: system store
      verify: true
    connect_timeout: 1s          # DNS resolution included
    request_timeout: 30s         # from request sent to response head received; beyond -> 504
    io_timeout: 30s              # longest pause in progress while writing the request (head or
                                 #   body) or reading the response body; beyond: 504 before a
                                 #   response head, a closed client connection after one
    max_idle_per_endpoint: 64    # pooled keep-alive connections per endpoint per worker
    max_connections_per_endpoint: 0   # 0 = unlimited
    protocol: http1              # http1 | h2 (over tls: ALPN must agree) | h2c (prior knowledge)
    max_streams_per_connection: 100   # h2/h2c: also capped by the peer's SETTINGS
  preview:
    endpoints: ["preview.default.svc.cluster.local:80"]
    request_timeout: 5s

routes:                          # required; first match wins
  - name: api                    # required, unique; used as a metric label
    match:                       # all given conditions must hold; an empty match matches all
      path_prefix: /api/         # or path_exact: /health  (one of the two at most)
      methods: [GET, POST]       # default: any
      host: shop.example.com     # exact Host (port ignored); default: any
      headers: { x-canary: "1" } # exact, case-insensitive names; default: none
    upstream: live               # required: an upstream name
    mirror:                      # optional: shadow a sample of this route's traffic
      upstream: preview          # required: an upstream name
      percent: 10                # required: 0..100, decimals allowed (0.5 = one in 200)
      sample_by: random          # random | header:NAME | cookie:NAME | query:NAME
                                 #   keyed sampling is deterministic: the same key is always
                                 #   in or always out, on every replica; no key -> random
      methods: [GET, HEAD, OPTIONS]   # default: safe methods only; writes must be opted in
      max_rps: 0                 # 0 = unlimited; otherwise a token bucket per process
      max_inflight: 256          # shadow requests in flight per process; beyond -> skipped (saturated)
      max_body_bytes: 1MiB       # request bodies larger than this are not mirrored (body_too_large)
      rewrite:
        host: ""                 # Host header sent to the shadow; default: the original Host
        path_prefix: { from: "", to: "" }   # replace a leading path prefix
        set_headers: { x-parallax-shadow: "1" }   # default shown: shadows are marked
        remove_headers: []       # e.g. [authorization, cookie]
      secondary: ""              # optional upstream name: a second copy of the LIVE version;
                                 #   differences live-vs-secondary are noise (Diffy-style)
      grpc:                      # gRPC requests (content-type application/grpc*)
        methods: []              # mirrored methods, "/pkg.Service/Method" or "/pkg.Service/*";
                                 #   empty: methods whose descriptor says NO_SIDE_EFFECTS or
                                 #   IDEMPOTENT (else none). Unary and server-streaming only,
                                 #   unless streaming: true
        streaming: false         # also client-streaming and bidirectional calls
        max_messages: 100        # shadow response messages captured per call (then cancelled)
      compare:
        status: true
        headers:
          ignore: [date, server, x-request-id, set-cookie, age, etag, last-modified,
                   content-length, transfer-encoding, connection, keep-alive, via]   # default list
          # or: include: [content-type, cache-control]   (compare only these)
        body:
          enabled: true
          max_bytes: 1MiB        # responses larger than this are compared by size and SHA-256 only
          ignore: []             # JSON Pointer patterns: /meta/time, /items/*/id, /**/trace_id
          unordered_arrays: []   # JSON Pointer patterns of arrays compared as multisets
          numeric_tolerance: 0   # absolute tolerance for numbers
          null_equals_missing: false
        grpc:
          descriptor_sets: []    # FileDescriptorSet files (protoc --descriptor_set_out
                                 #   --include_imports): messages are compared as JSON with
                                 #   field names; without one, by field number
        latency:
          regression_ratio: 0    # 0 = off; e.g. 1.5: flag endpoints whose shadow p99 > 1.5 x live p99

reports:
  discrepancies:
    path: discrepancies.jsonl    # "-" = stdout; relative paths are relative to the working directory
    max_file_bytes: 100MiB       # rotate: path.1, path.2, ...
    keep_files: 5
    include_matches: false       # also write a record for exchanges that matched
    max_body_excerpt_bytes: 2KiB # per value excerpt in a record
  summary:
    path: ""                     # optional file, rewritten every interval and at shutdown
    interval: 30s
  redact:
    headers: [authorization, cookie, set-cookie, proxy-authorization]
    json_fields: [password, token, secret, access_token, refresh_token]   # any depth, case-insensitive
    query_params: [token, access_token, api_key]
  endpoints: []                  # optional templates, e.g. "/api/users/{id}/orders/{order}";
                                 #   otherwise id-like path segments become {id} automatically

logging:
  level: info                    # trace | debug | info | warn | error
  format: text                   # text | json
  access_log: false              # one line per proxied request
)";

TEST(ConfigContractExampleTest, ParsesVerbatim) {
  const auto result = load(contract_example);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  const config& c = *result.cfg;
  ASSERT_EQ(c.listeners.size(), 1u);
  ASSERT_TRUE(c.listeners[0].tls);
  EXPECT_EQ(c.listeners[0].tls->min_version, "1.2");
  EXPECT_THAT(c.listeners[0].protocols,
              ElementsAre(listener_protocol::http1, listener_protocol::h2));
  EXPECT_EQ(c.admin.token, "");
  EXPECT_EQ(c.workers, 0u);
  EXPECT_EQ(c.limits.max_request_headers, 100u);
  EXPECT_EQ(c.limits.client_io_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c.limits.drain_delay, std::chrono::seconds(0));
  EXPECT_EQ(c.limits.http2, http2_limits{});
  EXPECT_EQ(c.upstreams.at("live").protocol, upstream_protocol::http1);
  EXPECT_EQ(c.upstreams.at("live").max_streams_per_connection, 100u);
  EXPECT_EQ(c.upstreams.at("live").io_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.upstreams.at("preview").request_timeout, std::chrono::seconds(5));
  ASSERT_EQ(c.routes.size(), 1u);
  const route& api = c.routes[0];
  EXPECT_EQ(api.match.path_prefix, "/api/");
  EXPECT_THAT(api.match.methods, ElementsAre("GET", "POST"));
  EXPECT_EQ(api.match.host, "shop.example.com");
  EXPECT_THAT(api.match.headers, ElementsAre(Pair("x-canary", "1")));
  ASSERT_TRUE(api.mirror);
  EXPECT_EQ(api.mirror->percent, 10);
  EXPECT_EQ(api.mirror->sample_by.by, sample_by::kind::random);
  EXPECT_THAT(api.mirror->rewrite.set_headers, ElementsAre(Pair("x-parallax-shadow", "1")));
  EXPECT_EQ(api.mirror->secondary, "");
  EXPECT_EQ(api.mirror->grpc, grpc_mirror{});
  EXPECT_EQ(api.mirror->compare.headers.ignore.size(), 12u);
  EXPECT_EQ(api.mirror->compare.grpc, grpc_compare{});
  EXPECT_EQ(c.reports.discrepancies.max_file_bytes, 100u * 1024 * 1024);
  EXPECT_EQ(c.logging.lvl, logging::level::info);
}

} // namespace
} // namespace parallax::config
