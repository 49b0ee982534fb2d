// Tests of the YAML loader: defaults, the complete example of config.md, and one test per
// class of error with its exact "FILE:LINE:COL: key.path: message" text.

#include "config/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "test/config/loader_fixture.hpp"

namespace parallax::config {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(ConfigLoaderTest, MinimalFileHasDocumentedDefaults) {
  const auto result = load(head + minimal_routes);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  const config& c = *result.cfg;
  EXPECT_EQ(c.source_path, "parallax.yaml");
  EXPECT_EQ(c.version, 1);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name, "public");
  EXPECT_EQ(c.listeners[0].addr, (address{"127.0.0.1", 8080}));
  EXPECT_FALSE(c.listeners[0].tls);
  EXPECT_EQ(c.admin.addr, (address{"127.0.0.1", 9901}));
  EXPECT_EQ(c.workers, 0u);

  EXPECT_EQ(c.limits.max_connections, 10000u);
  EXPECT_EQ(c.limits.max_request_header_bytes, 64u * 1024);
  EXPECT_EQ(c.limits.max_request_headers, 100u);
  EXPECT_EQ(c.limits.max_request_body_bytes, 0u);
  EXPECT_EQ(c.limits.header_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.limits.idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c.limits.client_io_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c.limits.drain_delay, std::chrono::seconds(0));
  EXPECT_EQ(c.limits.drain_timeout, std::chrono::seconds(15));

  ASSERT_EQ(c.upstreams.size(), 2u);
  const upstream& live = c.upstreams.at("live");
  EXPECT_EQ(live.name, "live");
  EXPECT_THAT(live.endpoints, ElementsAre(address{"127.0.0.1", 9001}));
  EXPECT_EQ(live.resolve_interval, std::chrono::seconds(30));
  EXPECT_FALSE(live.tls.enabled);
  EXPECT_EQ(live.tls.sni, "");
  EXPECT_EQ(live.tls.ca, "");
  EXPECT_TRUE(live.tls.verify);
  EXPECT_EQ(live.connect_timeout, std::chrono::seconds(1));
  EXPECT_EQ(live.request_timeout, std::chrono::seconds(30));
  EXPECT_EQ(live.io_timeout, std::chrono::seconds(30));
  EXPECT_EQ(live.max_idle_per_endpoint, 64u);
  EXPECT_EQ(live.max_connections_per_endpoint, 0u);
  EXPECT_EQ(c.upstreams.at("preview").name, "preview");

  ASSERT_EQ(c.routes.size(), 1u);
  const route& r = c.routes[0];
  EXPECT_EQ(r.name, "all");
  EXPECT_EQ(r.upstream, "live");
  EXPECT_FALSE(r.match.path_prefix);
  EXPECT_FALSE(r.match.path_exact);
  EXPECT_TRUE(r.match.methods.empty());
  EXPECT_FALSE(r.match.host);
  EXPECT_TRUE(r.match.headers.empty());
  ASSERT_TRUE(r.mirror);
  const mirror_policy& m = *r.mirror;
  EXPECT_EQ(m.upstream, "preview");
  EXPECT_EQ(m.percent, 10);
  EXPECT_EQ(m.sample_by.by, sample_by::kind::random);
  EXPECT_THAT(m.methods, ElementsAre("GET", "HEAD", "OPTIONS"));
  EXPECT_EQ(m.max_rps, 0);
  EXPECT_EQ(m.max_inflight, 256u);
  EXPECT_EQ(m.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(m.rewrite.host, "");
  EXPECT_EQ(m.rewrite.path_prefix.from, "");
  EXPECT_EQ(m.rewrite.path_prefix.to, "");
  EXPECT_THAT(m.rewrite.set_headers, ElementsAre(Pair("x-parallax-shadow", "1")));
  EXPECT_TRUE(m.rewrite.remove_headers.empty());
  EXPECT_EQ(m.secondary, "");
  EXPECT_TRUE(m.compare.status);
  EXPECT_THAT(m.compare.headers.ignore,
              ElementsAre("date", "server", "x-request-id", "set-cookie", "age", "etag",
                          "last-modified", "content-length", "transfer-encoding", "connection",
                          "keep-alive", "via"));
  EXPECT_TRUE(m.compare.headers.include.empty());
  EXPECT_FALSE(m.compare.headers.include_given);
  EXPECT_TRUE(m.compare.body.enabled);
  EXPECT_EQ(m.compare.body.max_bytes, 1024u * 1024);
  EXPECT_TRUE(m.compare.body.ignore.empty());
  EXPECT_TRUE(m.compare.body.unordered_arrays.empty());
  EXPECT_EQ(m.compare.body.numeric_tolerance, 0);
  EXPECT_FALSE(m.compare.body.null_equals_missing);
  EXPECT_EQ(m.compare.latency.regression_ratio, 0);

  EXPECT_EQ(c.reports.discrepancies.path, "discrepancies.jsonl");
  EXPECT_EQ(c.reports.discrepancies.max_file_bytes, 100u * 1024 * 1024);
  EXPECT_EQ(c.reports.discrepancies.keep_files, 5u);
  EXPECT_FALSE(c.reports.discrepancies.include_matches);
  EXPECT_EQ(c.reports.discrepancies.max_body_excerpt_bytes, 2u * 1024);
  EXPECT_EQ(c.reports.summary.path, "");
  EXPECT_EQ(c.reports.summary.interval, std::chrono::seconds(30));
  EXPECT_THAT(c.reports.redact.headers,
              ElementsAre("authorization", "cookie", "set-cookie", "proxy-authorization"));
  EXPECT_THAT(c.reports.redact.json_fields,
              ElementsAre("password", "token", "secret", "access_token", "refresh_token"));
  EXPECT_THAT(c.reports.redact.query_params, ElementsAre("token", "access_token", "api_key"));
  EXPECT_TRUE(c.reports.endpoints.empty());

  EXPECT_EQ(c.logging.lvl, logging::level::info);
  EXPECT_EQ(c.logging.fmt, logging::format::text);
  EXPECT_FALSE(c.logging.access_log);
}

/// The complete example of config.md, with a few values changed from their defaults so
/// that every key is seen to be read.
const std::string complete_example =
    R"(version: 1                       # required; only 1 is accepted

listeners:                       # required, at least one
  - name: public                 # required, unique
    address: 0.0.0.0:8080        # required
    tls:                         # optional: terminate TLS on this listener
      cert: /etc/parallax/tls.crt   # PEM chain
      key: /etc/parallax/tls.key    # PEM private key
      min_version: "1.3"         # "1.2" | "1.3"

admin:
  address: 127.0.0.1:9902

workers: 4

limits:
  max_connections: 5000
  max_request_header_bytes: 32KiB
  max_request_headers: 40
  max_request_body_bytes: 10MiB
  header_timeout: 5s
  idle_timeout: 2m
  client_io_timeout: 20s
  drain_delay: 2500ms
  drain_timeout: 250ms

upstreams:
  live:
    endpoints: ["127.0.0.1:9001"]
    resolve_interval: 1h
    tls:
      enabled: true
      sni: live.internal
      ca: /etc/ca.pem
      verify: false
    connect_timeout: 1500ms
    request_timeout: 1.5s
    io_timeout: 7s
    max_idle_per_endpoint: 8
    max_connections_per_endpoint: 100
  preview:
    endpoints: ["preview.default.svc.cluster.local:80"]
    request_timeout: 5s
  baseline:
    endpoints: ["[::1]:9003"]

routes:
  - name: api
    match:
      path_prefix: /api/
      methods: [GET, post]
      host: Shop.Example.com
      headers: { X-Canary: "1" }
    upstream: live
    mirror:
      upstream: preview
      percent: 0.5
      sample_by: header:X-User
      methods: [GET, HEAD, OPTIONS, POST]
      max_rps: 12.5
      max_inflight: 32
      max_body_bytes: 512KiB
      rewrite:
        host: preview.internal
        path_prefix: { from: /api/, to: /v2/api/ }
        set_headers: { X-Parallax-Shadow: "yes", x-env: staging }
        remove_headers: [Authorization, cookie]
      secondary: baseline
      compare:
        status: false
        headers:
          ignore: [date, Server]
        body:
          enabled: false
          max_bytes: 2MiB
          ignore: [/meta/time, /items/*/id, /**/trace_id]
          unordered_arrays: [/items]
          numeric_tolerance: 0.01
          null_equals_missing: true
        latency:
          regression_ratio: 1.5
  - name: health
    match: { path_exact: /health }
    upstream: live

reports:
  discrepancies:
    path: "-"
    max_file_bytes: 10MiB
    keep_files: 3
    include_matches: true
    max_body_excerpt_bytes: 512
  summary:
    path: summary.json
    interval: 10s
  redact:
    headers: [Authorization, x-api-key]
    json_fields: [Password]
    query_params: [sig]
  endpoints: ["/api/users/{id}/orders/{order}"]

logging:
  level: debug
  format: json
  access_log: true
)";

