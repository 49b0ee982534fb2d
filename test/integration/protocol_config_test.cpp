// Protocol settings at their edges (HTTP/2 itself is tested with real HTTP/2 and gRPC peers in
// test/system/h2_test.py and grpc_test.py): an h2 upstream must negotiate h2 by ALPN, and a
// listener that offers h2 still serves HTTP/1.1.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test/integration/binary_fixture.hpp"
#include "test/integration/proxy_fixture.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/process.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// Reports of the in-process proxy kept in `dir`.
std::string reports_in(const temp_dir& dir) {
  return "reports: { discrepancies: { path: \"" + dir.file("discrepancies.jsonl") + "\" } }\n";
}

TEST(ProtocolConfigTest, AnH2UpstreamThatDoesNotNegotiateH2IsATlsFailure) {
  // An HTTP/1.1-only TLS backend: ALPN gives no h2, so parallax does not speak HTTP/2 to it.
  temp_dir dir;
  const auto pki = make_test_pki(dir.file("pki"));
  backend_options options;
  options.tls = pki;
  http_backend live(echo_handler("h1 only"), options);
  running_proxy proxy(simple_config(reports_in(dir), ", protocol: h2, tls: { enabled: true, ca: \"{ca}\" }"),
                      {{"live", "localhost:" + std::to_string(live.port())}, {"ca", pki.ca_cert_path}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  const auto response = client.round_trip(raw_client::request("GET", "/"));
  EXPECT_EQ(response.status, 502);
  EXPECT_EQ(live.requests_seen(), 0U);
}

TEST(ProtocolConfigTest, ListenersOfferingH2StillServeHttp1) {
  http_backend live{fixed_response_handler(200, "ok")};
  temp_dir dir;
  std::string yaml = simple_config(reports_in(dir));
  const std::string listener = "address: \"127.0.0.1:0\" }";
  yaml.replace(yaml.find(listener), listener.size(),
               "address: \"127.0.0.1:0\", protocols: [h2, http1] }");
  running_proxy proxy(yaml, {{"live", live.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  const auto response = client.round_trip(raw_client::request("GET", "/"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
}

} // namespace
} // namespace parallax::test
