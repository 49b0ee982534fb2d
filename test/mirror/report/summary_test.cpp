#include "mirror/report/summary.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::body_op;
using diff::difference;
using diff::difference_kind;

const auto t0 = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56);

difference body_diff(std::string path) {
  difference d;
  d.kind = difference_kind::body;
  d.op = body_op::replace;
  d.path = std::move(path);
  d.live = json::value("a");
  d.shadow = json::value("b");
  return d;
}

difference status_diff(int live, int shadow) {
  difference d;
  d.kind = difference_kind::status;
  d.live = json::value(live);
  d.shadow = json::value(shadow);
  return d;
}

record make_record(std::string endpoint, outcome o, std::vector<difference> diffs = {},
                   double live_ms = 1, double shadow_ms = 1) {
  static int counter = 0;
  record r;
  r.time = t0 + std::chrono::milliseconds(++counter);
  r.id = make_record_id(r.time);
  r.route = "api";
  r.endpoint = std::move(endpoint);
  r.outcome = o;
  r.live.latency_ms = live_ms;
  r.shadow.latency_ms = shadow_ms;
  if (o == outcome::shadow_error) r.shadow.error = "timeout";
  r.differences = std::move(diffs);
  return r;
}

const json::object& endpoint_named(const json::object& s, std::string_view name) {
  for (const auto& e : s.at("endpoints").as_array()) {
    if (e.at("endpoint") == json::value(name)) return e.as_object();
  }
  ADD_FAILURE() << "no endpoint " << name << " in " << json::serialize(s);
  static const json::object none;
  return none;
}

TEST(SummaryTest, CountsTotalsAndPerEndpointOutcomes) {
  summary s;
  for (int i = 0; i < 10; ++i)
    s.count_sampled("api", "GET /a");
  for (int i = 0; i < 6; ++i)
    s.add(make_record("GET /a", outcome::match));
  for (int i = 0; i < 3; ++i)
    s.add(make_record("GET /a", outcome::differ, {body_diff("/x")}));
  s.add(make_record("GET /a", outcome::shadow_error));
  proxy_totals proxy;
  proxy.exchanges = 100;
  proxy.sampled = 12;
  proxy.skipped[static_cast<std::size_t>(skip_reason::saturated)] = 1;
  proxy.skipped[static_cast<std::size_t>(skip_reason::method)] = 2;
  proxy.comparisons_dropped = 3;
  const auto o = s.to_json(t0, t0 + std::chrono::minutes(30), proxy);
  EXPECT_EQ(o.at("schema"), json::value("parallax.summary/v1"));
  EXPECT_EQ(o.at("since"), json::value(format_time(t0, false)));
  EXPECT_FALSE(o.contains("note"));
  const auto& totals = o.at("totals").as_object();
  EXPECT_EQ(totals.at("exchanges"), json::value(100));
  EXPECT_EQ(totals.at("sampled"), json::value(12));
  EXPECT_EQ(totals.at("compared"), json::value(10));
  EXPECT_EQ(totals.at("match"), json::value(6));
  EXPECT_EQ(totals.at("differ"), json::value(3));
  EXPECT_EQ(totals.at("shadow_error"), json::value(1));
  const auto& skipped = totals.at("skipped").as_object();
  EXPECT_EQ(skipped.size(), 8u);
  EXPECT_EQ(skipped.at("saturated"), json::value(1));
  EXPECT_EQ(skipped.at("method"), json::value(2));
  EXPECT_EQ(skipped.at("client_aborted"), json::value(0));
  EXPECT_EQ(totals.at("comparisons_dropped"), json::value(3));
  EXPECT_EQ(s.compared(), 10u);

  const auto& e = endpoint_named(o, "GET /a");
  EXPECT_EQ(e.at("route"), json::value("api"));
  EXPECT_EQ(e.at("sampled"), json::value(10));
  EXPECT_EQ(e.at("compared"), json::value(10));
  EXPECT_EQ(e.at("differ"), json::value(3));
  EXPECT_DOUBLE_EQ(e.at("diff_rate").as_double(), 0.3);
  EXPECT_EQ(e.at("shadow_errors").at("timeout"), json::value(1));
  EXPECT_EQ(e.at("examples").as_array().size(), 4u);
}

TEST(SummaryTest, DiffRateIsDifferOverComparedRoundedToFourDigits) {
  summary s;
  for (int i = 0; i < 4500; ++i)
    s.add(make_record("GET /u", outcome::match));
  for (int i = 0; i < 480; ++i)
    s.add(make_record("GET /u", outcome::differ));
  for (int i = 0; i < 10; ++i)
    s.add(make_record("GET /u", outcome::shadow_error));
  const auto o = s.to_json(t0, t0, proxy_totals{});
  EXPECT_DOUBLE_EQ(endpoint_named(o, "GET /u").at("diff_rate").as_double(), 0.0962);
}

