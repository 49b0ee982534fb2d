// Live reconfiguration through a real in-process proxy (config.md "Reload"): reloads under
// keep-alive load, requests in flight keeping their snapshot, pools of changed upstreams
// retiring, rejected keys, report windows and runtime overrides across reloads.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/proxy_fixture.hpp"
#include "test/support/gate.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/tls_certs.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Route `api` to upstream `{route_upstream}` of `a` and `b`, mirrored at `{percent}` to
// `preview`; two workers, so a reload reaches more than one event loop.
std::string reload_config(const std::string& route_upstream, int percent,
                          const std::string& extra = "") {
  return "version: 1\n"
         "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
         "admin: { address: \"127.0.0.1:0\" }\n"
         "workers: 2\n"
         "upstreams:\n"
         "  a: { endpoints: [\"{a}\"] }\n"
         "  b: { endpoints: [\"{b}\"] }\n"
         "  preview: { endpoints: [\"{preview}\"] }\n"
         "routes:\n"
         "  - name: api\n"
         "    upstream: " +
         route_upstream +
         "\n"
         "    mirror: { upstream: preview, percent: " +
         std::to_string(percent) +
         " }\n"
         "reports: { discrepancies: { path: \"{dir}/discrepancies.jsonl\" } }\n" +
         extra;
}

// Replaces each `{name}` of `vars` in `yaml` and loads it.
std::shared_ptr<const config::config>
load(std::string yaml, const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string needle = "{" + key + "}";
    for (auto pos = yaml.find(needle); pos != std::string::npos; pos = yaml.find(needle))
      yaml.replace(pos, needle.size(), value);
  }
  auto result = config::load_string(yaml, "reload.yaml");
  if (!result.ok()) throw std::runtime_error(result.errors.front().text());
  return result.cfg;
}

request_handler named(const std::string& name) {
  return fixed_response_handler(200, R"({"ok":true})", {{"x-backend", name}}, "application/json");
}

std::uint64_t metric(running_proxy& proxy, const std::string& series) {
  const auto text = admin_get(proxy.admin_port(), "/metrics").body;
  const auto v = metric_value(text, series);
  return v ? static_cast<std::uint64_t>(std::stod(*v)) : 0;
}

// Backends a, b and preview, and the variables that name them.
struct three_backends {
  http_backend a{named("a")};
  http_backend b{named("b")};
  http_backend preview{named("a")};
  temp_dir dir{"parallax-reload-test"};
  std::vector<std::pair<std::string, std::string>> vars{
      {"a", a.address()}, {"b", b.address()}, {"preview", preview.address()}, {"dir", dir.path()}};
};

// The issue's proof: reloads every 100 ms under concurrent keep-alive load, switching the route's
// upstream and the mirror percent. No request fails, no connection is dropped, both
// configurations are seen.
TEST(ReloadTest, ReloadsEvery100msUnderKeepAliveLoadWithoutAFailedRequest) {
  three_backends t;
  running_proxy proxy(reload_config("a", 0), t.vars);

  constexpr int clients = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> from_a{0};
  std::atomic<int> from_b{0};
  std::vector<std::string> errors(clients);
  std::vector<std::thread> load_threads;
  for (int c = 0; c < clients; ++c) {
    load_threads.emplace_back([&, c] {
      raw_client client;
      if (!client.connect(proxy.port())) {
        errors[c] = "connect: " + client.last_error();
        ++failures;
        return;
      }
      // One connection for the whole run: a reload must not close it.
      for (int i = 0; !stop.load(); ++i) {
        const auto r = client.round_trip(raw_client::request("GET", "/api/" + std::to_string(i)));
        if (r.status != 200 || !r.ok()) {
          errors[c] = "request " + std::to_string(i) + ": status " + std::to_string(r.status) +
                      " " + r.error;
          ++failures;
          return;
        }
        const auto backend = r.header("x-backend").value_or("");
        (backend == "a" ? from_a : from_b)++;
      }
    });
  }
  constexpr int reloads = 20;
  for (int i = 1; i <= reloads; ++i) {
    std::this_thread::sleep_for(100ms); // the pace of the reloads, not a wait for anything
    // A configuration loaded afresh each time, so the previous one is freed once nothing
    // uses it (a session that kept a reference into it would read freed memory: ASan).
    const auto r = proxy.server().reload(i % 2 == 1 ? load(reload_config("b", 100), t.vars)
                                                    : load(reload_config("a", 0), t.vars));
    EXPECT_TRUE(r.ok) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.generation, static_cast<std::uint64_t>(i + 1));
  }
  stop = true;
  for (auto& th : load_threads)
    th.join();
  for (const auto& e : errors)
    EXPECT_EQ(e, "");
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(from_a.load(), 0);
  EXPECT_GT(from_b.load(), 0);
  EXPECT_GT(t.preview.requests_seen(), 0u); // the 100% generations mirrored
  EXPECT_EQ(proxy.server().snapshot()->generation, static_cast<std::uint64_t>(reloads + 1));
  EXPECT_EQ(metric(proxy, "parallax_config_generation"), static_cast<std::uint64_t>(reloads + 1));
  EXPECT_EQ(metric(proxy, "parallax_config_reloads_total{result=\"ok\"}"),
            static_cast<std::uint64_t>(reloads));
  EXPECT_EQ(metric(proxy, "parallax_config_reloads_total{result=\"rejected\"}"), 0u);
  // Every client kept its one connection to the proxy, which kept its upstream connections:
  // no upstream's settings changed, so no pool was retired (and an idle connection's watch woken
  // late for bytes already read no longer drops it: this bound failed before).
  EXPECT_LE(t.a.connections_accepted() + t.b.connections_accepted(),
            static_cast<std::size_t>(2 * clients));
}

