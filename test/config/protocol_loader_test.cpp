// Tests of the loader's HTTP/2 and gRPC keys (config.md): listeners[].protocols, limits.http2,
// upstreams.*.protocol and max_streams_per_connection, mirror.grpc and compare.grpc, with one
// test per class of error and its exact "FILE:LINE:COL: key.path: message" text.

#include "config/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test/config/loader_fixture.hpp"

namespace parallax::config {
namespace {

using ::testing::ElementsAre;

/// A file whose listener line (line 2) ends with `listener_extra` and whose `live` upstream
/// (line 4) ends with `upstream_extra`; routes on lines 6-9, `tail` from line 10.
std::string file_with(const std::string& listener_extra, const std::string& upstream_extra = "",
                      const std::string& tail = "") {
  return "version: 1\n"
         "listeners: [{ name: public, address: 127.0.0.1:8080" +
         listener_extra +
         " }]\n"
         "upstreams:\n"
         "  live:    { endpoints: [\"127.0.0.1:9001\"]" +
         upstream_extra +
         " }\n"
         "  preview: { endpoints: [\"127.0.0.1:9002\"] }\n" +
         minimal_routes + tail;
}

TEST(ProtocolConfigTest, DefaultsMatchTheContract) {
  const auto result = load(head + minimal_routes);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  const config& c = *result.cfg;
  EXPECT_THAT(c.listeners[0].protocols,
              ElementsAre(listener_protocol::http1, listener_protocol::h2));
  const http2_limits& h2 = c.limits.http2;
  EXPECT_EQ(h2.max_concurrent_streams, 100u);
  EXPECT_EQ(h2.initial_stream_window, 64u * 1024);
  EXPECT_EQ(h2.initial_connection_window, 1024u * 1024);
  EXPECT_EQ(h2.max_header_list_bytes, 64u * 1024);
  EXPECT_EQ(h2.max_resets_per_second, 33u);
  EXPECT_EQ(h2.max_continuation_frames, 8u);
  const upstream& live = c.upstreams.at("live");
  EXPECT_EQ(live.protocol, upstream_protocol::http1);
  EXPECT_EQ(live.max_streams_per_connection, 100u);
  const mirror_policy& m = *c.routes[0].mirror;
  EXPECT_TRUE(m.grpc.methods.empty());
  EXPECT_FALSE(m.grpc.streaming);
  EXPECT_EQ(m.grpc.max_messages, 100u);
  EXPECT_TRUE(m.compare.grpc.descriptor_sets.empty());
}

TEST(ProtocolConfigTest, ParsesEveryKeyWithEnvironmentReferences) {
  const scoped_env streams("PARALLAX_TEST_H2_STREAMS", "250");
  const scoped_env dir("PARALLAX_TEST_PROTO_DIR", "/etc/protos");
  const auto result = load(
      "version: 1\n"
      "listeners:\n"
      "  - { name: public, address: 127.0.0.1:8080, protocols: [h2, http1] }\n"
      "  - { name: grpc, address: 127.0.0.1:8081, protocols: [\"${PARALLAX_TEST_PROTO:-h2}\"] }\n"
      "limits:\n"
      "  http2:\n"
      "    max_concurrent_streams: ${PARALLAX_TEST_H2_STREAMS}\n"
      "    initial_stream_window: 65535\n"
      "    initial_connection_window: 16MiB\n"
      "    max_header_list_bytes: 32KiB\n"
      "    max_resets_per_second: 100\n"
      "    max_continuation_frames: 0\n"
      "upstreams:\n"
      "  live: { endpoints: [\"127.0.0.1:9001\"], protocol: h2, tls: { enabled: true },\n"
      "          max_streams_per_connection: 16 }\n"
      "  preview: { endpoints: [\"127.0.0.1:9002\"], protocol: h2c }\n"
      "  legacy: { endpoints: [\"127.0.0.1:9003\"], protocol: http1,\n"
      "            max_streams_per_connection: 1 }\n"
      "routes:\n"
      "  - name: all\n"
      "    upstream: live\n"
      "    mirror:\n"
      "      upstream: preview\n"
      "      percent: 10\n"
      "      grpc:\n"
      "        methods: [/shop.v1.Catalog/GetItem, \"/shop.v1.Search/*\", /Health/Check]\n"
      "        streaming: true\n"
      "        max_messages: \"${PARALLAX_TEST_MAX_MESSAGES:-5}\"\n"
      "      compare:\n"
      "        grpc: { descriptor_sets: [\"${PARALLAX_TEST_PROTO_DIR}/shop.pb\", api.pb] }\n");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_texts(result));
  const config& c = *result.cfg;
  EXPECT_THAT(c.listeners[0].protocols,
              ElementsAre(listener_protocol::h2, listener_protocol::http1));
  EXPECT_THAT(c.listeners[1].protocols, ElementsAre(listener_protocol::h2));
  const http2_limits& h2 = c.limits.http2;
  EXPECT_EQ(h2.max_concurrent_streams, 250u);
  EXPECT_EQ(h2.initial_stream_window, 65535u);
  EXPECT_EQ(h2.initial_connection_window, 16u * 1024 * 1024);
  EXPECT_EQ(h2.max_header_list_bytes, 32u * 1024);
  EXPECT_EQ(h2.max_resets_per_second, 100u);
  EXPECT_EQ(h2.max_continuation_frames, 0u);
  EXPECT_EQ(c.upstreams.at("live").protocol, upstream_protocol::h2);
  EXPECT_EQ(c.upstreams.at("live").max_streams_per_connection, 16u);
  EXPECT_EQ(c.upstreams.at("preview").protocol, upstream_protocol::h2c);
  EXPECT_EQ(c.upstreams.at("legacy").protocol, upstream_protocol::http1);
  EXPECT_EQ(c.upstreams.at("legacy").max_streams_per_connection, 1u);
  const mirror_policy& m = *c.routes[0].mirror;
  EXPECT_THAT(m.grpc.methods,
              ElementsAre("/shop.v1.Catalog/GetItem", "/shop.v1.Search/*", "/Health/Check"));
  EXPECT_TRUE(m.grpc.streaming);
  EXPECT_EQ(m.grpc.max_messages, 5u);
  EXPECT_THAT(m.compare.grpc.descriptor_sets, ElementsAre("/etc/protos/shop.pb", "api.pb"));
}

TEST(ProtocolConfigTest, RejectsAnUnknownListenerProtocolNamingTheAllowedOnes) {
  expect_single_error(file_with(", protocols: [http1, h3]"),
                      "parallax.yaml:2:73: listeners[0].protocols[1]: must be http1 or h2, got "
                      "\"h3\"");
  expect_single_error(file_with(", protocols: [HTTP1]"),
                      "parallax.yaml:2:66: listeners[0].protocols[0]: must be http1 or h2, got "
                      "\"HTTP1\"");
}

TEST(ProtocolConfigTest, RejectsADuplicateListenerProtocol) {
  expect_single_error(file_with(", protocols: [h2, http1, h2]"),
                      "parallax.yaml:2:77: listeners[0].protocols[2]: \"h2\" is listed twice");
}

TEST(ProtocolConfigTest, RejectsAnEmptyOrScalarListenerProtocols) {
  expect_single_error(file_with(", protocols: []"),
                      "parallax.yaml:2:65: listeners[0].protocols: must contain at least one "
                      "entry");
  expect_single_error(file_with(", protocols: h2"),
                      "parallax.yaml:2:65: listeners[0].protocols: expected a list, got \"h2\"");
}

TEST(ProtocolConfigTest, RejectsHttp2CountsOutOfRange) {
  const auto result = load(minimal_with("limits:\n"
                                        "  http2:\n"
                                        "    max_concurrent_streams: 0\n"
                                        "    max_resets_per_second: 0\n"
                                        "    max_continuation_frames: -1\n"));
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:12:29: limits.http2.max_concurrent_streams: must be "
                          "between 1 and 2147483647, got 0",
                          "parallax.yaml:13:28: limits.http2.max_resets_per_second: must be "
                          "between 1 and 4294967295, got 0",
                          "parallax.yaml:14:30: limits.http2.max_continuation_frames: must be "
                          "between 0 and 4294967295, got -1"));
}