TEST(ConfigLoaderTest, CompleteExampleParsesEveryValue) {
  const auto result = load(complete_example);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  const config& c = *result.cfg;
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].addr, (address{"0.0.0.0", 8080}));
  ASSERT_TRUE(c.listeners[0].tls);
  EXPECT_EQ(c.listeners[0].tls->cert, "/etc/parallax/tls.crt");
  EXPECT_EQ(c.listeners[0].tls->key, "/etc/parallax/tls.key");
  EXPECT_EQ(c.listeners[0].tls->min_version, "1.3");
  EXPECT_EQ(c.admin.addr, (address{"127.0.0.1", 9902}));
  EXPECT_EQ(c.workers, 4u);

  EXPECT_EQ(c.limits.max_connections, 5000u);
  EXPECT_EQ(c.limits.max_request_header_bytes, 32u * 1024);
  EXPECT_EQ(c.limits.max_request_headers, 40u);
  EXPECT_EQ(c.limits.client_io_timeout, std::chrono::seconds(20));
  EXPECT_EQ(c.limits.max_request_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(c.limits.header_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.limits.idle_timeout, std::chrono::minutes(2));
  EXPECT_EQ(c.limits.drain_delay, std::chrono::milliseconds(2500));
  EXPECT_EQ(c.limits.drain_timeout, std::chrono::milliseconds(250));

  ASSERT_EQ(c.upstreams.size(), 3u);
  const upstream& live = c.upstreams.at("live");
  EXPECT_EQ(live.resolve_interval, std::chrono::hours(1));
  EXPECT_TRUE(live.tls.enabled);
  EXPECT_EQ(live.tls.sni, "live.internal");
  EXPECT_EQ(live.tls.ca, "/etc/ca.pem");
  EXPECT_FALSE(live.tls.verify);
  EXPECT_EQ(live.connect_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(live.request_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(live.io_timeout, std::chrono::seconds(7));
  EXPECT_EQ(live.max_idle_per_endpoint, 8u);
  EXPECT_EQ(live.max_connections_per_endpoint, 100u);
  const upstream& preview = c.upstreams.at("preview");
  EXPECT_THAT(preview.endpoints, ElementsAre(address{"preview.default.svc.cluster.local", 80}));
  EXPECT_EQ(preview.request_timeout, std::chrono::seconds(5));
  EXPECT_THAT(c.upstreams.at("baseline").endpoints, ElementsAre(address{"::1", 9003}));

  ASSERT_EQ(c.routes.size(), 2u);
  const route& api = c.routes[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.match.path_prefix, "/api/");
  EXPECT_THAT(api.match.methods, ElementsAre("GET", "POST"));
  EXPECT_EQ(api.match.host, "shop.example.com");
  EXPECT_THAT(api.match.headers, ElementsAre(Pair("x-canary", "1")));
  EXPECT_EQ(api.upstream, "live");
  ASSERT_TRUE(api.mirror);
  const mirror_policy& m = *api.mirror;
  EXPECT_EQ(m.upstream, "preview");
  EXPECT_DOUBLE_EQ(m.percent, 0.5);
  EXPECT_EQ(m.sample_by.by, sample_by::kind::header);
  EXPECT_EQ(m.sample_by.name, "x-user");
  EXPECT_THAT(m.methods, ElementsAre("GET", "HEAD", "OPTIONS", "POST"));
  EXPECT_DOUBLE_EQ(m.max_rps, 12.5);
  EXPECT_EQ(m.max_inflight, 32u);
  EXPECT_EQ(m.max_body_bytes, 512u * 1024);
  EXPECT_EQ(m.rewrite.host, "preview.internal");
  EXPECT_EQ(m.rewrite.path_prefix.from, "/api/");
  EXPECT_EQ(m.rewrite.path_prefix.to, "/v2/api/");
  EXPECT_THAT(m.rewrite.set_headers,
              ElementsAre(Pair("x-parallax-shadow", "yes"), Pair("x-env", "staging")));
  EXPECT_THAT(m.rewrite.remove_headers, ElementsAre("authorization", "cookie"));
  EXPECT_EQ(m.secondary, "baseline");
  EXPECT_FALSE(m.compare.status);
  EXPECT_THAT(m.compare.headers.ignore, ElementsAre("date", "server"));
  EXPECT_FALSE(m.compare.headers.include_given);
  EXPECT_FALSE(m.compare.body.enabled);
  EXPECT_EQ(m.compare.body.max_bytes, 2u * 1024 * 1024);
  EXPECT_THAT(m.compare.body.ignore, ElementsAre("/meta/time", "/items/*/id", "/**/trace_id"));
  EXPECT_THAT(m.compare.body.unordered_arrays, ElementsAre("/items"));
  EXPECT_DOUBLE_EQ(m.compare.body.numeric_tolerance, 0.01);
  EXPECT_TRUE(m.compare.body.null_equals_missing);
  EXPECT_DOUBLE_EQ(m.compare.latency.regression_ratio, 1.5);
  EXPECT_EQ(c.routes[1].match.path_exact, "/health");
  EXPECT_FALSE(c.routes[1].mirror);

  EXPECT_EQ(c.reports.discrepancies.path, "-");
  EXPECT_EQ(c.reports.discrepancies.max_file_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(c.reports.discrepancies.keep_files, 3u);
  EXPECT_TRUE(c.reports.discrepancies.include_matches);
  EXPECT_EQ(c.reports.discrepancies.max_body_excerpt_bytes, 512u);
  EXPECT_EQ(c.reports.summary.path, "summary.json");
  EXPECT_EQ(c.reports.summary.interval, std::chrono::seconds(10));
  EXPECT_THAT(c.reports.redact.headers, ElementsAre("authorization", "x-api-key"));
  EXPECT_THAT(c.reports.redact.json_fields, ElementsAre("password"));
  EXPECT_THAT(c.reports.redact.query_params, ElementsAre("sig"));
  EXPECT_THAT(c.reports.endpoints, ElementsAre("/api/users/{id}/orders/{order}"));

  EXPECT_EQ(c.logging.lvl, logging::level::debug);
  EXPECT_EQ(c.logging.fmt, logging::format::json);
  EXPECT_TRUE(c.logging.access_log);
}

TEST(ConfigLoaderTest, RejectsPercentAbove100WithPosition) {
  expect_single_error(head + "routes:\n"
                             "  - name: all\n"
                             "    upstream: live\n"
                             "    mirror:\n"
                             "      upstream: preview\n"
                             "      percent: 150\n",
                      "parallax.yaml:11:16: routes[0].mirror.percent: must be between 0 and "
                      "100, got 150");
}

TEST(ConfigLoaderTest, RejectsUnknownTopLevelKeyWithSuggestion) {
  expect_single_error(minimal_with("loging: { level: info }\n"),
                      "parallax.yaml:10:1: loging: unknown key \"loging\" (did you mean "
                      "\"logging\"?)");
}

TEST(ConfigLoaderTest, RejectsUnknownKeyAtEveryLevel) {
  struct level_case {
    std::string tail; // appended at line 10
    std::string text;
  };
  const std::vector<level_case> cases = {
      {"admin: { address: 127.0.0.1:9901, port: 1 }\n",
       "parallax.yaml:10:35: admin.port: unknown key \"port\""},
      {"limits: { max_conections: 1 }\n",
       "parallax.yaml:10:11: limits.max_conections: unknown key \"max_conections\" (did you "
       "mean \"max_connections\"?)"},
      {"reports: { summary: { every: 5s } }\n",
       "parallax.yaml:10:23: reports.summary.every: unknown key \"every\""},
      {"reports:\n  discrepancies: { file: x }\n",
       "parallax.yaml:11:20: reports.discrepancies.file: unknown key \"file\""},
      {"reports: { redact: { cookies: [a] } }\n",
       "parallax.yaml:10:22: reports.redact.cookies: unknown key \"cookies\""},
      {"reports: { sumary: {} }\n",
       "parallax.yaml:10:12: reports.sumary: unknown key \"sumary\" (did you mean "
       "\"summary\"?)"},
      {"logging: { colour: true }\n",
       "parallax.yaml:10:12: logging.colour: unknown key \"colour\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tail);
    EXPECT_THAT(error_texts(load(minimal_with(c.tail))), ElementsAre(c.text));
  }
}

TEST(ConfigLoaderTest, RejectsUnknownKeysInListenersUpstreamsAndRoutes) {
  const auto result = load("version: 1\n"
                           "listeners:\n"
                           "  - name: public\n"
                           "    address: 127.0.0.1:8080\n"
                           "    tls: { cert: a, key: b, ciphers: x }\n"
                           "    backlog: 5\n"
                           "upstreams:\n"
                           "  live:\n"
                           "    endpoints: [\"127.0.0.1:9001\"]\n"
                           "    tls: { enable: true }\n"
                           "    timeout: 1s\n"
                           "  preview: { endpoints: [\"127.0.0.1:9002\"] }\n"
                           "routes:\n"
                           "  - name: all\n"
                           "    upstream: live\n"
                           "    match: { path: /x }\n"
                           "    mirror:\n"
                           "      upstream: preview\n"
                           "      percnt: 10\n"
                           "      percent: 10\n"
                           "      rewrite: { headers: {} }\n"
                           "      compare:\n"
                           "        body: { ignored: [] }\n"
                           "        headers: { exclude: [] }\n"
                           "        latency: { p99: 2 }\n"
                           "        statuses: true\n");
  EXPECT_THAT(
      error_texts(result),
      ElementsAre(
          "parallax.yaml:5:29: listeners[0].tls.ciphers: unknown key \"ciphers\"",
          "parallax.yaml:6:5: listeners[0].backlog: unknown key \"backlog\"",
          "parallax.yaml:10:12: upstreams.live.tls.enable: unknown key \"enable\" (did you "
          "mean \"enabled\"?)",
          "parallax.yaml:11:5: upstreams.live.timeout: unknown key \"timeout\"",
          "parallax.yaml:16:14: routes[0].match.path: unknown key \"path\"",
          "parallax.yaml:19:7: routes[0].mirror.percnt: unknown key \"percnt\" (did you mean "
          "\"percent\"?)",
          "parallax.yaml:21:18: routes[0].mirror.rewrite.headers: unknown key \"headers\"",
          "parallax.yaml:23:17: routes[0].mirror.compare.body.ignored: unknown key \"ignored\" "
          "(did you mean \"ignore\"?)",
          "parallax.yaml:24:20: routes[0].mirror.compare.headers.exclude: unknown key "
          "\"exclude\" (did you mean \"include\"?)",
          "parallax.yaml:25:20: routes[0].mirror.compare.latency.p99: unknown key \"p99\"",
          "parallax.yaml:26:9: routes[0].mirror.compare.statuses: unknown key \"statuses\" "
          "(did you mean \"status\"?)"));
}

TEST(ConfigLoaderTest, RejectsUnknownKeysInARouteAndItsRewritePrefix) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    timeout: 1s\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: 1\n"
                                  "      rewrite: { path_prefix: { from: /a, into: /b } }\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:9:5: routes[0].timeout: unknown key \"timeout\"",
                          "parallax.yaml:13:43: routes[0].mirror.rewrite.path_prefix.into: "
                          "unknown key \"into\" (did you mean \"to\"?)"));
}

TEST(ConfigLoaderTest, RejectsWrongTypes) {
  const auto result = load("version: 1\n"
                           "listeners: public\n"
                           "upstreams:\n"
                           "  live: { endpoints: { a: b } }\n"
                           "  preview: { endpoints: [\"127.0.0.1:9002\"], tls: [x] }\n"
                           "routes:\n"
                           "  - name: [all]\n"
                           "    upstream: live\n"
                           "    mirror: { upstream: preview, percent: ten }\n"
                           "logging: { access_log: yes, level: }\n");
  EXPECT_THAT(
      error_texts(result),
      ElementsAre("parallax.yaml:2:12: listeners: expected a list, got \"public\"",
                  "parallax.yaml:4:22: upstreams.live.endpoints: expected a list, got a map",
                  "parallax.yaml:5:50: upstreams.preview.tls: expected a map, got a list",
                  "parallax.yaml:7:11: routes[0].name: expected a string, got a list",
                  "parallax.yaml:9:43: routes[0].mirror.percent: expected a number, got \"ten\"",
                  "parallax.yaml:10:24: logging.access_log: expected true or false, got \"yes\"",
                  "parallax.yaml:10:29: logging.level: expected a string, got null"));
}

TEST(ConfigLoaderTest, RejectsOutOfRangeValues) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: -1\n"
                                  "      max_inflight: 0\n"
                                  "      max_rps: -5\n"
                                  "      compare:\n"
                                  "        body: { numeric_tolerance: -0.5 }\n"
                                  "        latency: { regression_ratio: 0.5 }\n"
                                  "workers: 0\n"
                                  "reports: { discrepancies: { keep_files: 0 } }\n"
                                  "limits: { max_connections: 99999999999999999999 }\n");
  EXPECT_THAT(
      error_texts(result),
      ElementsAre(
          "parallax.yaml:11:16: routes[0].mirror.percent: must be between 0 and 100, got -1",
          "parallax.yaml:12:21: routes[0].mirror.max_inflight: must be between 1 and "
          "4294967295, got 0",
          "parallax.yaml:13:16: routes[0].mirror.max_rps: must be at least 0, got -5",
          "parallax.yaml:15:36: routes[0].mirror.compare.body.numeric_tolerance: must be at "
          "least 0, got -0.5",
          "parallax.yaml:16:38: routes[0].mirror.compare.latency.regression_ratio: must be 0 "
          "(off) or at least 1, got 0.5",
          "parallax.yaml:17:10: workers: must be between 1 and 1024, got 0",
          "parallax.yaml:18:41: reports.discrepancies.keep_files: must be between 1 and "
          "4294967295, got 0",
          "parallax.yaml:19:28: limits.max_connections: must be at least 1, got "
          "99999999999999999999"));
}

