// Tests of to_json: the effective configuration exported by the admin endpoint.

#include "config/json.hpp"
#include "config/loader.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <string>

namespace parallax::config {
namespace {

namespace json = boost::json;

/// Loads a test file that must be valid.
std::shared_ptr<const config> must_load(const std::string& yaml) {
  auto result = load_string(yaml, "json_test.yaml");
  std::string errors;
  for (const auto& e : result.errors)
    errors += e.text() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  return result.cfg;
}

const std::string tls_file = R"(version: 1
listeners:
  - name: public
    address: 0.0.0.0:8443
    tls: { cert: /etc/tls.crt, key: /etc/tls.key, min_version: "1.3" }
  - name: plain
    address: "[::1]:8080"
workers: 2
limits: { header_timeout: 250ms, idle_timeout: 2m, drain_delay: 5s, drain_timeout: 1h,
          max_request_header_bytes: 64KiB }
upstreams:
  live: { endpoints: ["127.0.0.1:9001"], connect_timeout: 1500ms }
  preview: { endpoints: ["127.0.0.1:9002"] }
routes:
  - name: api
    match: { path_prefix: /api/, headers: { Authorization: "Bearer abc", x-canary: "1" } }
    upstream: live
    mirror:
      upstream: preview
      percent: 12.5
      sample_by: header:X-User
      rewrite:
        set_headers: { x-parallax-shadow: "1", x-api-key: k-123 }
      compare: { headers: { include: [content-type] } }
reports:
  redact: { headers: [authorization, x-api-key] }
)";

TEST(ConfigJsonTest, OmitsTheListenerTlsKey) {
  const auto cfg = must_load(tls_file);
  ASSERT_TRUE(cfg);
  const json::value out = to_json(*cfg);
  const auto& tls = out.at("listeners").at(0).at("tls").as_object();
  EXPECT_EQ(tls.at("cert"), "/etc/tls.crt");
  EXPECT_EQ(tls.at("min_version"), "1.3");
  EXPECT_FALSE(tls.contains("key"));
  EXPECT_TRUE(out.at("listeners").at(1).at("tls").is_null());
  EXPECT_EQ(json::serialize(out).find("/etc/tls.key"), std::string::npos);
}

TEST(ConfigJsonTest, RedactsValuesOfRedactedHeaders) {
  const auto cfg = must_load(tls_file);
  ASSERT_TRUE(cfg);
  const json::value out = to_json(*cfg);
  const auto& route = out.at("routes").at(0);
  EXPECT_EQ(route.at("match").at("headers").at("authorization"), "[redacted]");
  EXPECT_EQ(route.at("match").at("headers").at("x-canary"), "1");
  const auto& set = route.at("mirror").at("rewrite").at("set_headers");
  EXPECT_EQ(set.at("x-parallax-shadow"), "1");
  EXPECT_EQ(set.at("x-api-key"), "[redacted]");
  const std::string text = json::serialize(out);
  EXPECT_EQ(text.find("Bearer abc"), std::string::npos);
  EXPECT_EQ(text.find("k-123"), std::string::npos);
}

TEST(ConfigJsonTest, FormatsDurationsAsStringsAndSizesAsIntegers) {
  const auto cfg = must_load(tls_file);
  ASSERT_TRUE(cfg);
  const json::value out = to_json(*cfg);
  const auto& limits = out.at("limits");
  EXPECT_EQ(limits.at("header_timeout"), "250ms");
  EXPECT_EQ(limits.at("idle_timeout"), "2m");
  EXPECT_EQ(limits.at("drain_delay"), "5s");
  EXPECT_EQ(limits.at("drain_timeout"), "1h");
  EXPECT_EQ(limits.at("max_request_header_bytes").to_number<std::uint64_t>(), 65536u);
  const auto& live = out.at("upstreams").at("live");
  EXPECT_EQ(live.at("connect_timeout"), "1500ms");
  EXPECT_EQ(live.at("request_timeout"), "30s");
  EXPECT_EQ(out.at("reports").at("summary").at("interval"), "30s");
  EXPECT_EQ(out.at("reports").at("discrepancies").at("max_file_bytes").to_number<std::uint64_t>(),
            100u * 1024 * 1024);
}

TEST(ConfigJsonTest, UsesTheKeysOfTheConfigurationContract) {
  const auto cfg = must_load(tls_file);
  ASSERT_TRUE(cfg);
  const json::value out = to_json(*cfg);
  EXPECT_EQ(out.at("version").to_number<int>(), 1);
  EXPECT_EQ(out.at("workers").to_number<int>(), 2);
  EXPECT_EQ(out.at("admin").at("address"), "127.0.0.1:9901");
  EXPECT_EQ(out.at("listeners").at(1).at("address"), "[::1]:8080");
  const auto& mirror = out.at("routes").at(0).at("mirror");
  EXPECT_EQ(mirror.at("upstream"), "preview");
  EXPECT_DOUBLE_EQ(mirror.at("percent").to_number<double>(), 12.5);
  EXPECT_TRUE(mirror.at("max_rps").is_int64()); // integral numbers are written as integers
  EXPECT_EQ(mirror.at("sample_by"), "header:x-user");
  EXPECT_EQ(mirror.at("methods"), (json::array{"GET", "HEAD", "OPTIONS"}));
  EXPECT_EQ(mirror.at("compare").at("headers"),
            (json::object{{"include", json::array{"content-type"}}}));
  EXPECT_EQ(mirror.at("compare").at("body").at("max_bytes").to_number<std::uint64_t>(),
            1024u * 1024);
  EXPECT_EQ(out.at("routes").at(0).at("match").at("path_prefix"), "/api/");
  EXPECT_TRUE(out.at("routes").at(0).at("match").at("path_exact").is_null());
  EXPECT_EQ(out.at("logging"),
            (json::object{{"level", "info"}, {"format", "text"}, {"access_log", false}}));
}

TEST(ConfigJsonTest, ShowsTheHttp2AndGrpcKeysWithTheirDefaults) {
  const auto cfg = must_load(tls_file);
  ASSERT_TRUE(cfg);
  const json::value out = to_json(*cfg);
  EXPECT_EQ(out.at("listeners").at(0).at("protocols"), (json::array{"http1", "h2"}));
  EXPECT_EQ(out.at("limits").at("http2"), (json::object{{"max_concurrent_streams", 100},
                                                        {"initial_stream_window", 65536},
                                                        {"initial_connection_window", 1048576},
                                                        {"max_header_list_bytes", 65536},
                                                        {"max_resets_per_second", 33},
                                                        {"max_continuation_frames", 8}}));
  const auto& live = out.at("upstreams").at("live");
  EXPECT_EQ(live.at("protocol"), "http1");
  EXPECT_EQ(live.at("max_streams_per_connection").to_number<int>(), 100);
  const auto& mirror = out.at("routes").at(0).at("mirror");
  EXPECT_EQ(
      mirror.at("grpc"),
      (json::object{{"methods", json::array{}}, {"streaming", false}, {"max_messages", 100}}));
  EXPECT_EQ(mirror.at("compare").at("grpc"), (json::object{{"descriptor_sets", json::array{}}}));
}

TEST(ConfigJsonTest, ShowsConfiguredHttp2AndGrpcValues) {
  const auto cfg = must_load(R"(version: 1
listeners: [{ name: grpc, address: 127.0.0.1:8080, protocols: [h2] }]
limits: { http2: { max_concurrent_streams: 8, initial_stream_window: 1MiB,
                   initial_connection_window: 8MiB, max_header_list_bytes: 16KiB,
                   max_resets_per_second: 5, max_continuation_frames: 2 } }
upstreams:
  live: { endpoints: ["127.0.0.1:9001"], protocol: h2, tls: { enabled: true },
          max_streams_per_connection: 32 }
  preview: { endpoints: ["127.0.0.1:9002"], protocol: h2c }
routes:
  - name: all
    upstream: live
    mirror:
      upstream: preview
      percent: 100
      grpc: { methods: [/shop.v1.Catalog/*], streaming: true, max_messages: 3 }
      compare: { grpc: { descriptor_sets: [/etc/shop.pb] } }
)");
  ASSERT_TRUE(cfg);
  const json::value out = to_json(*cfg);
  EXPECT_EQ(out.at("listeners").at(0).at("protocols"), (json::array{"h2"}));
  EXPECT_EQ(out.at("limits").at("http2"), (json::object{{"max_concurrent_streams", 8},
                                                        {"initial_stream_window", 1048576},
                                                        {"initial_connection_window", 8388608},
                                                        {"max_header_list_bytes", 16384},
                                                        {"max_resets_per_second", 5},
                                                        {"max_continuation_frames", 2}}));
  EXPECT_EQ(out.at("upstreams").at("live").at("protocol"), "h2");
  EXPECT_EQ(out.at("upstreams").at("live").at("max_streams_per_connection").to_number<int>(), 32);
  EXPECT_EQ(out.at("upstreams").at("preview").at("protocol"), "h2c");
  const auto& mirror = out.at("routes").at(0).at("mirror");
  EXPECT_EQ(mirror.at("grpc"), (json::object{{"methods", json::array{"/shop.v1.Catalog/*"}},
                                             {"streaming", true},
                                             {"max_messages", 3}}));
  EXPECT_EQ(mirror.at("compare").at("grpc"),
            (json::object{{"descriptor_sets", json::array{"/etc/shop.pb"}}}));
}

TEST(ConfigJsonTest, WritesWorkersAutoForZero) {
  const auto cfg = must_load("version: 1\n"
                             "listeners: [{ name: public, address: 127.0.0.1:8080 }]\n"
                             "upstreams: { live: { endpoints: [\"127.0.0.1:9001\"] } }\n"
                             "routes: [{ name: all, upstream: live }]\n");
  ASSERT_TRUE(cfg);
  const json::value out = to_json(*cfg);
  EXPECT_EQ(out.at("workers"), "auto");
  EXPECT_TRUE(out.at("routes").at(0).at("mirror").is_null());
}

} // namespace
} // namespace parallax::config
