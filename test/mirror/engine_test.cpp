// The engine as its owner wires it, without a server: counters from the I/O threads, jobs
// through the comparison queue and thread, and what it exports (the summary document, the
// summary file, the discrepancy log and the metrics text), pinned to the byte.

#include "mirror/engine.hpp"

#include "config/loader.hpp"
#include "mirror/report/format.hpp"
#include "test/mirror/scratch_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace parallax::mirror {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const config::config> load(const scratch_dir& dir) {
  const std::string yaml = "version: 1\n"
                           "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                           "upstreams:\n"
                           "  live: { endpoints: [\"127.0.0.1:1\"] }\n"
                           "  preview: { endpoints: [\"127.0.0.1:2\"] }\n"
                           "routes:\n"
                           "  - name: api\n"
                           "    match: { path_prefix: /api }\n"
                           "    upstream: live\n"
                           "    mirror: { upstream: preview, percent: 100 }\n"
                           "  - name: plain\n"
                           "    match: { path_prefix: /plain }\n"
                           "    upstream: live\n"
                           "  - name: web\n"
                           "    upstream: live\n"
                           "    mirror: { upstream: preview, percent: 50 }\n"
                           "reports:\n"
                           "  discrepancies: { path: \"" +
                           dir.file("log.jsonl") +
                           "\" }\n"
                           "  summary: { path: \"" +
                           dir.file("summary.json") + "\", interval: 1h }\n";
  auto result = config::load_string(yaml, "engine_test.yaml");
  if (!result.ok()) throw std::runtime_error(result.errors.front().text());
  return result.cfg;
}

response_capture capture(int status, std::string_view body, double latency_ms) {
  response_capture c(1 << 20);
  proxy::http::response_head head;
  head.status = status;
  head.headers.add("Content-Type", "application/json");
  c.head(head);
  c.body(body);
  c.finish();
  c.latency_ms = latency_ms;
  return c;
}

std::unique_ptr<compare_job> job(const std::shared_ptr<route_state>& route, std::string_view target,
                                 response_capture live, response_capture shadow) {
  auto j = std::make_unique<compare_job>();
  j->route = route;
  j->time = *report::parse_time("2026-11-26T03:21:01.123Z");
  j->request.method = "GET";
  j->request.target = std::string(target);
  j->request.headers.add("Host", "shop.example.com");
  j->request.headers.add("Authorization", "Bearer s3cr3t");
  j->live = std::move(live);
  j->shadow = std::move(shadow);
  return j;
}

