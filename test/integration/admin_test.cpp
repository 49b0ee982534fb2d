// The admin listener (proxy.md "Admin listener"): health, readiness (also while draining),
// Prometheus metrics, the effective configuration with secrets removed, and unknown paths.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "proxy/server/admin_access.hpp"
#include "test/integration/proxy_fixture.hpp"
#include "test/support/blackhole_server.hpp"
#include "test/support/gate.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/tls_certs.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

raw_client connect_to(std::uint16_t port) {
  raw_client c;
  EXPECT_TRUE(c.connect(port)) << c.last_error();
  return c;
}

TEST(AdminTest, HealthzAnswersOk) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto res = admin_get(proxy.admin_port(), "/healthz");
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(res.body == "ok" || res.body == "ok\n") << res.body;
  // HEAD and a query string are served too.
  raw_client client = connect_to(proxy.admin_port());
  auto head = client.round_trip(raw_client::request("HEAD", "/healthz"), true);
  ASSERT_TRUE(head.ok()) << head.error;
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(client.round_trip(raw_client::request("GET", "/healthz?probe=1")).status, 200);
}

TEST(AdminTest, ReadyzAnswers200WhenListening) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  auto res = admin_get(proxy.admin_port(), "/readyz");
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
}

TEST(AdminTest, UnknownPathAnswers404AndKeepsConnection) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  raw_client client = connect_to(proxy.admin_port());
  for (const char* path : {"/nope", "/metricsx", "/", "/healthz/extra"}) {
    auto res = client.round_trip(raw_client::request("GET", path));
    ASSERT_TRUE(res.ok()) << path << ": " << res.error;
    EXPECT_EQ(res.status, 404) << path;
  }
  EXPECT_EQ(client.round_trip(raw_client::request("GET", "/healthz")).status, 200);
}

// A known path answers 405 (with Allow) to a method it does not serve; GETs also take HEAD.
TEST(AdminTest, WrongMethodAnswers405WithAllow) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  raw_client client = connect_to(proxy.admin_port());
  auto post = client.round_trip(raw_client::request("POST", "/metrics"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow").value_or(""), "GET, HEAD");
  auto get = client.round_trip(raw_client::request("GET", "/report/reset"));
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("allow").value_or(""), "POST");
  EXPECT_EQ(client.round_trip(raw_client::request("DELETE", "/healthz")).status, 405);
  EXPECT_EQ(client.round_trip(raw_client::request("POST", "/nope")).status, 404);
}

// With admin.token, POST and DELETE need `Authorization: Bearer TOKEN` (401 with a challenge
// otherwise, before the path is even looked at); GETs stay open; /config never shows it.
TEST(AdminTest, ChangesNeedTheBearerTokenWhenOneIsSet) {
  http_backend live(echo_handler());
  const std::string yaml = "version: 1\n"
                           "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                           "admin: { address: \"127.0.0.1:0\", token: s3cret-Token }\n"
                           "workers: 1\n"
                           "upstreams: { live: { endpoints: [\"{live}\"] } }\n"
                           "routes: [{ name: all, upstream: live }]\n";
  running_proxy proxy(yaml, {{"live", live.address()}});
  raw_client client = connect_to(proxy.admin_port());
  auto none = client.round_trip(raw_client::request("POST", "/report/reset"));
  EXPECT_EQ(none.status, 401);
  EXPECT_THAT(none.header("www-authenticate").value_or(""), StartsWith("Bearer"));
  for (const char* wrong : {"Bearer wrong", "Bearer s3cret-Toke", "Bearer s3cret-Token2",
                            "Basic czNjcmV0LVRva2Vu", "s3cret-Token", "Bearer"}) {
    auto res =
        client.round_trip(raw_client::request("POST", "/report/reset", {{"Authorization", wrong}}));
    EXPECT_EQ(res.status, 401) << wrong;
  }
  EXPECT_EQ(client.round_trip(raw_client::request("DELETE", "/nope")).status, 401);
  for (const char* right : {"Bearer s3cret-Token", "bearer  s3cret-Token"}) {
    auto res =
        client.round_trip(raw_client::request("POST", "/report/reset", {{"Authorization", right}}));
    EXPECT_EQ(res.status, 200) << right << ": " << res.body;
  }
  EXPECT_EQ(admin_get(proxy.admin_port(), "/healthz").status, 200);
  const auto cfg = admin_get(proxy.admin_port(), "/config");
  EXPECT_THAT(cfg.body, Not(HasSubstr("s3cret")));
  EXPECT_THAT(cfg.body, HasSubstr(R"("token":"[redacted]")"));
}

// Without a token, changes are accepted from loopback peers (every test peer is one) and
// refused (403) from any other; the decision itself, for the peers a test cannot be.
TEST(AdminTest, WithoutATokenChangesAreForLoopbackPeersOnly) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  raw_client client = connect_to(proxy.admin_port());
  EXPECT_EQ(client.round_trip(raw_client::request("POST", "/report/reset")).status, 200);
  EXPECT_THAT(admin_get(proxy.admin_port(), "/config").body, HasSubstr(R"("token":"")"));

  using proxy::server::mutation_refusal;
  EXPECT_EQ(mutation_refusal("", std::nullopt, true), 0);
  EXPECT_EQ(mutation_refusal("", std::nullopt, false), 403);
  EXPECT_EQ(mutation_refusal("", "Bearer anything", false), 403);
  EXPECT_EQ(mutation_refusal("t", "Bearer t", false), 0);    // a token works from anywhere
  EXPECT_EQ(mutation_refusal("t", std::nullopt, true), 401); // and loopback needs it then
  EXPECT_EQ(mutation_refusal("t", "Bearer  t", true), 0);
  EXPECT_EQ(mutation_refusal("t", "Bearer tt", true), 401);
}

