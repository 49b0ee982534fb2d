// TLS on both sides (config.md `listeners[].tls`, `upstreams.*.tls`): termination on a
// listener, minimum protocol version, verified TLS to upstreams with SNI, and start-up errors
// for unreadable certificate files. Every PKI is generated at test time.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/loader.hpp"
#include "proxy/server/server.hpp"
#include "test/integration/proxy_fixture.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/socket_stream.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/tls_certs.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

/// One listener terminating TLS with `{cert}`/`{key}`, forwarding everything to `{live}`.
std::string tls_listener_config(const std::string& tls_extra = "") {
  return "version: 1\n"
         "listeners:\n"
         "  - name: public\n"
         "    address: \"127.0.0.1:0\"\n"
         "    tls: { cert: \"{cert}\", key: \"{key}\" " +
         tls_extra +
         "}\n"
         "admin: { address: \"127.0.0.1:0\" }\n"
         "workers: 1\n"
         "upstreams:\n"
         "  live: { endpoints: [\"{live}\"] }\n"
         "routes:\n"
         "  - { name: all, upstream: live }\n";
}

/// Result of a TLS client handshake whose highest protocol version is `max_version`.
struct handshake_outcome {
  bool ok = false;
  int version = 0;   // negotiated protocol version (TLS1_2_VERSION, ...) when ok
  std::string error; // why it failed otherwise
};

/// Connects to `port` and runs a handshake offering at most `max_version`, verifying the server
/// against `pki`'s CA for "localhost". (raw_client always offers every version up to TLS 1.3.)
handshake_outcome handshake_with_max_version(std::uint16_t port, int max_version,
                                             const test_pki& pki) {
  handshake_outcome out;
  const auto deadline = socket_stream::clock::now() + 10s;
  const int fd = connect_loopback(port, deadline, out.error);
  if (fd < 0) return out;
  socket_stream stream(fd);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), max_version) != 1 ||
      SSL_CTX_load_verify_locations(ctx.get(), pki.ca_cert_path.c_str(), nullptr) != 1) {
    out.error = "cannot set up the client context";
    return out;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const auto status = stream.start_tls_client(ctx.get(), "localhost", deadline);
  if (status != io_status::ok) {
    out.error = std::string(to_string(status)) + ": " + stream.error();
    return out;
  }
  out.ok = true;
  out.version = SSL_version(stream.tls());
  return out;
}

/// Loads `yaml` (which must be valid) into a configuration.
std::shared_ptr<const config::config> load(const std::string& yaml) {
  auto result = config::load_string(yaml, "test.yaml");
  std::string errors;
  for (const auto& e : result.errors)
    errors += e.text() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  return result.cfg;
}

TEST(TlsTest, TerminatesTlsOnListener) {
  temp_dir dir;
  const auto pki = make_test_pki(dir.file("pki"));
  http_backend live(echo_handler("live"));
  running_proxy proxy(
      tls_listener_config(),
      {{"live", live.address()}, {"cert", pki.server_cert_path}, {"key", pki.server_key_path}});
  EXPECT_TRUE(proxy.server().listeners().at(0).tls);
  EXPECT_THAT(proxy.server().ready_line(), HasSubstr("listener public=https://127.0.0.1:"));

  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port(), tls_client_options::trusting(pki, "localhost")))
      << client.last_error();
  for (int i = 0; i < 2; ++i) { // keep-alive over the TLS connection
    auto res = client.round_trip(raw_client::request("GET", "/secure/" + std::to_string(i)));
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.status, 200);
    EXPECT_THAT(res.body, HasSubstr("\"target\":\"/secure/" + std::to_string(i) + "\""));
  }
  ASSERT_EQ(live.requests_seen(), 2u);
  const auto req = live.last_request();
  EXPECT_EQ(req.header("x-forwarded-proto").value_or(""), "https");
  EXPECT_EQ(req.tls_server_name, ""); // the upstream side stays plain HTTP
}