TEST(ConfigLoaderTest, AcceptsWorkersAutoAsZeroAndIntegers) {
  auto result = load(minimal_with("workers: auto\n"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.cfg->workers, 0u);
  result = load(minimal_with("workers: 3\n"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.cfg->workers, 3u);
  expect_single_error(minimal_with("workers: many\n"),
                      "parallax.yaml:10:10: workers: expected auto or an integer >= 1, got "
                      "\"many\"");
}

TEST(ConfigLoaderTest, RejectsDuplicateListenerNames) {
  expect_single_error("version: 1\n"
                      "listeners:\n"
                      "  - { name: public, address: 127.0.0.1:8080 }\n"
                      "  - { name: public, address: 127.0.0.1:8081 }\n"
                      "upstreams:\n"
                      "  live:    { endpoints: [\"127.0.0.1:9001\"] }\n"
                      "  preview: { endpoints: [\"127.0.0.1:9002\"] }\n" +
                          minimal_routes,
                      "parallax.yaml:4:13: listeners[1].name: duplicate listener name "
                      "\"public\" (first at line 3)");
}

TEST(ConfigLoaderTest, RejectsDuplicateRouteNames) {
  expect_single_error(head + minimal_routes +
                          "  - name: all\n"
                          "    upstream: preview\n",
                      "parallax.yaml:10:11: routes[1].name: duplicate route name \"all\" (first "
                      "at line 7)");
}

TEST(ConfigLoaderTest, RejectsTheReservedRouteNameUnmatched) {
  expect_single_error(head + "routes:\n"
                             "  - name: unmatched\n"
                             "    upstream: live\n",
                      "parallax.yaml:7:11: routes[0].name: route name \"unmatched\" is reserved "
                      "(the metrics label of requests no route matches)");
}

TEST(ConfigLoaderTest, RejectsDuplicateYamlKeys) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    upstream: preview\n"
                                  "upstreams: {}\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:9:5: routes[0].upstream: duplicate key \"upstream\" "
                          "(first at line 8)",
                          "parallax.yaml:10:1: upstreams: duplicate key \"upstreams\" (first at "
                          "line 3)"));
}

