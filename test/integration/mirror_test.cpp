// Mirroring end to end through a real in-process proxy (wired as `parallax run` wires it):
// sampling and skip reasons, the shadow request (rewrite, body copy), comparison of live and
// shadow responses into discrepancy records, the summary, metrics, and isolation of the live
// path from every kind of shadow failure.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <zlib.h>

#include <fstream>
#include <thread>
#include <sstream>
#include <string>
#include <vector>

#include "test/integration/proxy_fixture.hpp"
#include "test/support/blackhole_server.hpp"
#include "test/support/gate.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

// One route `api` forwarding to {live} and mirroring to {preview}; `mirror` is YAML lines
// added to the route's mirror block (indented by the caller with 6 spaces).
std::string mirror_config(const std::string& mirror, const std::string& extra = "",
                          const std::string& preview_extra = "") {
  return "version: 1\n"
         "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
         "admin: { address: \"127.0.0.1:0\" }\n"
         "workers: 1\n"
         "upstreams:\n"
         "  live: { endpoints: [\"{live}\"] }\n"
         "  preview: { endpoints: [\"{preview}\"] " +
         preview_extra +
         "}\n"
         "routes:\n"
         "  - name: api\n"
         "    upstream: live\n"
         "    mirror:\n"
         "      upstream: preview\n"
         "      percent: 100\n" +
         mirror + extra;
}

std::vector<boost::json::value> read_records(const std::string& path) {
  std::vector<boost::json::value> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(boost::json::parse(line));
  }
  return out;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

request_handler json_handler(std::string body, header_list headers = {}) {
  return fixed_response_handler(200, std::move(body), std::move(headers), "application/json");
}