// A request keeps the snapshot it started with; the same keep-alive connection's next request
// takes the new one. An upstream whose settings changed gets a new pool; the old pool's busy
// connection finishes its exchange and then closes.
TEST(ReloadTest, InFlightRequestKeepsItsSnapshotAndTheRetiredPoolClosesAfterIt) {
  gate hold;
  http_backend old_a([hold](const received_request&, backend_connection& c) {
    hold.wait();
    c.respond(200, R"({"ok":true})", {{"x-backend", "old-a"}});
  });
  three_backends t;
  auto vars = t.vars;
  vars[0].second = old_a.address(); // upstream a starts at old_a
  running_proxy proxy(reload_config("a", 0), vars);

  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_TRUE(client.send(raw_client::request("GET", "/api/held")));
  ASSERT_TRUE(hold.wait_for_waiters(1, 10s));

  // Upstream a moves to the `a` backend: its settings changed, so it gets a new pool.
  const auto r = proxy.server().reload(load(reload_config("a", 0), t.vars));
  ASSERT_TRUE(r.ok);
  raw_client other;
  ASSERT_TRUE(other.connect(proxy.port()));
  const auto fresh = other.round_trip(raw_client::request("GET", "/api/fresh"));
  EXPECT_EQ(fresh.status, 200);
  EXPECT_EQ(fresh.header("x-backend"), "a");

  hold.release();
  const auto held = client.read_response();
  EXPECT_EQ(held.status, 200);
  EXPECT_EQ(held.header("x-backend"), "old-a"); // the snapshot it started with
  // Its connection went back to a retired pool: closed, not kept idle.
  EXPECT_TRUE(old_a.wait_for_open_connections(0, 10s));
  const auto next = client.round_trip(raw_client::request("GET", "/api/next"));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.header("x-backend"), "a"); // same connection, new snapshot
  EXPECT_EQ(old_a.requests_seen(), 1u);
}

// Listener names and addresses, admin.address and workers cannot change on reload: the reload
// is rejected naming the key, counted, and the running configuration stays.
TEST(ReloadTest, RejectsChangesToListenersAdminAndWorkersNamingTheKey) {
  three_backends t;
  running_proxy proxy(reload_config("a", 0), t.vars);
  const auto base = reload_config("a", 0);
  const auto changed = [&](const std::string& from, const std::string& to) {
    auto text = base;
    text.replace(text.find(from), from.size(), to);
    return load(text, t.vars);
  };
  const std::vector<std::pair<std::shared_ptr<const config::config>, std::string>> cases{
      {changed("address: \"127.0.0.1:0\" }]", "address: \"127.0.0.1:1\" }]"),
       "listeners[0].address: 127.0.0.1:1 instead of 127.0.0.1:0"},
      {changed("name: public", "name: renamed"), "listeners[0].name: \"renamed\" instead of"},
      {changed("admin: { address: \"127.0.0.1:0\" }", "admin: { address: \"127.0.0.1:2\" }"),
       "admin.address: 127.0.0.1:2 instead of 127.0.0.1:0"},
      {changed("workers: 2", "workers: 3"), "workers: 3 instead of 2"},
  };
  for (const auto& [cfg, message] : cases) {
    const auto r = proxy.server().reload(cfg);
    EXPECT_FALSE(r.ok) << message;
    EXPECT_EQ(r.generation, 1u);
    ASSERT_EQ(r.errors.size(), 1u) << message;
    EXPECT_THAT(r.errors.front(), HasSubstr(message));
    EXPECT_THAT(r.errors.front(), HasSubstr("cannot change on reload"));
  }
  EXPECT_EQ(metric(proxy, "parallax_config_reloads_total{result=\"rejected\"}"), cases.size());
  EXPECT_EQ(metric(proxy, "parallax_config_generation"), 1u);
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  EXPECT_EQ(client.round_trip(raw_client::request("GET", "/api/x")).header("x-backend"), "a");
}