TEST(ConfigLoaderTest, RejectsUnknownUpstreamReferences) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: lve\n"
                                  "    mirror:\n"
                                  "      upstream: canary\n"
                                  "      percent: 10\n"
                                  "      secondary: baseline\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:8:15: routes[0].upstream: unknown upstream \"lve\" "
                          "(defined: live, preview)",
                          "parallax.yaml:10:17: routes[0].mirror.upstream: unknown upstream "
                          "\"canary\" (defined: live, preview)",
                          "parallax.yaml:12:18: routes[0].mirror.secondary: unknown upstream "
                          "\"baseline\" (defined: live, preview)"));
}

TEST(ConfigLoaderTest, RejectsMirroringToTheLiveUpstream) {
  expect_single_error(head + "routes:\n"
                             "  - name: all\n"
                             "    upstream: live\n"
                             "    mirror: { upstream: live, percent: 10 }\n",
                      "parallax.yaml:9:25: routes[0].mirror.upstream: must differ from the "
                      "route's upstream \"live\" (the live upstream would receive every request "
                      "twice)");
}

TEST(ConfigLoaderTest, RejectsMalformedDurations) {
  const auto result = load(minimal_with("limits:\n"
                                        "  header_timeout: 5\n"
                                        "  idle_timeout: 5sec\n"
                                        "  drain_timeout: 1.0005s\n"
                                        "reports: { summary: { interval: 0s } }\n"
                                        "upstreams: {}\n"));
  const auto texts = error_texts(result);
  ASSERT_GE(texts.size(), 4u);
  EXPECT_EQ(texts[0], "parallax.yaml:11:19: limits.header_timeout: a duration needs a unit (ms, "
                      "s, m or h), got \"5\"");
  EXPECT_EQ(texts[1], "parallax.yaml:12:17: limits.idle_timeout: unknown duration unit \"sec\" "
                      "in \"5sec\" (use ms, s, m or h)");
  EXPECT_EQ(texts[2], "parallax.yaml:13:18: limits.drain_timeout: must be a whole number of "
                      "milliseconds, got \"1.0005s\"");
  EXPECT_EQ(texts[3], "parallax.yaml:14:33: reports.summary.interval: must be at least 1ms, got "
                      "0s");
}