std::string gzip(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::uint64_t metric(running_proxy& proxy, const std::string& series) {
  const auto text = admin_get(proxy.admin_port(), "/metrics").body;
  const auto v = metric_value(text, series);
  return v ? std::stoull(*v) : 0;
}

// Skips counted when an exchange ends (client_aborted, body_too_large after a 413) are in
// place before the session ends, and the connection gauge drops after that: await the gauge
// with a bounded poll of the real admin endpoint.
void await_no_client_connections(running_proxy& proxy) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (metric(proxy, "parallax_downstream_connections{listener=\"public\"}") != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
}

boost::json::object report(running_proxy& proxy) {
  return boost::json::parse(admin_get(proxy.admin_port(), "/report").body).as_object();
}

// The summary's counts of one endpoint: {sampled, compared}; {-1, -1} when it is not listed.
std::pair<std::int64_t, std::int64_t> endpoint_counts(const boost::json::object& summary,
                                                      std::string_view name) {
  for (const auto& e : summary.at("endpoints").as_array()) {
    if (e.at("endpoint").as_string() == name)
      return {e.at("sampled").as_int64(), e.at("compared").as_int64()};
  }
  return {-1, -1};
}

TEST(MirrorTest, JsonDifferencesReachTheLogTheSummaryAndTheMetrics) {
  temp_dir dir;
  http_backend live(json_handler(R"({"user":{"id":42,"name":"Ann","email":"a@x.io"},)"
                                 R"("price":10,"meta":{"time":"t1"}})"));
  http_backend preview(json_handler(R"({"user":{"id":42,"name":"ann","nick":"annie"},)"
                                    R"("price":"10","meta":{"time":"t2"}})"));
  running_proxy proxy(
      mirror_config("      compare: { body: { ignore: [/meta/time] } }\n",
                    "reports: { discrepancies: { path: \"{log}\" } }\n"),
      {{"live", live.address()}, {"preview", preview.address()}, {"log", dir.file("d.jsonl")}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res = client.round_trip(raw_client::request("GET", "/api/users/42?token=s3cr3t&lang=en"));
  ASSERT_EQ(res.status, 200) << res.error;
  EXPECT_THAT(res.body, HasSubstr("\"Ann\"")); // the client always gets the live answer
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));

  ASSERT_EQ(preview.requests_seen(), 1u);
  const auto shadow_req = preview.last_request();
  EXPECT_EQ(shadow_req.target, "/api/users/42?token=s3cr3t&lang=en");
  EXPECT_EQ(shadow_req.header("x-parallax-shadow").value_or(""), "1");
  EXPECT_FALSE(live.last_request().header("x-parallax-shadow"));

  const auto records = read_records(dir.file("d.jsonl"));
  ASSERT_EQ(records.size(), 1u);
  const auto& r = records[0].as_object();
  EXPECT_EQ(r.at("schema").as_string(), "parallax.discrepancy/v1");
  EXPECT_EQ(r.at("outcome").as_string(), "differ");
  EXPECT_EQ(r.at("route").as_string(), "api");
  EXPECT_EQ(r.at("endpoint").as_string(), "GET /api/users/{id}");
  EXPECT_EQ(r.at("request").at("target").as_string(), "/api/users/42?token=[redacted]&lang=en");
  EXPECT_EQ(r.at("live").at("status").as_int64(), 200);
  EXPECT_EQ(r.at("shadow").at("status").as_int64(), 200);
  EXPECT_TRUE(r.at("shadow").at("error").is_null());
  EXPECT_EQ(r.at("live").at("body_sha256").as_string().size(), 64u);
  const auto text = boost::json::serialize(r.at("differences"));
  EXPECT_THAT(text, HasSubstr(R"("op":"replace","path":"/user/name","live":"Ann","shadow":"ann")"));
  EXPECT_THAT(text, HasSubstr(R"("op":"remove","path":"/user/email")"));
  EXPECT_THAT(text, HasSubstr(R"("op":"add","path":"/user/nick")"));
  EXPECT_THAT(text, HasSubstr(R"("op":"type","path":"/price","live":10,"shadow":"10")"));
  EXPECT_THAT(text, Not(HasSubstr("/meta/time")));
  EXPECT_EQ(r.at("noise_suppressed").as_int64(), 1); // the ignored timestamp

  const auto summary = report(proxy);
  EXPECT_EQ(summary.at("schema").as_string(), "parallax.summary/v1");
  EXPECT_EQ(summary.at("totals").at("exchanges").as_int64(), 1);
  EXPECT_EQ(summary.at("totals").at("sampled").as_int64(), 1);
  EXPECT_EQ(summary.at("totals").at("differ").as_int64(), 1);
  const auto& ep = summary.at("endpoints").as_array().at(0).as_object();
  EXPECT_EQ(ep.at("endpoint").as_string(), "GET /api/users/{id}");
  EXPECT_EQ(ep.at("examples").as_array().at(0).as_string(), r.at("id").as_string());

  EXPECT_EQ(metric(proxy, "parallax_mirror_sampled_total{route=\"api\"}"), 1u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total{route=\"api\",outcome=\"differ\"}"), 1u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_differences_total{route=\"api\",kind=\"body\"}"), 4u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_shadow_duration_seconds_count{route=\"api\"}"), 1u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_live_duration_seconds_count{route=\"api\"}"), 1u);
  EXPECT_EQ(metric(proxy, "parallax_report_write_errors_total{sink=\"discrepancies\"}"), 0u);
  EXPECT_EQ(metric(proxy, "parallax_report_write_errors_total{sink=\"summary\"}"), 0u);
  const auto html = admin_get(proxy.admin_port(), "/report.html");
  EXPECT_EQ(html.status, 200);
  EXPECT_THAT(html.body, HasSubstr("GET /api/users/{id}"));
}

// A live and a preview backend answering the same JSON, a proxy mirroring route `api` at 100%
// between them, and a client connected to it.
struct mirrored_api {
  mirrored_api()
      : live(json_handler(R"({"a":1})")), preview(json_handler(R"({"a":1})")),
        proxy(mirror_config(""), {{"live", live.address()}, {"preview", preview.address()}}) {
    EXPECT_TRUE(client.connect(proxy.port())) << client.last_error();
  }
  http_backend live;
  http_backend preview;
  running_proxy proxy;
  raw_client client;
};

// The loop guard: a request that already carries the shadow marker (the route's
// rewrite.set_headers, `x-parallax-shadow: 1` by default) is served but never mirrored again,
// so two parallax instances cannot mirror each other in a loop.
TEST(MirrorTest, ARequestCarryingTheShadowMarkerIsNeverMirroredAgain) {
  mirrored_api m;
  auto& [live, preview, proxy, client] = m;
  auto marked =
      client.round_trip(raw_client::request("GET", "/api/marked", {{"X-Parallax-Shadow", "1"}}));
  EXPECT_EQ(marked.status, 200);
  EXPECT_EQ(live.requests_seen(), 1u);
  // Another value is not the marker: mirrored as usual.
  auto other =
      client.round_trip(raw_client::request("GET", "/api/other", {{"x-parallax-shadow", "0"}}));
  EXPECT_EQ(other.status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  EXPECT_EQ(preview.requests_seen(), 1u);
  EXPECT_EQ(preview.last_request().target, "/api/other");
  EXPECT_EQ(metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"shadow_request\"}"),
            1u);
  EXPECT_EQ(report(proxy).at("totals").at("skipped").at("shadow_request").as_int64(), 1);
}

// Runtime control (proxy.md "Admin listener"): a percent override and a pause (skip reason
// `paused`), shown by GET /mirror and mirror_percent, dropped by DELETE; POST /mirror is the
// kill switch for every route. No restart, no lock on the request path.
TEST(MirrorTest, RuntimeOverridesChangeMirroringWithoutARestart) {
  mirrored_api m;
  auto& [live, preview, proxy, client] = m;
  raw_client admin;
  ASSERT_TRUE(admin.connect(proxy.admin_port()));
  const auto call = [&](const char* method, const char* path, std::string_view body = {}) {
    return admin.round_trip(raw_client::request(method, path, {}, body));
  };
  const auto get_mirror = [&] {
    return boost::json::parse(call("GET", "/mirror").body).at("routes").at(0).as_object();
  };
  const auto forward = [&](const char* target) {
    ASSERT_EQ(client.round_trip(raw_client::request("GET", target)).status, 200) << target;
  };
  const auto skipped_paused = [&] {
    return metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"paused\"}");
  };

  forward("/api/1"); // configured: 100%
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  EXPECT_EQ(preview.requests_seen(), 1u);
  EXPECT_EQ(get_mirror().at("effective_percent").to_number<double>(), 100.0);
  EXPECT_TRUE(get_mirror().at("override_percent").is_null());

  auto zero = call("POST", "/mirror/api", R"({"percent": 0})");
  ASSERT_EQ(zero.status, 200) << zero.body;
  EXPECT_EQ(boost::json::parse(zero.body).at("override_percent").to_number<double>(), 0.0);
  forward("/api/2"); // not sampled at all
  EXPECT_EQ(metric(proxy, "parallax_mirror_sampled_total{route=\"api\"}"), 1u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_percent{route=\"api\"}"), 0u);

  ASSERT_EQ(call("POST", "/mirror/api", R"({"percent": 100, "paused": true})").status, 200);
  forward("/api/3"); // sampled, then skipped: paused
  EXPECT_EQ(skipped_paused(), 1u);
  auto state = get_mirror();
  EXPECT_TRUE(state.at("paused").as_bool());
  EXPECT_EQ(state.at("effective_percent").to_number<double>(), 0.0);
  EXPECT_EQ(state.at("configured_percent").to_number<double>(), 100.0);

  ASSERT_EQ(call("DELETE", "/mirror/api").status, 200);
  forward("/api/4"); // the configured 100% again
  ASSERT_TRUE(proxy.engine().wait_settled(2, 10s));
  EXPECT_EQ(preview.requests_seen(), 2u);
  EXPECT_EQ(preview.last_request().target, "/api/4");

  ASSERT_EQ(call("POST", "/mirror", R"({"paused": true})").status, 200); // every route
  forward("/api/5");
  EXPECT_EQ(skipped_paused(), 2u);
  ASSERT_EQ(call("DELETE", "/mirror").status, 200);
  EXPECT_FALSE(get_mirror().at("paused").as_bool());
  EXPECT_EQ(metric(proxy, "parallax_mirror_percent{route=\"api\"}"), 100u);

  EXPECT_EQ(call("POST", "/mirror/nope", R"({"percent": 1})").status, 404);
  EXPECT_EQ(call("DELETE", "/mirror/nope").status, 404);
  for (const std::string_view bad :
       {"", "{}", "[1]", "nonsense", R"({"percent": 101})", R"({"percent": -1})",
        R"({"percent": "5"})", R"({"paused": 1})", R"({"percent": 5, "x": 1})"}) {
    auto res = call("POST", "/mirror/api", bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_THAT(res.body, HasSubstr("error")) << bad;
  }
  EXPECT_TRUE(get_mirror().at("override_percent").is_null()); // nothing bad was applied
}

// POST /report/reset starts a new report window: the summary's counts and endpoints restart
// (totals included), the metrics, being counters, do not.
TEST(MirrorTest, ReportResetStartsANewWindow) {
  http_backend live(json_handler(R"({"a":1})"));
  http_backend preview(json_handler(R"({"a":2})"));
  running_proxy proxy(mirror_config(""),
                      {{"live", live.address()}, {"preview", preview.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_EQ(client.round_trip(raw_client::request("GET", "/api/one")).status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  const auto before = report(proxy);
  EXPECT_EQ(before.at("totals").at("exchanges").as_int64(), 1);
  EXPECT_EQ(before.at("endpoints").as_array().size(), 1u);

  raw_client admin;
  ASSERT_TRUE(admin.connect(proxy.admin_port()));
  const auto reset = admin.round_trip(raw_client::request("POST", "/report/reset"));
  ASSERT_EQ(reset.status, 200) << reset.body;
  const auto answer = boost::json::parse(reset.body).as_object();
  const auto after = report(proxy);
  EXPECT_EQ(after.at("since"), answer.at("since")); // (whole seconds: may equal the old one)
  EXPECT_EQ(after.at("totals").at("exchanges").as_int64(), 0);
  EXPECT_EQ(after.at("totals").at("differ").as_int64(), 0);
  EXPECT_TRUE(after.at("endpoints").as_array().empty());
  EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total{route=\"api\",outcome=\"differ\"}"), 1u);

  // The new window counts what follows.
  ASSERT_EQ(client.round_trip(raw_client::request("GET", "/api/two")).status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(2, 10s));
  const auto later = report(proxy);
  EXPECT_EQ(later.at("totals").at("exchanges").as_int64(), 1);
  EXPECT_EQ(later.at("totals").at("differ").as_int64(), 1);
}

TEST(MirrorTest, MatchingResponsesAreCountedButNotLogged) {
  temp_dir dir;
  http_backend live(json_handler(R"({"a":[1,2,3]})"));
  http_backend preview(json_handler(R"({"a":[1,2,3]})"));
  running_proxy proxy(
      mirror_config("", "reports: { discrepancies: { path: \"{log}\" } }\n"),
      {{"live", live.address()}, {"preview", preview.address()}, {"log", dir.file("d.jsonl")}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(client.round_trip(raw_client::request("GET", "/x")).status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(5, 10s));
  EXPECT_TRUE(read_records(dir.file("d.jsonl")).empty());
  EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total{route=\"api\",outcome=\"match\"}"), 5u);
  EXPECT_EQ(report(proxy).at("totals").at("match").as_int64(), 5);
}

TEST(MirrorTest, RewriteAppliesToTheShadowOnly) {
  http_backend live(echo_handler("live"));
  http_backend preview(echo_handler("preview"));
  running_proxy proxy(mirror_config("      methods: [GET, POST]\n"
                                    "      rewrite:\n"
                                    "        host: preview.internal\n"
                                    "        path_prefix: { from: /api/, to: /v2/api/ }\n"
                                    "        set_headers: { x-env: preview }\n"
                                    "        remove_headers: [authorization]\n"),
                      {{"live", live.address()}, {"preview", preview.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res = client.round_trip(raw_client::request(
      "POST", "/api/items?x=1", {{"Authorization", "Bearer t"}, {"Content-Type", "text/plain"}},
      "hello body"));
  ASSERT_EQ(res.status, 200);
  // A chunked body is copied too and sent to the shadow with a Content-Length.
  res = client.round_trip(
      raw_client::chunked_request("POST", "/api/items", {}, {"chunk-one;", "chunk-two"}));
  ASSERT_EQ(res.status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(2, 10s));
  auto shadow = preview.requests();
  ASSERT_EQ(shadow.size(), 2u);
  // Shadow requests run in parallel (each on its own pooled connection): arrival order varies.
  if (shadow[0].target != "/v2/api/items?x=1") std::swap(shadow[0], shadow[1]);
  EXPECT_EQ(shadow[0].target, "/v2/api/items?x=1");
  EXPECT_EQ(shadow[0].header("host").value_or(""), "preview.internal");
  EXPECT_EQ(shadow[0].header("x-env").value_or(""), "preview");
  EXPECT_FALSE(shadow[0].header("authorization"));
  EXPECT_FALSE(shadow[0].header("x-parallax-shadow")); // a user map replaces the default
  EXPECT_EQ(shadow[0].body, "hello body");
  EXPECT_EQ(shadow[1].body, "chunk-one;chunk-two");
  EXPECT_FALSE(shadow[1].chunked);
  EXPECT_EQ(shadow[1].header("content-length").value_or(""), "19");
  const auto live_req = live.requests();
  EXPECT_EQ(live_req[0].target, "/api/items?x=1");
  EXPECT_EQ(live_req[0].header("authorization").value_or(""), "Bearer t");
  EXPECT_EQ(live_req[0].header("host").value_or(""), "localhost");
  EXPECT_FALSE(live_req[0].header("x-env"));
}

TEST(MirrorTest, SkipReasonsAreCounted) {
  http_backend live(echo_handler());
  http_backend preview(echo_handler());
  running_proxy proxy(mirror_config("      methods: [GET, PUT]\n      max_body_bytes: 16\n"),
                      {{"live", live.address()}, {"preview", preview.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  // POST is not in methods.
  ASSERT_EQ(client.round_trip(raw_client::request("POST", "/p", {}, "x")).status, 200);
  // A declared body above max_body_bytes, and a chunked one that grows past it.
  ASSERT_EQ(client.round_trip(raw_client::request("PUT", "/p", {}, std::string(17, 'b'))).status,
            200);
  ASSERT_EQ(
      client.round_trip(raw_client::chunked_request("PUT", "/p", {}, {"0123456789", "0123456789"}))
          .status,
      200);
  // Within the limit: mirrored.
  ASSERT_EQ(client.round_trip(raw_client::request("PUT", "/p", {}, "small")).status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  EXPECT_EQ(live.requests_seen(), 4u);
  EXPECT_EQ(preview.requests_seen(), 1u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_sampled_total{route=\"api\"}"), 4u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"method\"}"), 1u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"body_too_large\"}"),
            2u);
  const auto totals = report(proxy).at("totals").as_object();
  EXPECT_EQ(totals.at("skipped").at("method").as_int64(), 1);
  EXPECT_EQ(totals.at("skipped").at("body_too_large").as_int64(), 2);
  EXPECT_EQ(totals.at("exchanges").as_int64(), 4);
  // An endpoint's `sampled` counts its skipped exchanges too (reports.md).
  const auto summary = report(proxy);
  EXPECT_EQ(endpoint_counts(summary, "POST /p"), std::make_pair(std::int64_t{1}, std::int64_t{0}));
  EXPECT_EQ(endpoint_counts(summary, "PUT /p"), std::make_pair(std::int64_t{3}, std::int64_t{1}));
}

TEST(MirrorTest, LiveErrorIsASkipReason) {
  http_backend preview(echo_handler());
  running_proxy proxy(mirror_config(""), {{"live", "127.0.0.1:" + std::to_string(refusing_port())},
                                          {"preview", preview.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_EQ(client.round_trip(raw_client::request("GET", "/a")).status, 502);
  // The next exchange on the connection starts after the first one has finished.
  ASSERT_EQ(client.round_trip(raw_client::request("GET", "/b")).status, 502);
  EXPECT_GE(metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"live_error\"}"),
            1u);
  EXPECT_EQ(proxy.engine().compared(), 0u);
}

TEST(MirrorTest, ClientAbortIsASkipReason) {
  http_backend live(echo_handler());
  http_backend preview(echo_handler());
  running_proxy proxy(mirror_config("      methods: [POST]\n"),
                      {{"live", live.address()}, {"preview", preview.address()}});
  {
    raw_client quitter;
    ASSERT_TRUE(quitter.connect(proxy.port()));
    ASSERT_TRUE(quitter.send("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart"));
    ASSERT_TRUE(live.wait_for_connections(1, 10s)); // the proxy is forwarding the body
  }
  await_no_client_connections(proxy);
  EXPECT_EQ(metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"client_aborted\"}"),
            1u);
  EXPECT_EQ(preview.requests_seen(), 0u); // never sent: the request was not complete
}

TEST(MirrorTest, ProxyBodyLimitCountsAsBodyTooLarge) {
  http_backend live(echo_handler());
  http_backend preview(echo_handler());
  running_proxy proxy(
      mirror_config("      methods: [POST]\n", "limits: { max_request_body_bytes: 8 }\n"),
      {{"live", live.address()}, {"preview", preview.address()}});
  {
    raw_client client;
    ASSERT_TRUE(client.connect(proxy.port()));
    const auto res =
        client.round_trip(raw_client::chunked_request("POST", "/b", {}, {"0123456789"}));
    EXPECT_EQ(res.status, 413);
  }
  await_no_client_connections(proxy);
  EXPECT_EQ(metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"body_too_large\"}"),
            1u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"client_aborted\"}"),
            0u);
  EXPECT_EQ(preview.requests_seen(), 0u);
}

TEST(MirrorTest, SaturatedWhenMaxInflightIsReached) {
  gate release;
  http_backend live(echo_handler());
  http_backend preview([release](const received_request&, backend_connection& c) {
    release.wait();
    c.respond(200, "late");
  });
  running_proxy proxy(mirror_config("      max_inflight: 1\n"),
                      {{"live", live.address()}, {"preview", preview.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_EQ(client.round_trip(raw_client::request("GET", "/1")).status, 200);
  ASSERT_TRUE(release.wait_for_waiters(1, 10s));
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(client.round_trip(raw_client::request("GET", "/n")).status, 200);
  EXPECT_EQ(metric(proxy, "parallax_mirror_skipped_total{route=\"api\",reason=\"saturated\"}"), 3u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_inflight{route=\"api\"}"), 1u);
  release.release();
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  EXPECT_EQ(metric(proxy, "parallax_mirror_inflight{route=\"api\"}"), 0u);
}

// The isolation rule: whatever the shadow does, the client gets every response, in order, on
// the same connection, while the shadow is still stuck.
void expect_live_unaffected(running_proxy& proxy, http_backend& live, int n = 20) {
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  client.set_timeout(5s);
  for (int i = 0; i < n; ++i) {
    auto res = client.round_trip(raw_client::request("GET", "/r/" + std::to_string(i)));
    ASSERT_EQ(res.status, 200) << "request " << i << ": " << res.error;
    EXPECT_THAT(res.body, HasSubstr("\"target\":\"/r/" + std::to_string(i) + "\""));
  }
  EXPECT_EQ(live.requests_seen(), static_cast<std::size_t>(n));
}

TEST(MirrorIsolationTest, ShadowThatBlocksUntilReleased) {
  gate release;
  http_backend live(echo_handler());
  http_backend preview([release](const received_request&, backend_connection& c) {
    release.wait();
    c.respond(200, "{}", {}, "application/json");
  });
  running_proxy proxy(mirror_config(""),
                      {{"live", live.address()}, {"preview", preview.address()}});
  expect_live_unaffected(proxy, live);
  // Every shadow request is stuck at the gate while the client already has all its answers.
  ASSERT_TRUE(release.wait_for_waiters(20, 10s));
  EXPECT_EQ(proxy.engine().compared(), 0u);
  release.release();
  ASSERT_TRUE(proxy.engine().wait_settled(20, 10s));
  EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total{route=\"api\",outcome=\"differ\"}"), 20u);
}

TEST(MirrorIsolationTest, ShadowThatNeverAnswers) {
  http_backend live(echo_handler());
  blackhole_server hole(blackhole_mode::accept_and_ignore);
  running_proxy proxy(mirror_config(""), {{"live", live.address()}, {"preview", hole.address()}});
  expect_live_unaffected(proxy, live);
  EXPECT_EQ(proxy.engine().compared(), 0u);
}

TEST(MirrorIsolationTest, ShadowTimeoutIsAShadowError) {
  temp_dir dir;
  http_backend live(echo_handler());
  blackhole_server hole(blackhole_mode::accept_and_ignore);
  running_proxy proxy(
      mirror_config("", "reports: { discrepancies: { path: \"{log}\" } }\n",
                    ", request_timeout: 200ms"),
      {{"live", live.address()}, {"preview", hole.address()}, {"log", dir.file("d.jsonl")}});
  expect_live_unaffected(proxy, live, 3);
  ASSERT_TRUE(proxy.engine().wait_settled(3, 10s));
  const auto records = read_records(dir.file("d.jsonl"));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].at("outcome").as_string(), "shadow_error");
  EXPECT_EQ(records[0].at("shadow").at("error").as_string(), "timeout");
  EXPECT_TRUE(records[0].at("differences").as_array().empty());
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"preview\",kind=\"timeout\"}"),
            3u);
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"live\",kind=\"timeout\"}"),
            0u);
  const auto summary = report(proxy);
  EXPECT_EQ(summary.at("endpoints").as_array().at(0).at("shadow_errors").at("timeout").as_int64(),
            3);
}

TEST(MirrorIsolationTest, ShadowThatRefusesConnections) {
  http_backend live(echo_handler());
  running_proxy proxy(
      mirror_config(""),
      {{"live", live.address()}, {"preview", "127.0.0.1:" + std::to_string(refusing_port())}});
  expect_live_unaffected(proxy, live);
  ASSERT_TRUE(proxy.engine().wait_settled(20, 10s));
  EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total{route=\"api\",outcome=\"shadow_error\"}"),
            20u);
  EXPECT_EQ(report(proxy)
                .at("endpoints")
                .as_array()
                .at(0)
                .at("shadow_errors")
                .at("connect_failed")
                .as_int64(),
            20);
}

TEST(MirrorIsolationTest, ShadowThatResetsMidBody) {
  http_backend live(echo_handler());
  http_backend preview([](const received_request&, backend_connection& c) {
    c.write_raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
    c.reset();
  });
  running_proxy proxy(mirror_config(""),
                      {{"live", live.address()}, {"preview", preview.address()}});
  expect_live_unaffected(proxy, live);
  ASSERT_TRUE(proxy.engine().wait_settled(20, 10s));
  EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total{route=\"api\",outcome=\"shadow_error\"}"),
            20u);
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"preview\",kind=\"reset\"}"),
            20u);
}

TEST(MirrorIsolationTest, ShadowThatSendsGarbage) {
  http_backend live(echo_handler());
  http_backend preview([](const received_request&, backend_connection& c) {
    c.write_raw("SSH-2.0-OpenSSH_9.2\r\n\x01\x02garbage\r\n\r\n");
    c.close();
  });
  running_proxy proxy(mirror_config(""),
                      {{"live", live.address()}, {"preview", preview.address()}});
  expect_live_unaffected(proxy, live);
  ASSERT_TRUE(proxy.engine().wait_settled(20, 10s));
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"preview\","
                          "kind=\"malformed_response\"}"),
            20u);
}