TEST(ProtocolConfigTest, RejectsHttp2WindowsOutsideRfc9113Bounds) {
  const auto result = load(minimal_with("limits:\n"
                                        "  http2:\n"
                                        "    initial_stream_window: 65534\n"
                                        "    initial_connection_window: 2GiB\n"
                                        "    max_header_list_bytes: 4GiB\n"));
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:12:28: limits.http2.initial_stream_window: must be "
                          "between 65535 and 2147483647 bytes, got 65534",
                          "parallax.yaml:13:32: limits.http2.initial_connection_window: must be "
                          "between 65535 and 2147483647 bytes, got 2GiB",
                          "parallax.yaml:14:28: limits.http2.max_header_list_bytes: must be "
                          "between 1 and 4294967295 bytes, got 4GiB"));
}

TEST(ProtocolConfigTest, RejectsUnknownKeysInTheNewSections) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: 10\n"
                                  "      grpc: { method: [/a.B/C] }\n"
                                  "      compare: { grpc: { descriptor_set: [a.pb] } }\n"
                                  "limits: { http2: { max_streams: 10 } }\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:12:15: routes[0].mirror.grpc.method: unknown key "
                          "\"method\" (did you mean \"methods\"?)",
                          "parallax.yaml:13:26: routes[0].mirror.compare.grpc.descriptor_set: "
                          "unknown key \"descriptor_set\" (did you mean \"descriptor_sets\"?)",
                          "parallax.yaml:14:20: limits.http2.max_streams: unknown key "
                          "\"max_streams\""));
}