TEST(ConfigLoaderTest, AcceptsDecimalDurationsAndEveryUnit) {
  const auto result = load(minimal_with("limits:\n"
                                        "  header_timeout: 1.5s\n"
                                        "  idle_timeout: 0.5h\n"
                                        "  drain_timeout: 0s\n"));
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  EXPECT_EQ(result.cfg->limits.header_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(result.cfg->limits.idle_timeout, std::chrono::minutes(30));
  EXPECT_EQ(result.cfg->limits.drain_timeout, std::chrono::milliseconds(0));
}

TEST(ConfigLoaderTest, RejectsMalformedSizes) {
  const auto result =
      load(minimal_with("limits:\n"
                        "  max_request_header_bytes: 64KB\n"
                        "  max_request_body_bytes: -1\n"
                        "reports: { discrepancies: { max_file_bytes: 0.1KiB } }\n"));
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:11:29: limits.max_request_header_bytes: unknown size "
                          "unit \"KB\" in \"64KB\" (use B, KiB, MiB, GiB or TiB)",
                          "parallax.yaml:12:27: limits.max_request_body_bytes: expected a size "
                          "in bytes or with a unit like 64KiB, 10MiB, 1GiB, got \"-1\"",
                          "parallax.yaml:13:45: reports.discrepancies.max_file_bytes: must be a "
                          "whole number of bytes, got \"0.1KiB\""));
}

TEST(ConfigLoaderTest, AcceptsSizesInBytesAndBinaryUnits) {
  const auto result = load(minimal_with("limits:\n"
                                        "  max_request_header_bytes: 1.5KiB\n"
                                        "  max_request_body_bytes: 1GiB\n"
                                        "reports: { discrepancies: { max_body_excerpt_bytes: 100B,"
                                        " max_file_bytes: 4096 } }\n"));
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  EXPECT_EQ(result.cfg->limits.max_request_header_bytes, 1536u);
  EXPECT_EQ(result.cfg->limits.max_request_body_bytes, 1024u * 1024 * 1024);
  EXPECT_EQ(result.cfg->reports.discrepancies.max_body_excerpt_bytes, 100u);
  EXPECT_EQ(result.cfg->reports.discrepancies.max_file_bytes, 4096u);
}

TEST(ConfigLoaderTest, RejectsMalformedAddresses) {
  const auto result = load("version: 1\n"
                           "listeners:\n"
                           "  - { name: a, address: 127.0.0.1 }\n"
                           "  - { name: b, address: \"127.0.0.1:70000\" }\n"
                           "  - { name: c, address: \"::1:8080\" }\n"
                           "  - { name: d, address: \"[::1\" }\n"
                           "  - { name: e, address: \":8080\" }\n"
                           "upstreams:\n"
                           "  live:    { endpoints: [\"127.0.0.1:0\"] }\n"
                           "  preview: { endpoints: [\"[::g]:80\"] }\n" +
                           minimal_routes);
  EXPECT_THAT(
      error_texts(result),
      ElementsAre(
          "parallax.yaml:3:25: listeners[0].address: invalid address \"127.0.0.1\": missing "
          "port (expected HOST:PORT)",
          "parallax.yaml:4:25: listeners[1].address: invalid address \"127.0.0.1:70000\": port "
          "must be between 0 and 65535, got 70000",
          "parallax.yaml:5:25: listeners[2].address: invalid address \"::1:8080\": IPv6 "
          "addresses must be in brackets, e.g. [::1]:8080",
          "parallax.yaml:6:25: listeners[3].address: invalid address \"[::1\": missing \"]\" "
          "after the IPv6 address",
          "parallax.yaml:7:25: listeners[4].address: invalid address \":8080\": missing host "
          "(use 0.0.0.0:PORT for all interfaces)",
          "parallax.yaml:9:26: upstreams.live.endpoints[0]: invalid address \"127.0.0.1:0\": "
          "port must be between 1 and 65535, got 0",
          "parallax.yaml:10:26: upstreams.preview.endpoints[0]: invalid address \"[::g]:80\": "
          "\"::g\" is not an IPv6 address"));
}