TEST(TlsTest, ListenerPresentsConfiguredCertificateAndRejectsPlainHttp) {
  temp_dir dir;
  const auto pki = make_test_pki(dir.file("pki"));
  const auto unrelated = make_test_pki(dir.file("other"));
  http_backend live(echo_handler());
  running_proxy proxy(
      tls_listener_config(),
      {{"live", live.address()}, {"cert", pki.server_cert_path}, {"key", pki.server_key_path}});
  // A client trusting another CA refuses the listener's certificate.
  raw_client distrusting;
  EXPECT_FALSE(distrusting.connect(proxy.port(), tls_client_options::trusting(unrelated)));
  // Plain HTTP on a TLS listener gets no HTTP answer, only a closed connection.
  raw_client plain;
  ASSERT_TRUE(plain.connect(proxy.port())) << plain.last_error();
  auto res = plain.round_trip(raw_client::request("GET", "/"));
  EXPECT_FALSE(res.ok()) << "status " << res.status;
  EXPECT_TRUE(plain.wait_closed(5s));
  EXPECT_EQ(live.requests_seen(), 0u);
}

TEST(TlsTest, MinVersion13RefusesTls12OnlyClient) {
  temp_dir dir;
  const auto pki = make_test_pki(dir.file("pki"));
  http_backend live(echo_handler());
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"live", live.address()}, {"cert", pki.server_cert_path}, {"key", pki.server_key_path}};

  // The default minimum (1.2) accepts a TLS 1.2-only client: the client below works.
  {
    running_proxy proxy(tls_listener_config(), vars);
    const auto tls12 = handshake_with_max_version(proxy.port(), TLS1_2_VERSION, pki);
    ASSERT_TRUE(tls12.ok) << tls12.error;
    EXPECT_EQ(tls12.version, TLS1_2_VERSION);
  }
  running_proxy proxy(tls_listener_config(", min_version: \"1.3\""), vars);
  const auto tls12 = handshake_with_max_version(proxy.port(), TLS1_2_VERSION, pki);
  EXPECT_FALSE(tls12.ok) << "negotiated version " << std::hex << tls12.version;
  const auto tls13 = handshake_with_max_version(proxy.port(), TLS1_3_VERSION, pki);
  ASSERT_TRUE(tls13.ok) << tls13.error;
  EXPECT_EQ(tls13.version, TLS1_3_VERSION);
}

TEST(TlsTest, SpeaksVerifiedTlsToUpstreamWithSni) {
  temp_dir dir;
  const auto pki = make_test_pki(dir.file("pki"));
  backend_options options;
  options.tls = pki;
  http_backend live(echo_handler("tls-live"), options);
  running_proxy proxy(
      simple_config("", ", tls: { enabled: true, ca: \"{ca}\" }"),
      {{"live", "localhost:" + std::to_string(live.port())}, {"ca", pki.ca_cert_path}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port())) << client.last_error();
  for (int i = 0; i < 2; ++i) {
    auto res = client.round_trip(raw_client::request("GET", "/over-tls"));
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.status, 200);
    EXPECT_THAT(res.body, HasSubstr("\"backend\":\"tls-live\""));
  }
  ASSERT_EQ(live.requests_seen(), 2u);
  EXPECT_EQ(live.last_request().tls_server_name, "localhost");
  EXPECT_EQ(live.last_request().header("x-forwarded-proto").value_or(""), "http");
  EXPECT_EQ(live.connections_accepted(), 1u); // the TLS connection is pooled and reused
}