TEST(ProtocolConfigTest, RejectsAnUnknownUpstreamProtocolNamingTheAllowedOnes) {
  expect_single_error(file_with("", ", protocol: http2"),
                      "parallax.yaml:4:55: upstreams.live.protocol: must be http1, h2 or h2c, "
                      "got \"http2\"");
}

TEST(ProtocolConfigTest, RejectsH2WithoutTlsSuggestingH2c) {
  expect_single_error(file_with("", ", protocol: h2"),
                      "parallax.yaml:4:55: upstreams.live.protocol: h2 is HTTP/2 over TLS and "
                      "needs tls.enabled: true (use h2c for HTTP/2 without TLS)");
  expect_single_error(file_with("", ", protocol: h2, tls: { enabled: false }"),
                      "parallax.yaml:4:55: upstreams.live.protocol: h2 is HTTP/2 over TLS and "
                      "needs tls.enabled: true (use h2c for HTTP/2 without TLS)");
}

TEST(ProtocolConfigTest, RejectsH2cWithTlsSuggestingH2) {
  expect_single_error(file_with("", ", tls: { enabled: true }, protocol: h2c"),
                      "parallax.yaml:4:79: upstreams.live.protocol: h2c is HTTP/2 without TLS "
                      "but tls.enabled is true (use h2 for HTTP/2 over TLS)");
}

TEST(ProtocolConfigTest, RejectsMaxStreamsPerConnectionBelowOne) {
  expect_single_error(file_with("", ", protocol: h2c, max_streams_per_connection: 0"),
                      "parallax.yaml:4:88: upstreams.live.max_streams_per_connection: must be "
                      "between 1 and 2147483647, got 0");
}