// Record ids and the summary window are the only parts that change from run to run. (No
// std::regex: GCC 12 warns falsely inside it under the asan preset's -O1, and -Werror.)
std::string stable(const std::string& text) {
  constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const auto is_id_at = [&](std::size_t i) {
    if (i + 26 > text.size() || text[i] < '0' || text[i] > '7') return false;
    for (std::size_t k = i; k < i + 26; ++k)
      if (crockford.find(text[k]) == std::string_view::npos) return false;
    return true;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (is_id_at(i)) {
      out += "<id>";
      i += 26;
      continue;
    }
    bool window = false;
    for (std::string_view key : {"\"since\":", "\"until\":"}) {
      if (text.compare(i, key.size(), key) != 0) continue;
      auto j = i + key.size();
      if (j < text.size() && text[j] == ' ') ++j;
      if (j >= text.size() || text[j] != '"') continue;
      const auto close = text.find('"', j + 1);
      if (close == std::string::npos) continue;
      out.append(key).append("\"<t>\"");
      i = close + 1;
      window = true;
      break;
    }
    if (!window) out += text[i++];
  }
  return out;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* const expected_summary = R"({
  "schema": "parallax.summary/v1",
  "since":"<t>",
  "until":"<t>",
  "totals": {
    "exchanges": 12,
    "sampled": 7,
    "compared": 3,
    "match": 1,
    "differ": 1,
    "shadow_error": 1,
    "skipped": {
      "method": 1,
      "body_too_large": 0,
      "rate_limited": 0,
      "saturated": 2,
      "live_error": 0,
      "client_aborted": 0,
      "paused": 0,
      "shadow_request": 0
    },
    "comparisons_dropped": 1
  },
  "endpoints": [
    {
      "endpoint": "GET /api/users/{id}",
      "route": "api",
      "sampled": 2,
      "compared": 2,
      "match": 1,
      "differ": 1,
      "shadow_error": 0,
      "diff_rate": 0.5,
      "differences": [
        {
          "kind": "status",
          "live": 200,
          "shadow": 500,
          "count": 1,
          "examples": [
            {
              "id": "<id>",
              "live": 200,
              "shadow": 500
            }
          ]
        },
        {
          "kind": "body",
          "path": "/name",
          "count": 1,
          "noise": false,
          "examples": [
            {
              "id": "<id>",
              "live": "Ann",
              "shadow": "ann"
            }
          ]
        }
      ],
      "shadow_errors": {},
      "latency_ms": {
        "live": {
          "p50": 1.0,
          "p90": 1.998,
          "p99": 1.998
        },
        "shadow": {
          "p50": 1.514,
          "p90": 3.0,
          "p99": 3.0
        }
      },
      "latency_histogram_ms": {
        "live": {
          "count": 2,
          "min": 1.0,
          "max": 2.0,
          "buckets": [
            [
              0.989099,
              1.008881,
              1
            ],
            [
              1.978089,
              2.017651,
              1
            ]
          ]
        },
        "shadow": {
          "count": 2,
          "min": 1.5,
          "max": 3.0,
          "buckets": [
            [
              1.499144,
              1.529127,
              1
            ],
            [
              2.998123,
              3.058086,
              1
            ]
          ]
        }
      },
      "latency_regression": false,
      "examples": [
        "<id>"
      ]
    },
    {
      "endpoint": "GET /web",
      "route": "web",
      "sampled": 3,
      "compared": 1,
      "match": 0,
      "differ": 0,
      "shadow_error": 1,
      "diff_rate": 0.0,
      "differences": [],
      "shadow_errors": {
        "timeout": 1
      },
      "latency_ms": {
        "live": {
          "p50": 4.0,
          "p90": 4.0,
          "p99": 4.0
        },
        "shadow": null
      },
      "latency_histogram_ms": {
        "live": {
          "count": 1,
          "min": 4.0,
          "max": 4.0,
          "buckets": [
            [
              3.95596,
              4.035079,
              1
            ]
          ]
        },
        "shadow": null
      },
      "latency_regression": false,
      "examples": [
        "<id>"
      ]
    },
    {
      "endpoint": "GET /api/big",
      "route": "api",
      "sampled": 1,
      "compared": 0,
      "match": 0,
      "differ": 0,
      "shadow_error": 0,
      "diff_rate": null,
      "differences": [],
      "shadow_errors": {},
      "latency_ms": {
        "live": null,
        "shadow": null
      },
      "latency_histogram_ms": {
        "live": null,
        "shadow": null
      },
      "latency_regression": false,
      "examples": []
    },
    {
      "endpoint": "POST /api/users/{id}",
      "route": "api",
      "sampled": 1,
      "compared": 0,
      "match": 0,
      "differ": 0,
      "shadow_error": 0,
      "diff_rate": null,
      "differences": [],
      "shadow_errors": {},
      "latency_ms": {
        "live": null,
        "shadow": null
      },
      "latency_histogram_ms": {
        "live": null,
        "shadow": null
      },
      "latency_regression": false,
      "examples": []
    }
  ],
  "routes": [
    {
      "name": "api",
      "shadow_upstream": "preview",
      "percent": 100.0
    },
    {
      "name": "web",
      "shadow_upstream": "preview",
      "percent": 50.0
    }
  ]
}
)";

const char* const expected_metrics =
    R"(# HELP parallax_mirror_sampled_total Exchanges the sampler chose for mirroring.