TEST(ConfigLoaderTest, AcceptsIpv6AndPortZeroListeners) {
  const auto result = load("version: 1\n"
                           "listeners: [{ name: public, address: \"[::1]:0\" }]\n"
                           "admin: { address: 127.0.0.1:0 }\n"
                           "upstreams:\n"
                           "  live:    { endpoints: [\"[2001:db8::1]:9001\"] }\n"
                           "  preview: { endpoints: [\"localhost:9002\"] }\n" +
                           minimal_routes);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  EXPECT_EQ(result.cfg->listeners[0].addr, (address{"::1", 0}));
  EXPECT_EQ(result.cfg->listeners[0].addr.text(), "[::1]:0");
  EXPECT_EQ(result.cfg->admin.addr.port, 0);
  EXPECT_THAT(result.cfg->upstreams.at("live").endpoints,
              ElementsAre(address{"2001:db8::1", 9001}));
}

TEST(ConfigLoaderTest, RejectsTwoSocketsOnTheSameAddress) {
  const auto result = load("version: 1\n"
                           "listeners:\n"
                           "  - { name: a, address: 127.0.0.1:8080 }\n"
                           "  - { name: b, address: 127.0.0.1:8080 }\n"
                           "  - { name: c, address: 127.0.0.1:9901 }\n"
                           "upstreams:\n"
                           "  live:    { endpoints: [\"127.0.0.1:9001\"] }\n"
                           "  preview: { endpoints: [\"127.0.0.1:9002\"] }\n" +
                           minimal_routes);
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:4:25: listeners[1].address: address 127.0.0.1:8080 is "
                          "already used by listeners[0].address",
                          "parallax.yaml:5:25: listeners[2].address: address 127.0.0.1:9901 is "
                          "the admin listener's default address (set admin.address to another "
                          "one)"));
}

TEST(ConfigLoaderTest, RejectsBadEnvironmentReferenceSyntax) {
  const auto result = load(head + "routes:\n"
                                  "  - name: \"${\"\n"
                                  "    upstream: \"${}\"\n"
                                  "    match: { host: \"${1X}\", path_prefix: \"${A:x}\" }\n"
                                  "    mirror: { upstream: preview, percent: \"${A:-${B}}\" }\n");
  EXPECT_THAT(
      error_texts(result),
      ElementsAre("parallax.yaml:7:11: routes[0].name: unterminated variable reference \"${\" "
                  "(expected ${NAME} or ${NAME:-default})",
                  "parallax.yaml:8:15: routes[0].upstream: empty variable reference \"${}\" "
                  "(expected ${NAME} or ${NAME:-default})",
                  "parallax.yaml:9:20: routes[0].match.host: invalid variable name in \"${1X}\" "
                  "(letters, digits and _, not starting with a digit)",
                  "parallax.yaml:9:42: routes[0].match.path_prefix: invalid variable reference "
                  "\"${A:x}\" (expected ${NAME} or ${NAME:-default})",
                  "parallax.yaml:10:43: routes[0].mirror.percent: nested variable references "
                  "are not supported in \"${A:-${B}\""));
}

TEST(ConfigLoaderTest, RejectsUnsetEnvironmentVariable) {
  ::unsetenv("PARALLAX_TEST_UNSET");
  expect_single_error(head + "routes:\n"
                             "  - name: all\n"
                             "    upstream: live\n"
                             "    mirror:\n"
                             "      upstream: preview\n"
                             "      percent: ${PARALLAX_TEST_UNSET}\n",
                      "parallax.yaml:11:16: routes[0].mirror.percent: environment variable "
                      "PARALLAX_TEST_UNSET is not set (use ${PARALLAX_TEST_UNSET:-default} to "
                      "give a default)");
}

TEST(ConfigLoaderTest, ExpandsEnvironmentVariablesAndDefaultsBeforeConversion) {
  ::unsetenv("PARALLAX_TEST_MISSING");
  const scoped_env port("PARALLAX_TEST_PORT", "9100");
  const scoped_env empty("PARALLAX_TEST_EMPTY", "");
  const scoped_env header("PARALLAX_TEST_TOKEN", "s3cr$t");
  const auto result =
      load("version: 1\n"
           "listeners: [{ name: public, address: \"127.0.0.1:${PARALLAX_TEST_PORT}\" }]\n"
           "workers: ${PARALLAX_TEST_MISSING:-2}\n"
           "upstreams:\n"
           "  live:    { endpoints: [\"${PARALLAX_TEST_MISSING:-localhost}:9001\"] }\n"
           "  preview: { endpoints: [\"127.0.0.1:9002\"] }\n"
           "routes:\n"
           "  - name: all\n"
           "    upstream: live\n"
           "    match: { headers: { x-token: \"${PARALLAX_TEST_TOKEN}\" } }\n"
           "    mirror:\n"
           "      upstream: preview\n"
           "      percent: ${PARALLAX_TEST_EMPTY:-25}\n"
           "      rewrite: { host: \"$${NOT_A_VARIABLE}${PARALLAX_TEST_EMPTY}\" }\n");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  EXPECT_EQ(result.cfg->listeners[0].addr, (address{"127.0.0.1", 9100}));
  EXPECT_EQ(result.cfg->workers, 2u);
  EXPECT_THAT(result.cfg->upstreams.at("live").endpoints, ElementsAre(address{"localhost", 9001}));
  EXPECT_THAT(result.cfg->routes[0].match.headers, ElementsAre(Pair("x-token", "s3cr$t")));
  EXPECT_EQ(result.cfg->routes[0].mirror->percent, 25);
  EXPECT_EQ(result.cfg->routes[0].mirror->rewrite.host, "${NOT_A_VARIABLE}");
}

TEST(ConfigLoaderTest, RejectsPathPrefixWithPathExact) {
  expect_single_error(head + "routes:\n"
                             "  - name: all\n"
                             "    upstream: live\n"
                             "    match:\n"
                             "      path_prefix: /api/\n"
                             "      path_exact: /api/health\n",
                      "parallax.yaml:11:19: routes[0].match.path_exact: path_prefix and "
                      "path_exact cannot both be given");
}

TEST(ConfigLoaderTest, RejectsRelativeMatchPaths) {
  expect_single_error(head + "routes:\n"
                             "  - name: all\n"
                             "    upstream: live\n"
                             "    match: { path_prefix: api }\n",
                      "parallax.yaml:9:27: routes[0].match.path_prefix: must start with \"/\", "
                      "got \"api\"");
}