TEST(TlsTest, UsesConfiguredSniForUpstreamNameCheck) {
  temp_dir dir;
  const auto pki = make_test_pki(dir.file("pki"), {"api.internal"});
  backend_options options;
  options.tls = pki;
  http_backend live(echo_handler(), options);
  {
    // The certificate names api.internal: an IP endpoint with that SNI verifies.
    running_proxy proxy(simple_config("", ", tls: { enabled: true, sni: api.internal, "
                                          "ca: \"{ca}\" }"),
                        {{"live", live.address()}, {"ca", pki.ca_cert_path}});
    raw_client client;
    ASSERT_TRUE(client.connect(proxy.port())) << client.last_error();
    auto res = client.round_trip(raw_client::request("GET", "/sni"));
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.status, 200);
    ASSERT_EQ(live.requests_seen(), 1u);
    EXPECT_EQ(live.last_request().tls_server_name, "api.internal");
  }
  // A name the certificate does not hold fails verification even though the CA is trusted.
  running_proxy proxy(
      simple_config("", ", tls: { enabled: true, sni: other.internal, ca: \"{ca}\" }"),
      {{"live", live.address()}, {"ca", pki.ca_cert_path}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port())) << client.last_error();
  auto res = client.round_trip(raw_client::request("GET", "/sni"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(live.requests_seen(), 1u);
}

TEST(TlsTest, RejectsUpstreamCertificateFromAnotherCa) {
  temp_dir dir;
  const auto trusted = make_test_pki(dir.file("trusted"));
  const auto other = make_test_pki(dir.file("other"));
  backend_options options;
  options.tls = other;
  http_backend live(echo_handler(), options);
  running_proxy proxy(
      simple_config("", ", tls: { enabled: true, ca: \"{ca}\" }"),
      {{"live", "localhost:" + std::to_string(live.port())}, {"ca", trusted.ca_cert_path}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port())) << client.last_error();
  auto res = client.round_trip(raw_client::request("GET", "/untrusted"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(live.requests_seen(), 0u);

  // The error is counted before the 502 is written, so the scrape sees it.
  auto metrics = admin_get(proxy.admin_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.error;
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(
      metric_value(metrics.body, "parallax_upstream_errors_total{upstream=\"live\",kind=\"tls\"}")
          .value_or("absent"),
      "1");
  EXPECT_EQ(
      metric_value(metrics.body,
                   "parallax_upstream_errors_total{upstream=\"live\",kind=\"connect_failed\"}")
          .value_or("absent"),
      "0");
}

TEST(TlsTest, VerifyFalseAcceptsCertificateFromAnotherCa) {
  temp_dir dir;
  const auto trusted = make_test_pki(dir.file("trusted"));
  const auto other = make_test_pki(dir.file("other"));
  backend_options options;
  options.tls = other;
  http_backend live(echo_handler(), options);
  running_proxy proxy(
      simple_config("", ", tls: { enabled: true, ca: \"{ca}\", verify: false }"),
      {{"live", "localhost:" + std::to_string(live.port())}, {"ca", trusted.ca_cert_path}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port())) << client.last_error();
  auto res = client.round_trip(raw_client::request("GET", "/unverified"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  ASSERT_EQ(live.requests_seen(), 1u);
  EXPECT_EQ(live.last_request().tls_server_name, "localhost");
}

TEST(TlsTest, ServerConstructionThrowsNamingAnUnreadableTlsFile) {
  temp_dir dir;
  const auto pki = make_test_pki(dir.file("pki"));
  const std::string missing_cert = dir.file("missing-cert.pem");
  const std::string missing_key = dir.file("missing-key.pem");
  const std::string missing_ca = dir.file("missing-ca.pem");
  struct file_case {
    const char* name;
    std::string yaml;
    std::string missing;
  };
  const std::string upstream_tls_yaml = "version: 1\n"
                                        "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                                        "admin: { address: \"127.0.0.1:0\" }\n"
                                        "upstreams:\n"
                                        "  live:\n"
                                        "    endpoints: [\"localhost:1\"]\n"
                                        "    tls: { enabled: true, ca: \"" +
                                        missing_ca +
                                        "\" }\n"
                                        "routes: [{ name: all, upstream: live }]\n";
  const auto listener_yaml = [](const std::string& cert, const std::string& key) {
    std::string yaml = tls_listener_config();
    for (const auto& [needle, value] : {std::pair<std::string, std::string>{"{cert}", cert},
                                        {"{key}", key},
                                        {"{live}", "127.0.0.1:1"}}) {
      yaml.replace(yaml.find(needle), needle.size(), value);
    }
    return yaml;
  };
  const file_case cases[] = {
      {"missing listener certificate", listener_yaml(missing_cert, pki.server_key_path),
       missing_cert},
      {"missing listener key", listener_yaml(pki.server_cert_path, missing_key), missing_key},
      {"missing upstream CA bundle", upstream_tls_yaml, missing_ca},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto cfg = load(c.yaml);
    ASSERT_TRUE(cfg);
    try {
      proxy::server::server srv(cfg);
      ADD_FAILURE() << "constructed a server although " << c.missing << " does not exist";
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), HasSubstr(c.missing));
    }
  }
}

} // namespace
} // namespace parallax::test