# TYPE parallax_mirror_sampled_total counter
parallax_mirror_sampled_total{route="api"} 4
parallax_mirror_sampled_total{route="web"} 3
# HELP parallax_mirror_skipped_total Sampled exchanges not mirrored, by reason.
# TYPE parallax_mirror_skipped_total counter
parallax_mirror_skipped_total{route="api",reason="method"} 1
parallax_mirror_skipped_total{route="api",reason="body_too_large"} 0
parallax_mirror_skipped_total{route="api",reason="rate_limited"} 0
parallax_mirror_skipped_total{route="api",reason="saturated"} 0
parallax_mirror_skipped_total{route="api",reason="live_error"} 0
parallax_mirror_skipped_total{route="api",reason="client_aborted"} 0
parallax_mirror_skipped_total{route="api",reason="paused"} 0
parallax_mirror_skipped_total{route="api",reason="shadow_request"} 0
parallax_mirror_skipped_total{route="web",reason="method"} 0
parallax_mirror_skipped_total{route="web",reason="body_too_large"} 0
parallax_mirror_skipped_total{route="web",reason="rate_limited"} 0
parallax_mirror_skipped_total{route="web",reason="saturated"} 2
parallax_mirror_skipped_total{route="web",reason="live_error"} 0
parallax_mirror_skipped_total{route="web",reason="client_aborted"} 0
parallax_mirror_skipped_total{route="web",reason="paused"} 0
parallax_mirror_skipped_total{route="web",reason="shadow_request"} 0
# HELP parallax_mirror_compared_total Compared exchanges, by outcome.
# TYPE parallax_mirror_compared_total counter
parallax_mirror_compared_total{route="api",outcome="match"} 1
parallax_mirror_compared_total{route="api",outcome="differ"} 1
parallax_mirror_compared_total{route="api",outcome="shadow_error"} 0
parallax_mirror_compared_total{route="web",outcome="match"} 0
parallax_mirror_compared_total{route="web",outcome="differ"} 0
parallax_mirror_compared_total{route="web",outcome="shadow_error"} 1
# HELP parallax_mirror_differences_total Differences found, by kind.
# TYPE parallax_mirror_differences_total counter
parallax_mirror_differences_total{route="api",kind="status"} 1
parallax_mirror_differences_total{route="api",kind="header"} 0
parallax_mirror_differences_total{route="api",kind="body"} 1
parallax_mirror_differences_total{route="web",kind="status"} 0
parallax_mirror_differences_total{route="web",kind="header"} 0
parallax_mirror_differences_total{route="web",kind="body"} 0
# HELP parallax_mirror_inflight Mirrored exchanges in flight.
# TYPE parallax_mirror_inflight gauge
parallax_mirror_inflight{route="api"} 1
parallax_mirror_inflight{route="web"} 0
# HELP parallax_mirror_percent Percent of the route's exchanges sampled for mirroring, runtime overrides included (0 while paused).
# TYPE parallax_mirror_percent gauge
parallax_mirror_percent{route="api"} 100
parallax_mirror_percent{route="web"} 50
# HELP parallax_mirror_shadow_duration_seconds Shadow request to response end.
# TYPE parallax_mirror_shadow_duration_seconds histogram
)";