TEST(AdminTest, MetricsCountRequestsDurationsConnectionsAndUpstreamErrors) {
  http_backend live(echo_handler());
  const std::string yaml = "version: 1\n"
                           "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                           "admin: { address: \"127.0.0.1:0\" }\n"
                           "workers: 1\n"
                           "upstreams:\n"
                           "  live: { endpoints: [\"{live}\"] }\n"
                           "  dead: { endpoints: [\"{dead}\"] }\n"
                           "routes:\n"
                           "  - { name: dead, match: { path_prefix: /dead/ }, upstream: dead }\n"
                           "  - { name: all, upstream: live }\n";
  running_proxy proxy(
      yaml, {{"live", live.address()}, {"dead", "127.0.0.1:" + std::to_string(refusing_port())}});
  constexpr int n = 3;
  raw_client client = connect_to(proxy.port());
  for (int i = 0; i < n; ++i) {
    auto res = client.round_trip(raw_client::request("GET", "/ok"));
    ASSERT_TRUE(res.ok()) << res.error;
    ASSERT_EQ(res.status, 200);
  }
  // A request to the refusing upstream. It is read only after the previous exchange was
  // counted, and its own error is counted before the 502 is written: once the 502 arrives,
  // every number below is final.
  auto refused = client.round_trip(raw_client::request("GET", "/dead/x"));
  ASSERT_TRUE(refused.ok()) << refused.error;
  ASSERT_EQ(refused.status, 502);

  auto res = admin_get(proxy.admin_port(), "/metrics");
  ASSERT_TRUE(res.ok()) << res.error;
  ASSERT_EQ(res.status, 200);
  EXPECT_THAT(res.header("content-type").value_or(""), StartsWith("text/plain"));
  const std::string& m = res.body;
  const auto value = [&](const std::string& series) {
    return metric_value(m, series).value_or("absent");
  };
  EXPECT_EQ(value("parallax_requests_total{route=\"all\",code=\"2xx\"}"), std::to_string(n)) << m;
  EXPECT_EQ(value("parallax_requests_total{route=\"all\",code=\"5xx\"}"), "0");
  EXPECT_THAT(m, HasSubstr("# TYPE parallax_request_duration_seconds histogram"));
  EXPECT_EQ(value("parallax_request_duration_seconds_bucket{route=\"all\",le=\"+Inf\"}"),
            std::to_string(n));
  EXPECT_EQ(value("parallax_request_duration_seconds_count{route=\"all\"}"), std::to_string(n));
  EXPECT_EQ(value("parallax_downstream_connections{listener=\"public\"}"), "1"); // `client`
  EXPECT_EQ(value("parallax_upstream_errors_total{upstream=\"dead\",kind=\"connect_failed\"}"),
            "1");
  EXPECT_EQ(value("parallax_upstream_errors_total{upstream=\"live\",kind=\"connect_failed\"}"),
            "0");
  EXPECT_THAT(m, HasSubstr("# TYPE parallax_build_info gauge"));
  EXPECT_THAT(m, ::testing::ContainsRegex(
                     "parallax_build_info\\{version=\"[0-9]+\\.[0-9]+\\.[0-9]+\"\\} 1"));
}

TEST(AdminTest, RequestsRefusedBeforeForwardingCountUnderTheirRoute) {
  // A declared body above the limit (413) and a CONNECT (405) are answered by parallax, for a
  // route all the same: requests_total counts them under it, not under `unmatched`.
  http_backend live(echo_handler());
  running_proxy proxy("version: 1\n"
                      "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                      "admin: { address: \"127.0.0.1:0\" }\n"
                      "workers: 1\n"
                      "limits: { max_request_body_bytes: 16 }\n"
                      "upstreams:\n"
                      "  live: { endpoints: [\"{live}\"] }\n"
                      "routes:\n"
                      "  - { name: all, upstream: live }\n",
                      {{"live", live.address()}});
  auto big = connect_to(proxy.port())
                 .round_trip(raw_client::request("POST", "/upload", {}, std::string(100, 'x')));
  ASSERT_TRUE(big.ok()) << big.error;
  ASSERT_EQ(big.status, 413);
  auto tunnel = connect_to(proxy.port())
                    .round_trip(raw_client::request("CONNECT", "example.com:443",
                                                    {{"Host", "example.com:443"}}));
  ASSERT_TRUE(tunnel.ok()) << tunnel.error;
  ASSERT_EQ(tunnel.status, 405);
  const auto m = admin_get(proxy.admin_port(), "/metrics").body;
  EXPECT_EQ(metric_value(m, "parallax_requests_total{route=\"all\",code=\"4xx\"}"), "2") << m;
  EXPECT_EQ(metric_value(m, "parallax_requests_total{route=\"unmatched\",code=\"4xx\"}"), "0");
  EXPECT_EQ(live.requests_seen(), 0u);
}

TEST(AdminTest, ConfigOmitsTlsKeyPathAndRedactsConfiguredHeaders) {
  temp_dir dir;
  const auto pki = make_test_pki(dir.file("pki"));
  http_backend live(echo_handler());
  const std::string yaml =
      "version: 1\n"
      "listeners:\n"
      "  - name: public\n"
      "    address: \"127.0.0.1:0\"\n"
      "    tls: { cert: \"{cert}\", key: \"{key}\" }\n"
      "admin: { address: \"127.0.0.1:0\" }\n"
      "workers: 1\n"
      "upstreams:\n"
      "  live: { endpoints: [\"{live}\"] }\n"
      "routes:\n"
      "  - name: all\n"
      "    match:\n"
      "      headers: { Authorization: \"Bearer s3cret-token\", x-api-key: \"k3y-value\",\n"
      "                 x-tenant: acme-tenant }\n"
      "    upstream: live\n"
      "reports:\n"
      "  redact: { headers: [authorization, x-api-key] }\n";
  running_proxy proxy(
      yaml,
      {{"live", live.address()}, {"cert", pki.server_cert_path}, {"key", pki.server_key_path}});
  auto res = admin_get(proxy.admin_port(), "/config");
  ASSERT_TRUE(res.ok()) << res.error;
  ASSERT_EQ(res.status, 200);
  EXPECT_THAT(res.header("content-type").value_or(""), StartsWith("application/json"));
  const std::string& body = res.body;
  EXPECT_THAT(body, Not(HasSubstr(pki.server_key_path)));
  EXPECT_THAT(body, Not(HasSubstr("s3cret-token")));
  EXPECT_THAT(body, Not(HasSubstr("k3y-value")));

  std::error_code ec;
  const auto doc = boost::json::parse(body, ec);
  ASSERT_FALSE(ec) << ec.message() << "\n" << body;
  const auto* listener_tls = doc.at("listeners").at(0).at("tls").if_object();
  ASSERT_NE(listener_tls, nullptr) << body;
  EXPECT_EQ(listener_tls->at("cert").as_string(), pki.server_cert_path);
  EXPECT_FALSE(listener_tls->contains("key"));
  const auto& headers = doc.at("routes").at(0).at("match").at("headers");
  EXPECT_EQ(headers.at("authorization").as_string(), "[redacted]") << body;
  EXPECT_EQ(headers.at("x-api-key").as_string(), "[redacted]") << body;
  // Not listed in reports.redact.headers: shown as configured.
  EXPECT_EQ(headers.at("x-tenant").as_string(), "acme-tenant") << body;
}

TEST(AdminTest, ReadyzTurns503WhileDraining) {
  gate hold;
  http_backend live([&](const received_request& req, backend_connection& c) {
    if (req.target == "/slow") hold.wait();
    c.respond(200, req.target);
  });
  running_proxy proxy(simple_config(), {{"live", live.address()}});
  ASSERT_EQ(admin_get(proxy.admin_port(), "/readyz").status, 200);

  // An idle keep-alive connection: the drain closes it at once, which tells this thread the
  // drain has begun (the server marks itself draining before it tells the workers).
  raw_client idle = connect_to(proxy.port());
  ASSERT_EQ(idle.round_trip(raw_client::request("GET", "/fast")).status, 200);
  // A request held at the backend keeps the drain from finishing.
  raw_client busy = connect_to(proxy.port());
  ASSERT_TRUE(busy.send(raw_client::request("GET", "/slow")));
  ASSERT_TRUE(live.wait_for_requests(2, 5s));

  bool clean = false;
  std::jthread drainer([&] { clean = proxy.server().drain(0s, 10s); });
  ASSERT_TRUE(idle.wait_closed(5s));
  idle.close();
  auto ready = admin_get(proxy.admin_port(), "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.error;
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(admin_get(proxy.admin_port(), "/healthz").status, 200); // alive, just not ready

  hold.release();
  auto res = busy.read_response();
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "/slow");
  EXPECT_EQ(res.header("connection").value_or(""), "close");
  EXPECT_TRUE(busy.wait_closed(5s));
  busy.close(); // ends the proxy's lingering close at once
  drainer.join();
  EXPECT_TRUE(clean);
  EXPECT_EQ(admin_get(proxy.admin_port(), "/readyz").status, 503); // draining is for good
}

} // namespace
} // namespace parallax::test