TEST(ConfigLoaderTest, RejectsHeadersIgnoreWithInclude) {
  expect_single_error(head + "routes:\n"
                             "  - name: all\n"
                             "    upstream: live\n"
                             "    mirror:\n"
                             "      upstream: preview\n"
                             "      percent: 1\n"
                             "      compare:\n"
                             "        headers: { ignore: [date], include: [etag] }\n",
                      "parallax.yaml:13:45: routes[0].mirror.compare.headers.include: ignore "
                      "and include cannot both be given");
}

TEST(ConfigLoaderTest, IncludeListSetsIncludeGiven) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: 1\n"
                                  "      compare: { headers: { include: [] } }\n");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  const auto& headers = result.cfg->routes[0].mirror->compare.headers;
  EXPECT_TRUE(headers.include_given);
  EXPECT_TRUE(headers.include.empty());
  EXPECT_TRUE(headers.ignore.empty());
}

TEST(ConfigLoaderTest, SetHeadersReplacesTheDefaultShadowMark) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: 1\n"
                                  "      rewrite: { set_headers: {} }\n"
                                  "  - name: other\n"
                                  "    upstream: live\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: 1\n"
                                  "      rewrite: { set_headers: { X-Env: test } }\n");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  EXPECT_TRUE(result.cfg->routes[0].mirror->rewrite.set_headers.empty());
  EXPECT_THAT(result.cfg->routes[1].mirror->rewrite.set_headers,
              ElementsAre(Pair("x-env", "test")));
}

TEST(ConfigLoaderTest, RejectsInvalidHeaderNamesAndMethods) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    match:\n"
                                  "      methods: [GET, \"BAD METHOD\"]\n"
                                  "      headers: { \"x y\": \"1\", X-A: \"1\", x-a: \"2\" }\n");
  EXPECT_THAT(
      error_texts(result),
      ElementsAre("parallax.yaml:10:22: routes[0].match.methods[1]: not a valid HTTP method: "
                  "\"BAD METHOD\"",
                  "parallax.yaml:11:18: routes[0].match.headers.x y: not a valid HTTP header "
                  "name: \"x y\"",
                  "parallax.yaml:11:40: routes[0].match.headers.x-a: header \"x-a\" is given "
                  "twice (names are case-insensitive)"));
}

TEST(ConfigLoaderTest, ParsesSampleByAndRejectsUnknownKinds) {
  const auto ok = load(head + "routes:\n"
                              "  - name: a\n"
                              "    upstream: live\n"
                              "    mirror: { upstream: preview, percent: 1, sample_by: "
                              "cookie:Session }\n"
                              "  - name: b\n"
                              "    upstream: live\n"
                              "    mirror: { upstream: preview, percent: 1, sample_by: "
                              "query:user_id }\n");
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(error_texts(ok));
  EXPECT_EQ(ok.cfg->routes[0].mirror->sample_by.by, sample_by::kind::cookie);
  EXPECT_EQ(ok.cfg->routes[0].mirror->sample_by.name, "Session");
  EXPECT_EQ(ok.cfg->routes[1].mirror->sample_by.by, sample_by::kind::query);
  EXPECT_EQ(ok.cfg->routes[1].mirror->sample_by.name, "user_id");

  const auto bad = load(head + "routes:\n"
                               "  - name: a\n"
                               "    upstream: live\n"
                               "    mirror: { upstream: preview, percent: 1, sample_by: ip }\n"
                               "  - name: b\n"
                               "    upstream: live\n"
                               "    mirror: { upstream: preview, percent: 1, sample_by: "
                               "\"header:\" }\n");
  EXPECT_THAT(error_texts(bad),
              ElementsAre("parallax.yaml:9:57: routes[0].mirror.sample_by: must be random, "
                          "header:NAME, cookie:NAME or query:NAME, got \"ip\"",
                          "parallax.yaml:12:57: routes[1].mirror.sample_by: missing NAME in "
                          "\"header:\" (e.g. header:x-user-id)"));
}

TEST(ConfigLoaderTest, RejectsBadEnumerations) {
  const auto result = load("version: 1\n"
                           "listeners:\n"
                           "  - name: public\n"
                           "    address: 127.0.0.1:8443\n"
                           "    tls: { cert: c.pem, key: k.pem, min_version: 1.1 }\n"
                           "upstreams:\n"
                           "  live:    { endpoints: [\"127.0.0.1:9001\"] }\n"
                           "  preview: { endpoints: [\"127.0.0.1:9002\"] }\n" +
                           minimal_routes + "logging: { level: verbose, format: xml }\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:5:50: listeners[0].tls.min_version: must be \"1.2\" or "
                          "\"1.3\", got \"1.1\"",
                          "parallax.yaml:13:19: logging.level: must be one of trace, debug, "
                          "info, warn, error; got \"verbose\"",
                          "parallax.yaml:13:36: logging.format: must be text or json, got "
                          "\"xml\""));
}

TEST(ConfigLoaderTest, RejectsBadJsonPointersAndEndpointTemplates) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: 1\n"
                                  "      compare: { body: { ignore: [meta/time, /a*] } }\n"
                                  "reports:\n"
                                  "  endpoints: [\"/api/{id}\", api/users, \"/x/{id}.json\"]\n");
  EXPECT_THAT(
      error_texts(result),
      ElementsAre("parallax.yaml:12:35: routes[0].mirror.compare.body.ignore[0]: JSON Pointer "
                  "patterns must start with \"/\", got \"meta/time\"",
                  "parallax.yaml:12:46: routes[0].mirror.compare.body.ignore[1]: \"*\" and \"**\" "
                  "must be whole segments in \"/a*\"",
                  "parallax.yaml:14:28: reports.endpoints[1]: endpoint templates must start with "
                  "\"/\", got \"api/users\"",
                  "parallax.yaml:14:39: reports.endpoints[2]: placeholders must be whole path "
                  "segments like {id}, got \"/x/{id}.json\""));
}

TEST(ConfigLoaderTest, LowerCasesHeaderNamesEverywhere) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: 1\n"
                                  "      rewrite: { remove_headers: [Authorization] }\n"
                                  "      compare: { headers: { ignore: [X-Request-ID] } }\n"
                                  "reports: { redact: { headers: [X-Api-Key] } }\n");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  const auto& m = *result.cfg->routes[0].mirror;
  EXPECT_THAT(m.rewrite.remove_headers, ElementsAre("authorization"));
  EXPECT_THAT(m.compare.headers.ignore, ElementsAre("x-request-id"));
  EXPECT_THAT(result.cfg->reports.redact.headers, ElementsAre("x-api-key"));
}

