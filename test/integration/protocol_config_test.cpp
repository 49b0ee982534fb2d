// HTTP/2 configuration while upstream HTTP/2 is not implemented: an upstream configured as h2
// or h2c stops start-up and rejects a reload (naming the key) instead of being spoken to in
// HTTP/1.1; a listener that offers h2 (served: test/system/h2_test.py) still serves HTTP/1.1.
// Delete the refusal tests with the check in proxy/server/runtime.cpp when upstream HTTP/2 is
// implemented.

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

TEST(ProtocolConfigTest, RunRefusesAnH2cUpstreamThatCheckAccepts) {
  temp_dir dir;
  const auto file = write_file(
      dir.file("h2c.yaml"),
      config_head() +
          "  live: { endpoints: [\"127.0.0.1:1\"] }\n"
          "  preview: { endpoints: [\"127.0.0.1:2\"], protocol: h2c }\n"
          "routes:\n"
          "  - { name: all, upstream: live, mirror: { upstream: preview, percent: 1 } }\n" +
          reports_in(dir));
  child_process check({binary(), "check", "--config", file});
  EXPECT_EQ(run_to_exit(check), 0) << check.all_output();
  child_process run({binary(), "run", "--config", file});
  EXPECT_EQ(run_to_exit(run), 1);
  EXPECT_THAT(run.all_output(),
              HasSubstr("upstreams.preview.protocol: h2c is not supported by this build yet"));
  EXPECT_THAT(run.all_output(), Not(HasSubstr("ready:")));
}

TEST(ProtocolConfigTest, ServerRefusesAnH2UpstreamAtStartUp) {
  temp_dir dir;
  std::string yaml = simple_config(reports_in(dir), ", protocol: h2, tls: { enabled: true }");
  yaml.replace(yaml.find("{live}"), 6, "127.0.0.1:1");
  const auto loaded = config::load_string(yaml, "start.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().text();
  try {
    proxy::server::server refused(loaded.cfg);
    FAIL() << "the server started with an h2 upstream";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "upstreams.live.protocol: h2 is not supported by this build yet (use http1)");
  }
}

TEST(ProtocolConfigTest, ReloadToAnH2UpstreamIsRejectedAndTheRunningConfigurationStays) {
  http_backend live{fixed_response_handler(200, "ok")};
  temp_dir dir;
  const std::vector<std::pair<std::string, std::string>> vars{{"live", live.address()}};
  running_proxy proxy(simple_config(reports_in(dir)), vars);
  std::string next = simple_config(reports_in(dir), ", protocol: h2c");
  next.replace(next.find("{live}"), 6, live.address());
  const auto r = proxy.server().reload_text(next);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.generation, 1u);
  EXPECT_THAT(r.errors, ::testing::ElementsAre("test.yaml: upstreams.live.protocol: h2c is not "
                                               "supported by this build yet (use http1)"));
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  EXPECT_EQ(client.round_trip(raw_client::request("GET", "/")).status, 200);
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