TEST(MirrorIsolationTest, SlowShadowDoesNotDelayPipelinedRequests) {
  gate release;
  http_backend live(echo_handler());
  http_backend preview([release](const received_request&, backend_connection& c) {
    release.wait();
    c.respond(200, "x");
  });
  running_proxy proxy(mirror_config(""),
                      {{"live", live.address()}, {"preview", preview.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  std::string batch;
  for (int i = 0; i < 5; ++i)
    batch += raw_client::request("GET", "/p/" + std::to_string(i));
  ASSERT_TRUE(client.send(batch));
  for (int i = 0; i < 5; ++i) {
    auto res = client.read_response();
    ASSERT_EQ(res.status, 200) << res.error;
    EXPECT_THAT(res.body, HasSubstr("/p/" + std::to_string(i)));
  }
  EXPECT_FALSE(release.released());
  release.release();
}

TEST(MirrorTest, SecondaryMarksVolatileFieldsAsNoise) {
  temp_dir dir;
  std::atomic<int> n{0};
  // Live and its secondary copy disagree on `ts` (volatile); the preview also renamed a field.
  const auto versioned = [&n](bool renamed) {
    return [&n, renamed](const received_request&, backend_connection& c) {
      const int i = n.fetch_add(1);
      c.respond(200,
                std::string(R"({"ts":)") + std::to_string(i) +
                    (renamed ? R"(,"fullName":"A"})" : R"(,"name":"A"})"),
                {}, "application/json");
    };
  };
  http_backend live(versioned(false));
  http_backend secondary(versioned(false));
  http_backend preview(versioned(true));
  running_proxy proxy("version: 1\n"
                      "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                      "admin: { address: \"127.0.0.1:0\" }\n"
                      "workers: 1\n"
                      "upstreams:\n"
                      "  live: { endpoints: [\"{live}\"] }\n"
                      "  live2: { endpoints: [\"{secondary}\"] }\n"
                      "  preview: { endpoints: [\"{preview}\"] }\n"
                      "routes:\n"
                      "  - name: api\n"
                      "    upstream: live\n"
                      "    mirror:\n"
                      "      upstream: preview\n"
                      "      percent: 100\n"
                      "      secondary: live2\n"
                      // Headers out of the way: ignored ones that differ (Date, Content-Length)
                      // would count in noise_suppressed too.
                      "      compare: { headers: { include: [content-type] } }\n"
                      "reports: { discrepancies: { path: \"{log}\" } }\n",
                      {{"live", live.address()},
                       {"secondary", secondary.address()},
                       {"preview", preview.address()},
                       {"log", dir.file("d.jsonl")}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_EQ(client.round_trip(raw_client::request("GET", "/u/1")).status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  EXPECT_EQ(secondary.requests_seen(), 1u);
  const auto records = read_records(dir.file("d.jsonl"));
  ASSERT_EQ(records.size(), 1u);
  const auto diffs = boost::json::serialize(records[0].at("differences"));
  EXPECT_THAT(diffs, Not(HasSubstr("/ts")));
  EXPECT_THAT(diffs, HasSubstr(R"("op":"remove","path":"/name")"));
  EXPECT_THAT(diffs, HasSubstr(R"("op":"add","path":"/fullName")"));
  EXPECT_EQ(records[0].at("noise_suppressed").as_int64(), 1);
  const auto& noise = records[0].at("noise").as_array();
  ASSERT_EQ(noise.size(), 1u);
  EXPECT_EQ(noise[0].at("path"), "/ts");
  // The summary lists the volatile field as noise, after the real differences.
  const auto summary = report(proxy);
  const auto& listed = summary.at("endpoints").at(0).at("differences").as_array();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[2].at("path"), "/ts");
  EXPECT_EQ(listed[2].at("noise"), true);
  EXPECT_EQ(listed[0].at("noise"), false);
}

TEST(MirrorTest, EncodedBodiesAreDecodedBeforeComparing) {
  const std::string doc = R"({"items":[1,2,3],"name":"same"})";
  http_backend live(
      fixed_response_handler(200, gzip(doc), {{"Content-Encoding", "gzip"}}, "application/json"));
  http_backend preview(json_handler(doc));
  running_proxy proxy(mirror_config("      compare: { headers: { include: [content-type] } }\n"),
                      {{"live", live.address()}, {"preview", preview.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  const auto res = client.round_trip(raw_client::request("GET", "/g"));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body, gzip(doc)); // relayed untouched
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total{route=\"api\",outcome=\"match\"}"), 1u);
}

TEST(MirrorTest, BodiesBeyondMaxBytesAreComparedBySizeAndHash) {
  temp_dir dir;
  http_backend live(
      [](const received_request&, backend_connection& c) { c.stream_body(200, 300000, true); });
  http_backend preview(
      [](const received_request&, backend_connection& c) { c.stream_body(200, 300001, false); });
  running_proxy proxy(
      mirror_config("      compare: { body: { max_bytes: 64KiB } }\n",
                    "reports: { discrepancies: { path: \"{log}\" } }\n"),
      {{"live", live.address()}, {"preview", preview.address()}, {"log", dir.file("d.jsonl")}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  const auto res = client.round_trip(raw_client::request("GET", "/big"));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body_size, 300000u);
  EXPECT_TRUE(res.body_matches_pattern);
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  const auto records = read_records(dir.file("d.jsonl"));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].at("live").at("body_bytes").as_int64(), 300000);
  EXPECT_EQ(records[0].at("shadow").at("body_bytes").as_int64(), 300001);
  const auto& d = records[0].at("differences").as_array().at(0).as_object();
  EXPECT_EQ(d.at("kind").as_string(), "body_bytes");
  EXPECT_EQ(d.at("live_sha256"), records[0].at("live").at("body_sha256"));
}

TEST(MirrorTest, FullQueueSkipsTheComparisonAndCountsIt) {
  http_backend live(echo_handler());
  http_backend preview(echo_handler());
  running_proxy proxy(mirror_config(""), {{"live", live.address()}, {"preview", preview.address()}},
                      mirror::queue_limits{0, 0});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(client.round_trip(raw_client::request("GET", "/q")).status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(3, 10s));
  EXPECT_EQ(proxy.engine().compared(), 0u);
  EXPECT_EQ(metric(proxy, "parallax_mirror_comparisons_dropped_total{route=\"api\"}"), 3u);
  const auto summary = report(proxy);
  EXPECT_EQ(summary.at("totals").at("comparisons_dropped").as_int64(), 3);
  // Sampled, mirrored, not compared: the endpoint counts them as sampled.
  EXPECT_EQ(endpoint_counts(summary, "GET /q"), std::make_pair(std::int64_t{3}, std::int64_t{0}));
}

TEST(MirrorTest, PlantedSecretsAppearInNoOutput) {
  temp_dir dir;
  http_backend live(json_handler(R"({"user":"a","password":"PW-LIVE-1","token":"TK-LIVE-2"})"));
  http_backend preview(json_handler(R"({"user":"b","password":"PW-SHADOW-3","token":"TK-4"})"));
  running_proxy proxy(mirror_config("",
                                    "reports:\n"
                                    "  discrepancies: { path: \"{log}\", include_matches: true }\n"
                                    "  summary: { path: \"{summary}\" }\n"),
                      {{"live", live.address()},
                       {"preview", preview.address()},
                       {"log", dir.file("d.jsonl")},
                       {"summary", dir.file("summary.json")}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_EQ(client
                .round_trip(raw_client::request(
                    "GET", "/s?token=QS-SECRET-5&api_key=QS-SECRET-6",
                    {{"Authorization", "Bearer HDR-SECRET-7"},
                     {"Cookie", "sid=HDR-SECRET-8"},
                     {"Referer", "https://shop.example/cb?access_token=REF-SECRET-9&x=1"}}))
                .status,
            200);
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  const auto metrics = admin_get(proxy.admin_port(), "/metrics").body;
  const auto summary = admin_get(proxy.admin_port(), "/report").body;
  const auto html = admin_get(proxy.admin_port(), "/report.html").body;
  proxy.stop(); // writes the summary file
  const auto log = file_text(dir.file("d.jsonl"));
  const auto summary_file = file_text(dir.file("summary.json"));
  ASSERT_THAT(log, HasSubstr("/user"));
  ASSERT_THAT(log, HasSubstr("access_token=[redacted]&x=1")); // the Referer, still shown
  ASSERT_THAT(summary_file, HasSubstr("parallax.summary/v1"));
  for (const auto* secret : {"PW-LIVE-1", "TK-LIVE-2", "PW-SHADOW-3", "TK-4", "QS-SECRET-5",
                             "QS-SECRET-6", "HDR-SECRET-7", "HDR-SECRET-8", "REF-SECRET-9"}) {
    for (const auto* out : {&log, &summary_file, &metrics, &summary, &html})
      EXPECT_THAT(*out, Not(HasSubstr(secret)));
  }
}

TEST(MirrorTest, WebSocketUpgradesAreTunnelledAndNeverMirrored) {
  http_backend live([](const received_request& req, backend_connection& c) {
    if (!req.upgrade) {
      c.respond(200, "plain");
      return;
    }
    c.write_raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\n\r\n");
    if (auto data = c.read_some(1024, 5s)) c.write_raw("echo:" + *data);
  });
  http_backend preview(echo_handler());
  running_proxy proxy(mirror_config(""),
                      {{"live", live.address()}, {"preview", preview.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res = client.round_trip(
      raw_client::request("GET", "/ws", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}));
  ASSERT_EQ(res.status, 101) << res.error;
  ASSERT_TRUE(client.send("ping"));
  EXPECT_EQ(client.read_exact(9).data, "echo:ping");
  // A plain request afterwards is mirrored; its settling proves nothing else was queued.
  raw_client other;
  ASSERT_TRUE(other.connect(proxy.port()));
  ASSERT_EQ(other.round_trip(raw_client::request("GET", "/plain")).status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  ASSERT_EQ(preview.requests_seen(), 1u);
  EXPECT_EQ(preview.last_request().target, "/plain");
  EXPECT_EQ(metric(proxy, "parallax_mirror_sampled_total{route=\"api\"}"), 1u);
  // The upgrade is an exchange all the same (reports.md: a request and its live response).
  EXPECT_EQ(report(proxy).at("totals").at("exchanges").as_int64(), 2);
}

TEST(MirrorTest, SummaryFileIsRewrittenEveryInterval) {
  temp_dir dir;
  http_backend live(json_handler("{}"));
  http_backend preview(json_handler("{}"));
  running_proxy proxy(
      mirror_config("", "reports: { summary: { path: \"{summary}\", interval: 50ms } }\n"),
      {{"live", live.address()},
       {"preview", preview.address()},
       {"summary", dir.file("summary.json")}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_EQ(client.round_trip(raw_client::request("GET", "/x")).status, 200);
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  // The proxy keeps running; the file is rewritten on the comparison thread's timer. Await it
  // with a bounded poll of the real file.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string text;
  while (text.find("\"match\": 1") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    text = file_text(dir.file("summary.json"));
  }
  EXPECT_THAT(text, HasSubstr("\"match\": 1")) << text;
  EXPECT_THAT(text, HasSubstr("\"parallax.summary/v1\""));
}

} // namespace
} // namespace parallax::test