TEST(ConfigLoaderTest, RejectsMissingRequiredKeys) {
  const auto result = load("listeners:\n"
                           "  - name: public\n"
                           "  - address: 127.0.0.1:8081\n"
                           "    tls: { cert: a.pem }\n"
                           "upstreams:\n"
                           "  live: { resolve_interval: 5s }\n"
                           "routes:\n"
                           "  - name: all\n"
                           "    mirror: { percent: 10 }\n");
  EXPECT_THAT(
      error_texts(result),
      ElementsAre("parallax.yaml:1:1: version: required key is missing",
                  "parallax.yaml:2:5: listeners[0].address: required key is missing",
                  "parallax.yaml:3:5: listeners[1].name: required key is missing",
                  "parallax.yaml:4:10: listeners[1].tls.key: required key is missing",
                  "parallax.yaml:6:9: upstreams.live.endpoints: required key is missing",
                  "parallax.yaml:8:5: routes[0].upstream: required key is missing",
                  "parallax.yaml:9:13: routes[0].mirror.upstream: required key is missing"));
}

TEST(ConfigLoaderTest, RejectsMissingTopLevelSections) {
  const auto result = load("version: 1\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:1:1: listeners: required key is missing",
                          "parallax.yaml:1:1: upstreams: required key is missing",
                          "parallax.yaml:1:1: routes: required key is missing"));
}

TEST(ConfigLoaderTest, RejectsEmptyLists) {
  const auto result = load("version: 1\n"
                           "listeners: []\n"
                           "upstreams:\n"
                           "  live: { endpoints: [] }\n"
                           "routes: []\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:2:12: listeners: must contain at least one entry",
                          "parallax.yaml:4:22: upstreams.live.endpoints: must contain at least "
                          "one entry",
                          "parallax.yaml:5:9: routes: must contain at least one entry"));
  expect_single_error("version: 1\n"
                      "listeners: [{ name: public, address: 127.0.0.1:8080 }]\n"
                      "upstreams: {}\n"
                      "routes: [{ name: all, upstream: live }]\n",
                      "parallax.yaml:3:12: upstreams: must contain at least one upstream");
}

TEST(ConfigLoaderTest, RejectsVersion2) {
  expect_single_error("version: 2\n"
                      "listeners: whatever\n",
                      "parallax.yaml:1:10: version: unsupported version 2; only 1 is accepted");
}

TEST(ConfigLoaderTest, ReportsYamlSyntaxErrorWithParserPosition) {
  const auto result = load("version: 1\n"
                           "listeners: [{ name: public\n"
                           "upstreams: {}\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].key_path, "");
  EXPECT_EQ(result.errors[0].line, 3);
  EXPECT_EQ(result.errors[0].text(), "parallax.yaml:3:10: end of map flow not found");
}

TEST(ConfigLoaderTest, RejectsEmptyFileAndSeveralDocuments) {
  expect_single_error("# nothing here\n",
                      "parallax.yaml:1:1: the file is empty (expected a map with version, "
                      "listeners, upstreams and routes)");
  const auto result = load(head + minimal_routes + "---\nversion: 1\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:10:1: only one YAML document is allowed"));
}

TEST(ConfigLoaderTest, ReportsAllErrorsOfAFileSortedByPosition) {
  const auto result = load("version: 1\n"
                           "logging: { level: loud }\n"
                           "listeners: [{ name: public, address: nowhere }]\n"
                           "upstreams:\n"
                           "  live: { endpoints: [\"127.0.0.1:9001\"], connect_timeout: 1 }\n"
                           "routes:\n"
                           "  - name: all\n"
                           "    upstream: live\n"
                           "    mirror: { upstream: preview, percent: 150 }\n"
                           "workers: -1\n");
  EXPECT_THAT(
      error_texts(result),
      ElementsAre("parallax.yaml:2:19: logging.level: must be one of trace, debug, info, warn, "
                  "error; got \"loud\"",
                  "parallax.yaml:3:38: listeners[0].address: invalid address \"nowhere\": "
                  "missing port (expected HOST:PORT)",
                  "parallax.yaml:5:59: upstreams.live.connect_timeout: a duration needs a unit "
                  "(ms, s, m or h), got \"1\"",
                  "parallax.yaml:9:25: routes[0].mirror.upstream: unknown upstream \"preview\" "
                  "(defined: live)",
                  "parallax.yaml:9:43: routes[0].mirror.percent: must be between 0 and 100, got "
                  "150",
                  "parallax.yaml:10:10: workers: must be between 1 and 1024, got -1"));
}

TEST(ConfigLoaderTest, LoadFileUsesThePathInErrorsAndAsSourcePath) {
  const std::string path = ::testing::TempDir() + "parallax_loader_test.yaml";
  {
    std::ofstream out(path);
    out << head << minimal_routes;
  }
  const auto ok = load_file(path);
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(error_texts(ok));
  EXPECT_EQ(ok.cfg->source_path, path);
  {
    std::ofstream out(path);
    out << "version: 3\n";
  }
  const auto bad = load_file(path);
  EXPECT_THAT(error_texts(bad),
              ElementsAre(path + ":1:10: version: unsupported version 3; only 1 is accepted"));
  std::remove(path.c_str());
}

TEST(ConfigLoaderTest, LoadFileReportsAnUnreadableFile) {
  const auto result = load_file("/nonexistent/parallax.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(error_texts(result),
              ElementsAre("/nonexistent/parallax.yaml:1:1: cannot read file: No such file or "
                          "directory"));
}

TEST(ConfigLoaderTest, DoesNotCheckThatTlsFilesExist) {
  const auto result = load("version: 1\n"
                           "listeners:\n"
                           "  - name: public\n"
                           "    address: 127.0.0.1:8443\n"
                           "    tls: { cert: /does/not/exist.crt, key: /does/not/exist.key }\n"
                           "upstreams:\n"
                           "  live:    { endpoints: [\"127.0.0.1:9001\"], tls: { enabled: true, "
                           "ca: /no/ca.pem } }\n"
                           "  preview: { endpoints: [\"127.0.0.1:9002\"] }\n" +
                           minimal_routes);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  EXPECT_EQ(result.cfg->listeners[0].tls->min_version, "1.2");
}

} // namespace
} // namespace parallax::config