TEST(SummaryTest, TopDifferencesAreOrderedByCountAndCapped) {
  summary_options options;
  options.top_differences = 3;
  summary s(options);
  const auto add = [&](std::vector<difference> diffs, int times) {
    for (int i = 0; i < times; ++i)
      s.add(make_record("GET /d", outcome::differ, diffs));
  };
  add({body_diff("/user/name")}, 5);
  add({status_diff(200, 500)}, 7);
  add({body_diff("/items/0/price"), body_diff("/items/12/price")}, 2); // one key: /items/*/price
  add({body_diff("/rare")}, 1);
  const auto o = s.to_json(t0, t0, proxy_totals{});
  auto diffs = endpoint_named(o, "GET /d").at("differences").as_array();
  ASSERT_EQ(diffs.size(), 3u);
  for (auto& d : diffs)
    d.as_object().erase("examples"); // SummaryExamplesTest
  EXPECT_EQ(diffs[0], json::parse(R"({"kind":"status","live":200,"shadow":500,"count":7})"));
  EXPECT_EQ(diffs[1],
            json::parse(R"({"kind":"body","path":"/user/name","count":5,"noise":false})"));
  EXPECT_EQ(diffs[2],
            json::parse(R"({"kind":"body","path":"/items/*/price","count":4,"noise":false})"));
}

TEST(SummaryTest, NoiseIsListedApartAfterTheRealDifferences) {
  summary s;
  // The same field differs in both records; in the second the secondary showed it too.
  s.add(make_record("GET /n", outcome::differ, {body_diff("/name")}));
  for (int i = 0; i < 3; ++i) {
    auto r = make_record("GET /n", outcome::match);
    r.noise = {body_diff("/name"), status_diff(200, 503)};
    if (i > 0) r.id.clear(); // a match that was not written: counted, no example
    s.add(r);
  }
  const auto o = s.to_json(t0, t0, proxy_totals{});
  auto diffs = endpoint_named(o, "GET /n").at("differences").as_array();
  ASSERT_EQ(diffs.size(), 3u);
  EXPECT_EQ(diffs[2].at("examples").as_array().size(), 1u); // only the record with an id
  for (auto& d : diffs)
    d.as_object().erase("examples");
  EXPECT_EQ(diffs[0], json::parse(R"({"kind":"body","path":"/name","count":1,"noise":false})"));
  EXPECT_EQ(diffs[1], json::parse(R"({"kind":"status","live":200,"shadow":503,"count":3,)"
                                  R"("noise":true})"));
  EXPECT_EQ(diffs[2], json::parse(R"({"kind":"body","path":"/name","count":3,"noise":true})"));

  // A summary merged from this one's JSON keeps noise apart too.
  summary merged;
  std::string error;
  ASSERT_TRUE(merged.merge_json(o, error)) << error;
  EXPECT_EQ(endpoint_named(merged.to_json(t0, t0, proxy_totals{}), "GET /n").at("differences"),
            endpoint_named(o, "GET /n").at("differences"));
}

TEST(SummaryTest, DistinctDifferenceKeysAreBounded) {
  summary_options options;
  options.max_difference_keys = 4;
  summary s(options);
  for (int i = 0; i < 10; ++i) {
    s.add(make_record("GET /k", outcome::differ, {body_diff("/f" + std::string(1, 'a' + i))}));
  }
  const auto o = s.to_json(t0, t0, proxy_totals{});
  const auto& e = endpoint_named(o, "GET /k");
  EXPECT_EQ(e.at("differences").as_array().size(), 4u);
  EXPECT_EQ(e.at("other_differences"), json::value(6));
}

TEST(SummaryTest, EndpointsBeyondTheCapAreCountedUnderOther) {
  summary_options options;
  options.max_endpoints = 3;
  summary s(options);
  for (int i = 0; i < 10; ++i)
    s.add(make_record("GET /e" + std::to_string(i), outcome::differ));
  const auto o = s.to_json(t0, t0, proxy_totals{});
  const auto& endpoints = o.at("endpoints").as_array();
  ASSERT_EQ(endpoints.size(), 4u);
  EXPECT_EQ(endpoints.back().at("endpoint"), json::value("other"));
  EXPECT_EQ(endpoints.back().at("compared"), json::value(7));
  EXPECT_EQ(o.at("totals").at("compared"), json::value(10));
}

TEST(SummaryTest, ExamplesAreTheNewestFiveIdsOfDifferingExchanges) {
  summary s;
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto r = make_record("GET /x", outcome::differ);
    ids.push_back(r.id);
    s.add(r);
    s.add(make_record("GET /x", outcome::match));
  }
  const auto o = s.to_json(t0, t0, proxy_totals{});
  const auto& examples = endpoint_named(o, "GET /x").at("examples").as_array();
  ASSERT_EQ(examples.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(examples[i], json::value(ids[7 - i]));
}

TEST(SummaryTest, FlagsLatencyRegressionAboveTheRouteRatio) {
  summary_options options;
  options.route_regression_ratios["api"] = 1.5;
  summary s(options);
  for (int i = 1; i <= 100; ++i) {
    s.add(make_record("GET /slow", outcome::match, {}, i * 0.1, i * 0.2));
    s.add(make_record("GET /fine", outcome::match, {}, i * 0.1, i * 0.12));
  }
  const auto o = s.to_json(t0, t0, proxy_totals{});
  EXPECT_EQ(endpoint_named(o, "GET /slow").at("latency_regression"), json::value(true));
  EXPECT_EQ(endpoint_named(o, "GET /fine").at("latency_regression"), json::value(false));
  const auto& latency = endpoint_named(o, "GET /slow").at("latency_ms");
  EXPECT_NEAR(latency.at("live").at("p99").as_double(), 9.9, 0.1);
  EXPECT_NEAR(latency.at("shadow").at("p99").as_double(), 19.8, 0.2);

  summary off; // ratio 0: never flagged
  for (int i = 1; i <= 100; ++i)
    off.add(make_record("GET /slow", outcome::match, {}, 1, 100));
  EXPECT_EQ(
      endpoint_named(off.to_json(t0, t0, proxy_totals{}), "GET /slow").at("latency_regression"),
      json::value(false));
}

TEST(SummaryTest, ShadowErrorsDoNotCountAsShadowLatency) {
  summary s;
  s.add(make_record("GET /t", outcome::shadow_error, {}, 1, 30000));
  const auto o = s.to_json(t0, t0, proxy_totals{});
  const auto& latency = endpoint_named(o, "GET /t").at("latency_ms");
  EXPECT_TRUE(latency.at("shadow").is_null());
  EXPECT_FALSE(latency.at("live").is_null());
}

TEST(SummaryTest, TotalsUnknownWhenBuiltFromLogs) {
  summary s;
  s.add(make_record("GET /l", outcome::differ));
  auto o = s.to_json(t0, t0, std::nullopt);
  EXPECT_TRUE(o.at("totals").at("exchanges").is_null());
  EXPECT_TRUE(o.at("totals").at("sampled").is_null());
  EXPECT_TRUE(o.at("totals").at("skipped").is_null());
  EXPECT_FALSE(o.at("totals").as_object().contains("comparisons_dropped"));
  EXPECT_TRUE(endpoint_named(o, "GET /l").at("sampled").is_null());
  // Without match records the rate is not knowable either.
  EXPECT_TRUE(endpoint_named(o, "GET /l").at("diff_rate").is_null());
  EXPECT_NE(o.at("note").as_string().find("include_matches"), json::string::npos);
  s.add(make_record("GET /l", outcome::match));
  o = s.to_json(t0, t0, std::nullopt);
  EXPECT_DOUBLE_EQ(endpoint_named(o, "GET /l").at("diff_rate").as_double(), 0.5);
}

TEST(SummaryLatencyTest, PercentilesAreWithinTwoPercentOfExact) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(1.0, 1.2); // long-tailed, like latencies
  latency_histogram h;
  std::vector<double> samples;
  for (int i = 0; i < 100000; ++i) {
    const double v = dist(rng);
    samples.push_back(v);
    h.add(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    const double exact = samples[rank - 1];
    EXPECT_NEAR(h.quantile(q), exact, exact * 0.02) << "q=" << q;
  }
  EXPECT_EQ(h.count(), 100000u);
}

TEST(SummaryLatencyTest, ExtremesAndMergeBehave) {
  latency_histogram h;
  EXPECT_EQ(h.quantile(0.5), 0);
  h.add(0);
  h.add(-3);
  EXPECT_EQ(h.quantile(0.99), 0);
  latency_histogram big;
  big.add(5e9); // beyond the last bucket: clamped to the largest value seen
  EXPECT_DOUBLE_EQ(big.quantile(1.0), 5e9);
  h.merge(big);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_DOUBLE_EQ(h.quantile(1.0), 5e9);
  EXPECT_EQ(h.quantile(0.5), 0);
}

TEST(SummaryTest, OptionsFromConfigTakeEachRoutesRegressionRatio) {
  config::config cfg;
  config::route with;
  with.name = "api";
  with.mirror.emplace();
  with.mirror->compare.latency.regression_ratio = 2;
  config::route without;
  without.name = "static";
  cfg.routes = {with, without};
  const auto options = summary_options_from(cfg);
  EXPECT_EQ(options.route_regression_ratios.size(), 1u);
  EXPECT_DOUBLE_EQ(options.route_regression_ratios.at("api"), 2);
}

} // namespace
} // namespace parallax::mirror::report