// GET /config shows the generation in force and when it was loaded.
TEST(ReloadTest, ConfigShowsGenerationAndLoadedAt) {
  three_backends t;
  running_proxy proxy(reload_config("a", 0), t.vars);
  auto doc = boost::json::parse(admin_get(proxy.admin_port(), "/config").body).as_object();
  EXPECT_EQ(doc.at("generation").as_int64(), 1);
  const std::string loaded_at(doc.at("loaded_at").as_string());
  EXPECT_EQ(loaded_at.size(), std::string("2026-12-03T20:00:00Z").size()) << loaded_at;
  EXPECT_EQ(loaded_at.back(), 'Z');
  ASSERT_TRUE(proxy.server().reload(load(reload_config("b", 0), t.vars)).ok);
  doc = boost::json::parse(admin_get(proxy.admin_port(), "/config").body).as_object();
  EXPECT_EQ(doc.at("generation").as_int64(), 2);
  EXPECT_EQ(doc.at("routes").at(0).at("upstream").as_string(), "b");
  EXPECT_GT(metric(proxy, "parallax_config_last_reload_success_timestamp_seconds"), 1700000000u);
}

// Two mirrored routes: a reload that changes `api`'s compare rules restarts its report window
// (its endpoints leave the summary, and come back with their own `since`), while `web` keeps
// counting; a runtime override survives the reload for a route that still exists and is
// dropped with a route that does not.
TEST(ReloadTest, CompareChangeRestartsThatRouteWindowAndOverridesSurvive) {
  three_backends t;
  const auto two_routes = [](const std::string& api_extra, bool with_web) {
    std::string routes = "routes:\n"
                         "  - name: api\n"
                         "    match: { path_prefix: /api }\n"
                         "    upstream: a\n"
                         "    mirror: { upstream: preview, percent: 100" +
                         api_extra + " }\n";
    if (with_web) {
      routes += "  - name: web\n"
                "    upstream: a\n"
                "    mirror: { upstream: preview, percent: 100 }\n";
    }
    return "version: 1\n"
           "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
           "admin: { address: \"127.0.0.1:0\" }\n"
           "workers: 1\n"
           "upstreams:\n"
           "  a: { endpoints: [\"{a}\"] }\n"
           "  preview: { endpoints: [\"{preview}\"] }\n" +
           routes + "reports: { discrepancies: { path: \"{dir}/discrepancies.jsonl\" } }\n";
  };
  running_proxy proxy(two_routes("", true), t.vars);
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  const auto forward = [&](const char* target) {
    ASSERT_EQ(client.round_trip(raw_client::request("GET", target)).status, 200) << target;
  };
  raw_client admin;
  ASSERT_TRUE(admin.connect(proxy.admin_port()));
  ASSERT_EQ(admin.round_trip(raw_client::request("POST", "/mirror/web", {}, R"({"paused": true})"))
                .status,
            200);
  ASSERT_EQ(admin.round_trip(raw_client::request("POST", "/mirror/api", {}, R"({"percent": 100})"))
                .status,
            200);
  forward("/api/1");
  forward("/web/1"); // paused: sampled, skipped
  ASSERT_TRUE(proxy.engine().wait_settled(1, 10s));
  const auto endpoints_of = [&](const boost::json::object& summary, const std::string& route) {
    std::vector<boost::json::object> out;
    for (const auto& e : summary.at("endpoints").as_array()) {
      if (e.at("route").as_string() == route) out.push_back(e.as_object());
    }
    return out;
  };
  auto summary = boost::json::parse(admin_get(proxy.admin_port(), "/report").body).as_object();
  ASSERT_EQ(endpoints_of(summary, "api").size(), 1u);
  EXPECT_EQ(summary.at("totals").at("skipped").at("paused").as_int64(), 1);

  // Only api's compare rules change: its window restarts, web's does not.
  ASSERT_TRUE(
      proxy.server().reload(load(two_routes(", compare: { status: false }", true), t.vars)).ok);
  summary = boost::json::parse(admin_get(proxy.admin_port(), "/report").body).as_object();
  EXPECT_TRUE(endpoints_of(summary, "api").empty());
  EXPECT_EQ(summary.at("totals").at("skipped").at("paused").as_int64(), 1); // web still counts
  forward("/api/2");
  ASSERT_TRUE(proxy.engine().wait_settled(2, 10s));
  summary = boost::json::parse(admin_get(proxy.admin_port(), "/report").body).as_object();
  const auto api = endpoints_of(summary, "api");
  ASSERT_EQ(api.size(), 1u);
  EXPECT_EQ(api.front().at("compared").as_int64(), 1);
  EXPECT_TRUE(api.front().contains("since"));                  // the route's own window
  EXPECT_EQ(summary.at("totals").at("sampled").as_int64(), 2); // web's 1 + api's new 1

  // The overrides survived: web is still paused, api still has its percent override.
  auto mirror = boost::json::parse(admin_get(proxy.admin_port(), "/mirror").body);
  EXPECT_EQ(mirror.at("routes").at(0).at("override_percent").to_number<double>(), 100.0);
  EXPECT_TRUE(mirror.at("routes").at(1).at("paused").as_bool());
  forward("/web/2");
  EXPECT_EQ(metric(proxy, "parallax_mirror_skipped_total{route=\"web\",reason=\"paused\"}"), 2u);

  // web removed, then added back: it starts afresh, without its pause.
  ASSERT_TRUE(proxy.server().reload(load(two_routes("", false), t.vars)).ok);
  mirror = boost::json::parse(admin_get(proxy.admin_port(), "/mirror").body);
  EXPECT_EQ(mirror.at("routes").as_array().size(), 1u);
  ASSERT_TRUE(proxy.server().reload(load(two_routes("", true), t.vars)).ok);
  mirror = boost::json::parse(admin_get(proxy.admin_port(), "/mirror").body);
  EXPECT_FALSE(mirror.at("routes").at(1).at("paused").as_bool());
  EXPECT_EQ(proxy.server().snapshot()->generation, 4u);
}