TEST(ProtocolConfigTest, RejectsMalformedGrpcMethods) {
  const auto result = load(head + "routes:\n"
                                  "  - name: all\n"
                                  "    upstream: live\n"
                                  "    mirror:\n"
                                  "      upstream: preview\n"
                                  "      percent: 10\n"
                                  "      grpc:\n"
                                  "        methods:\n"
                                  "          - shop.v1.Catalog/GetItem\n"
                                  "          - /shop.v1.Catalog\n"
                                  "          - /shop.v1.Catalog/\n"
                                  "          - /shop.*/GetItem\n"
                                  "          - /shop..Catalog/GetItem\n"
                                  "          - /shop.v1.Catalog/Get/Item\n"
                                  "          - /1shop.Catalog/GetItem\n"
                                  "          - \"/*\"\n");
  const std::string usage =
      "expected a gRPC method \"/package.Service/Method\" or \"/package.Service/*\", got ";
  EXPECT_THAT(
      error_texts(result),
      ElementsAre("parallax.yaml:14:13: routes[0].mirror.grpc.methods[0]: " + usage +
                      "\"shop.v1.Catalog/GetItem\"",
                  "parallax.yaml:15:13: routes[0].mirror.grpc.methods[1]: " + usage +
                      "\"/shop.v1.Catalog\"",
                  "parallax.yaml:16:13: routes[0].mirror.grpc.methods[2]: " + usage +
                      "\"/shop.v1.Catalog/\"",
                  "parallax.yaml:17:13: routes[0].mirror.grpc.methods[3]: " + usage +
                      "\"/shop.*/GetItem\"",
                  "parallax.yaml:18:13: routes[0].mirror.grpc.methods[4]: " + usage +
                      "\"/shop..Catalog/GetItem\"",
                  "parallax.yaml:19:13: routes[0].mirror.grpc.methods[5]: " + usage +
                      "\"/shop.v1.Catalog/Get/Item\"",
                  "parallax.yaml:20:13: routes[0].mirror.grpc.methods[6]: " + usage +
                      "\"/1shop.Catalog/GetItem\"",
                  "parallax.yaml:21:13: routes[0].mirror.grpc.methods[7]: " + usage + "\"/*\""));
}

TEST(ProtocolConfigTest, RejectsWrongGrpcMirrorValues) {
  const auto result =
      load(head + "routes:\n"
                  "  - name: all\n"
                  "    upstream: live\n"
                  "    mirror:\n"
                  "      upstream: preview\n"
                  "      percent: 10\n"
                  "      grpc: { methods: /a.B/C, streaming: yes, max_messages: 0 }\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:12:24: routes[0].mirror.grpc.methods: expected a list, "
                          "got \"/a.B/C\"",
                          "parallax.yaml:12:43: routes[0].mirror.grpc.streaming: expected true or "
                          "false, got \"yes\"",
                          "parallax.yaml:12:62: routes[0].mirror.grpc.max_messages: must be "
                          "between 1 and 4294967295, got 0"));
}

TEST(ProtocolConfigTest, RejectsEmptyDescriptorSetPaths) {
  const auto result = load(
      head +
      "routes:\n"
      "  - name: all\n"
      "    upstream: live\n"
      "    mirror:\n"
      "      upstream: preview\n"
      "      percent: 10\n"
      "      compare: { grpc: { descriptor_sets: [a.pb, \"\", \"${PARALLAX_UNSET_X:-}\"] } }\n");
  EXPECT_THAT(error_texts(result),
              ElementsAre("parallax.yaml:12:50: routes[0].mirror.compare.grpc.descriptor_sets[1]: "
                          "must not be empty",
                          "parallax.yaml:12:54: routes[0].mirror.compare.grpc.descriptor_sets[2]: "
                          "must not be empty"));
  expect_single_error(head + "routes:\n"
                             "  - name: all\n"
                             "    upstream: live\n"
                             "    mirror:\n"
                             "      upstream: preview\n"
                             "      percent: 10\n"
                             "      compare: { grpc: { descriptor_sets: a.pb } }\n",
                      "parallax.yaml:12:43: routes[0].mirror.compare.grpc.descriptor_sets: "
                      "expected a list, got \"a.pb\"");
}

TEST(ProtocolConfigTest, NewUpstreamAndCompareKeysTakePartInEquality) {
  upstream a;
  upstream b;
  b.protocol = upstream_protocol::h2c;
  EXPECT_FALSE(a == b);
  b = a;
  b.max_streams_per_connection = 7;
  EXPECT_FALSE(a == b);
  compare_policy c;
  compare_policy d;
  d.grpc.descriptor_sets = {"shop.pb"};
  EXPECT_FALSE(c == d);
  grpc_mirror e;
  grpc_mirror f;
  f.streaming = true;
  EXPECT_FALSE(e == f);
  http2_limits g;
  http2_limits h;
  h.max_resets_per_second = 1;
  EXPECT_FALSE(g == h);
}

} // namespace
} // namespace parallax::config