TEST(EngineTest, ExportsTheSummaryMetricsSummaryFileAndLogOfWhatItWasGiven) {
  const scratch_dir dir("parallax-engine-test");
  engine e(load(dir), queue_limits{16, 64 * 1024});
  const auto generation = e.generation();
  const auto& routes = generation->routes;
  ASSERT_EQ(routes.size(), 3u);
  ASSERT_EQ(routes[1], nullptr); // `plain` is not mirrored
  const auto api = routes[0];
  const auto web = routes[2];
  ASSERT_NE(api, nullptr);
  ASSERT_NE(web, nullptr);

  auto& exchanges = e.exchange_counter();
  exchanges.store(10);
  e.exchange_counter().store(2); // a second worker
  // Sampled and skipped exchanges count in their endpoints' `sampled` too (the dispatcher notes
  // them like this).
  const auto request = [](std::string method, std::string target) {
    proxy::http::request_head r;
    r.method = std::move(method);
    r.target = std::move(target);
    return r;
  };
  api->stats->sampled.fetch_add(4);
  api->stats->skip(skip_reason::method);
  e.note_uncompared(api, request("POST", "/api/users/7"));
  web->stats->sampled.fetch_add(3);
  for (int i = 0; i < 2; ++i) {
    web->stats->skip(skip_reason::saturated);
    e.note_uncompared(web, request("GET", "/web?page=2"));
  }
  api->stats->inflight.store(1);
  api->stats->shadow_duration.observe(0.003);
  web->stats->shadow_duration.observe(0.2);

  EXPECT_TRUE(e.submit(job(api, "/api/users/1?token=abc", capture(200, R"({"name":"Ann"})", 1.0),
                           capture(500, R"({"name":"ann"})", 1.5))));
  EXPECT_TRUE(e.submit(job(api, "/api/users/2", capture(200, "{}", 2.0), capture(200, "{}", 3.0))));
  auto failed = capture(0, "", 0);
  failed.error = "timeout";
  EXPECT_TRUE(e.submit(job(web, "/web", capture(200, "{}", 4.0), std::move(failed))));
  auto huge = job(api, "/api/big", capture(200, std::string(100 * 1024, 'x'), 1.0),
                  capture(200, "{}", 1.0));
  EXPECT_FALSE(e.submit(std::move(huge))); // beyond the queue's bytes: dropped
  ASSERT_TRUE(e.wait_settled(4, 10s));
  EXPECT_EQ(e.compared(), 3u);

  const auto summary = report::render_json(e.summary_json(), true);
  EXPECT_EQ(stable(summary), expected_summary);

  std::string metrics;
  e.render_metrics(metrics);
  const auto histogram_at = metrics.find("parallax_mirror_shadow_duration_seconds_bucket");
  ASSERT_NE(histogram_at, std::string::npos);
  EXPECT_EQ(metrics.substr(0, histogram_at), expected_metrics);
  EXPECT_NE(metrics.find("parallax_mirror_shadow_duration_seconds_count{route=\"web\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("parallax_mirror_shadow_duration_seconds_bucket{route=\"api\",le="
                         "\"0.0033\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(metrics.substr(metrics.find("# HELP parallax_mirror_comparisons_dropped_total")),
            "# HELP parallax_mirror_comparisons_dropped_total Mirrored exchanges not compared "
            "because the comparison queue was full.\n"
            "# TYPE parallax_mirror_comparisons_dropped_total counter\n"
            "parallax_mirror_comparisons_dropped_total{route=\"api\"} 1\n"
            "parallax_mirror_comparisons_dropped_total{route=\"web\"} 0\n"
            "# HELP parallax_report_write_errors_total Report writes that failed, by sink.\n"
            "# TYPE parallax_report_write_errors_total counter\n"
            "parallax_report_write_errors_total{sink=\"discrepancies\"} 0\n"
            "parallax_report_write_errors_total{sink=\"summary\"} 0\n");

  e.shutdown();
  EXPECT_EQ(stable(file_text(dir.file("summary.json"))), expected_summary);
  EXPECT_EQ(
      stable(file_text(dir.file("log.jsonl"))),
      R"({"schema":"parallax.discrepancy/v1","time":"2026-11-26T03:21:01.123Z","id":"<id>",)"
      R"("route":"api","endpoint":"GET /api/users/{id}","outcome":"differ","request":)"
      R"({"method":"GET","target":"/api/users/1?token=[redacted]","headers":)"
      R"({"host":"shop.example.com","authorization":"[redacted]"},"body_bytes":0},"live":)"
      R"({"status":200,"latency_ms":1.0,"body_bytes":14,"body_sha256":)"
      R"("fb782b5cf1b735bfe202a30415a038c4ed123eed33e98f6d40211a8955e63203"},"shadow":)"
      R"({"status":500,"latency_ms":1.5,"body_bytes":14,"body_sha256":)"
      R"("b92970da333a6d91b2ee76f9e636c7c0dd71bf5fc834db5230a61ac249400280","error":null},)"
      R"("differences":[{"kind":"status","live":200,"shadow":500},{"kind":"body","op":)"
      R"("replace","path":"/name","live":"Ann","shadow":"ann"}],"noise_suppressed":0})"
      "\n"
      R"({"schema":"parallax.discrepancy/v1","time":"2026-11-26T03:21:01.123Z","id":"<id>",)"
      R"("route":"web","endpoint":"GET /web","outcome":"shadow_error","request":)"
      R"({"method":"GET","target":"/web","headers":)"
      R"({"host":"shop.example.com","authorization":"[redacted]"},"body_bytes":0},"live":)"
      R"({"status":200,"latency_ms":4.0,"body_bytes":2,"body_sha256":)"
      R"("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"shadow":)"
      R"({"status":null,"latency_ms":0.0,"body_bytes":0,"body_sha256":)"
      R"("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","error":"timeout"},)"
      R"("differences":[],"noise_suppressed":0})"
      "\n");
}

// A summary file that cannot be written (its directory replaced by a file while running) is
// counted in report_write_errors_total{sink="summary"}, and the proxy goes on.
TEST(EngineTest, ARouteMirroredAgainAfterAResetCountsFromZero) {
  // A window base taken for a route, the route's mirror removed by a reload, then added again
  // with new counters: its totals start at 0 (they wrapped around below zero once).
  const scratch_dir dir("parallax-engine-test");
  const auto cfg = load(dir);
  engine e(cfg, queue_limits{16, 64 * 1024});
  e.generation()->routes[0]->stats->sampled.fetch_add(5);
  e.reset_window(); // base: api sampled 5
  auto without = std::make_shared<config::config>(*cfg);
  without->routes[0].mirror.reset();
  e.apply(without);
  e.apply(std::make_shared<config::config>(*cfg)); // mirrored again: new counters
  e.generation()->routes[0]->stats->sampled.fetch_add(2);
  const auto summary = e.summary_json();
  EXPECT_EQ(summary.at("totals").at("sampled").to_number<std::uint64_t>(), 2u);
}

TEST(EngineTest, CountsSummaryFilesThatCannotBeWritten) {
  const scratch_dir dir("parallax-engine-test");
  const auto cfg = load(dir);
  engine e(cfg, queue_limits{16, 64 * 1024});
  std::filesystem::remove_all(dir.path());
  std::ofstream(dir.path()) << "not a directory";
  e.shutdown(); // writes the summary file one last time
  std::string metrics;
  e.render_metrics(metrics);
  EXPECT_NE(metrics.find("parallax_report_write_errors_total{sink=\"summary\"} 1\n"),
            std::string::npos)
      << metrics.substr(metrics.find("parallax_report_write_errors_total"));
  std::filesystem::remove(dir.path());
}

} // namespace
} // namespace parallax::mirror