// Certificates rotate by reload: the listener's TLS files are read again, new connections get
// the new certificate, and a connection opened before keeps being served.
TEST(ReloadTest, ReloadReReadsTheListenerCertificate) {
  http_backend a(named("a"));
  const temp_dir dir("parallax-reload-tls");
  const auto old_pki = make_test_pki(dir.file("old"));
  const auto new_pki = make_test_pki(dir.file("new"));
  const auto install = [&](const test_pki& pki) {
    std::filesystem::copy_file(pki.server_cert_path, dir.file("server.pem"),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(pki.server_key_path, dir.file("server.key"),
                               std::filesystem::copy_options::overwrite_existing);
  };
  install(old_pki);
  const std::string yaml = "version: 1\n"
                           "listeners:\n"
                           "  - name: public\n"
                           "    address: \"127.0.0.1:0\"\n"
                           "    tls: { cert: \"{dir}/server.pem\", key: \"{dir}/server.key\" }\n"
                           "admin: { address: \"127.0.0.1:0\" }\n"
                           "workers: 1\n"
                           "upstreams: { a: { endpoints: [\"{a}\"] } }\n"
                           "routes: [{ name: all, upstream: a }]\n";
  const std::vector<std::pair<std::string, std::string>> vars{{"dir", dir.path()},
                                                              {"a", a.address()}};
  running_proxy proxy(yaml, vars);
  const auto connects = [&](const test_pki& trusted) {
    raw_client c;
    return c.connect(proxy.port(), tls_client_options::trusting(trusted));
  };
  EXPECT_TRUE(connects(old_pki));
  EXPECT_FALSE(connects(new_pki));
  raw_client before;
  ASSERT_TRUE(before.connect(proxy.port(), tls_client_options::trusting(old_pki)));

  install(new_pki);
  ASSERT_TRUE(proxy.server().reload(load(yaml, vars)).ok);
  EXPECT_TRUE(connects(new_pki));
  EXPECT_FALSE(connects(old_pki));
  EXPECT_EQ(before.round_trip(raw_client::request("GET", "/x")).status, 200);

  // A file that cannot be loaded rejects the reload; the running certificate stays.
  std::ofstream(dir.file("server.pem"), std::ios::trunc) << "not a certificate\n";
  const auto rejected = proxy.server().reload(load(yaml, vars));
  EXPECT_FALSE(rejected.ok);
  ASSERT_EQ(rejected.errors.size(), 1u);
  EXPECT_THAT(rejected.errors.front(), HasSubstr("server.pem"));
  EXPECT_TRUE(connects(new_pki));
}

// A reload whose report path cannot be written is rejected naming it; records keep going where
// they went.
TEST(ReloadTest, RejectsAReportPathThatCannotBeWritten) {
  three_backends t;
  running_proxy proxy(reload_config("a", 0), t.vars);
  auto text = reload_config("a", 0);
  const std::string from = "{dir}/discrepancies.jsonl";
  text.replace(text.find(from), from.size(), "{dir}/missing/discrepancies.jsonl");
  const auto r = proxy.server().reload(load(text, t.vars));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors.front(), HasSubstr("reports.discrepancies.path: cannot write " +
                                          t.dir.path() + "/missing/discrepancies.jsonl"));
  EXPECT_EQ(proxy.server().snapshot()->generation, 1u);
}

} // namespace
} // namespace parallax::test
