// Example values per difference (bounded, redacted), the latency histogram's JSON form and
// summaries merged from their JSON (summary::merge_json): what `parallax report` does with
// summary files and running parallaxes' /report.

#include "mirror/report/summary.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <random>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::body_op;
using diff::difference;
using diff::difference_kind;

const auto t0 = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56);

difference body_diff(std::string path, json::value live, json::value shadow) {
  difference d;
  d.kind = difference_kind::body;
  d.op = body_op::replace;
  d.path = std::move(path);
  d.live = std::move(live);
  d.shadow = std::move(shadow);
  return d;
}

record make_record(std::string endpoint, std::vector<difference> diffs, double live_ms = 1,
                   double shadow_ms = 1) {
  static int counter = 0;
  record r;
  r.time = t0 + std::chrono::milliseconds(++counter);
  r.id = make_record_id(r.time);
  r.route = "api";
  r.endpoint = std::move(endpoint);
  r.outcome = diffs.empty() ? outcome::match : outcome::differ;
  r.live.latency_ms = live_ms;
  r.shadow.latency_ms = shadow_ms;
  r.differences = std::move(diffs);
  return r;
}

const json::object& first_endpoint(const json::object& s) {
  return s.at("endpoints").as_array().at(0).as_object();
}

const json::array& examples_of(const json::object& s, std::size_t difference) {
  return first_endpoint(s).at("differences").as_array().at(difference).at("examples").as_array();
}

TEST(SummaryExamplesTest, KeepsTheFirstThreeValuesPerDifferenceWithTheirIds) {
  summary s;
  std::vector<std::string> ids;
  std::vector<record> records;
  for (int i = 0; i < 6; ++i) {
    auto r = make_record("GET /u", {body_diff("/user/name", json::value("live" + std::to_string(i)),
                                              json::value("shadow" + std::to_string(i)))});
    ids.push_back(r.id);
    records.push_back(std::move(r));
  }
  for (auto it = records.rbegin(); it != records.rend(); ++it) // in any order: the oldest kept
    s.add(*it);
  const auto o = s.to_json(t0, t0, std::nullopt);
  const auto& examples = examples_of(o, 0);
  ASSERT_EQ(examples.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) { // oldest first
    EXPECT_EQ(examples[i].at("id"), json::value(ids[i]));
    EXPECT_EQ(examples[i].at("live"), json::value("live" + std::to_string(i)));
    EXPECT_EQ(examples[i].at("shadow"), json::value("shadow" + std::to_string(i)));
  }
}

TEST(SummaryExamplesTest, ValuesAreRedactedAndExcerptedAsTheRecordWriterDoes) {
  summary_options options;
  options.reports.redact.json_fields = {"password"};
  options.example_value_bytes = 16;
  summary s(options);
  difference header;
  header.kind = difference_kind::header;
  header.name = "authorization";
  header.live = json::value("Bearer live-secret");
  header.shadow = json::value("Bearer shadow-secret");
  difference added = body_diff("/user/password", json::value("hunter2"), json::value("x"));
  added.op = body_op::add;
  added.live.reset();
  s.add(make_record("GET /u",
                    {header, added,
                     body_diff("/user/bio", json::value(std::string(100, 'b')), json::value("c")),
                     body_diff("/items/7/price", json::value(10), json::value("10"))}));
  const auto o = s.to_json(t0, t0, std::nullopt);
  const auto text = json::serialize(o);
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  for (const auto& d : first_endpoint(o).at("differences").as_array()) {
    const auto& example = d.at("examples").as_array().at(0).as_object();
    const auto where = d.as_object().contains("path") ? d.at("path") : d.at("name");
    if (where == json::value("authorization")) {
      EXPECT_EQ(example.at("live"), json::value("[redacted]"));
      EXPECT_EQ(example.at("shadow"), json::value("[redacted]"));
    } else if (where == json::value("/user/password")) {
      EXPECT_FALSE(example.contains("live")); // an `add` has no live value
      EXPECT_EQ(example.at("shadow"), json::value("[redacted]"));
    } else if (where == json::value("/user/bio")) {
      EXPECT_EQ(example.at("live"), json::value(std::string(16, 'b') + "\xE2\x80\xA6"));
    } else {
      EXPECT_EQ(where, json::value("/items/*/price"));
      EXPECT_EQ(example.at("path"), json::value("/items/7/price"));
      EXPECT_EQ(example.at("live"), json::value(10));
      EXPECT_EQ(example.at("shadow"), json::value("10"));
    }
  }
}

TEST(LatencyHistogramTest, JsonFormComesBackExactly) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(0.5, 1.5);
  latency_histogram h;
  for (int i = 0; i < 5000; ++i)
    h.add(dist(rng));
  h.add(0);   // underflow bucket
  h.add(5e9); // overflow bucket
  latency_histogram back;
  std::string error;
  ASSERT_TRUE(back.merge_json(json::parse(json::serialize(h.to_json())), error)) << error;
  EXPECT_EQ(back.count(), h.count());
  for (double q : {0.0001, 0.5, 0.9, 0.99, 1.0})
    EXPECT_DOUBLE_EQ(back.quantile(q), h.quantile(q)) << q;
  EXPECT_TRUE(back.merge_json(nullptr, error)); // an empty side adds nothing
  EXPECT_EQ(back.count(), h.count());
}

TEST(LatencyHistogramTest, MalformedBucketsAreRejected) {
  for (const char* text :
       {R"({"buckets": 3})", R"({"buckets": [[1, 2]]})", R"({"buckets": [[2, 1, 1]]})",
        R"({"buckets": [[1, 2, -1]]})", R"({"buckets": [["1", 2, 1]]})", R"([])"}) {
    latency_histogram h;
    std::string error;
    EXPECT_FALSE(h.merge_json(json::parse(text), error)) << text;
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(h.count(), 0u);
  }
}

TEST(SummaryMergeTest, GrpcKindsAreKeyedAndMergedLikeStatusAndHeaders) {
  summary a;
  difference status;
  status.kind = difference_kind::grpc_status;
  status.live = json::value(0);
  status.shadow = json::value(13);
  difference trailer;
  trailer.kind = difference_kind::trailer;
  trailer.name = "x-debug";
  trailer.shadow = json::value("1");
  for (int i = 0; i < 3; ++i)
    a.add(make_record("gRPC /shop.Shop/GetItem", {status, trailer}));
  const proxy_totals none{};
  const auto text = json::serialize(a.to_json(t0, t0, none));
  const auto doc = json::parse(text);
  const auto& diffs = first_endpoint(doc.as_object()).at("differences").as_array();
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].at("kind"), "grpc_status");
  EXPECT_EQ(diffs[0].at("live"), 0);
  EXPECT_EQ(diffs[0].at("shadow"), 13);
  EXPECT_FALSE(diffs[0].as_object().contains("noise"));
  EXPECT_EQ(diffs[1].at("kind"), "trailer");
  EXPECT_EQ(diffs[1].at("name"), "x-debug");
  EXPECT_EQ(diffs[1].at("count"), 3);
  summary merged;
  std::string error;
  ASSERT_TRUE(merged.merge_json(json::parse(text).as_object(), error)) << error;
  ASSERT_TRUE(merged.merge_json(json::parse(text).as_object(), error)) << error;
  const auto m = merged.to_json(t0, t0, none);
  const auto& twice = first_endpoint(m).at("differences").as_array();
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_EQ(twice[0].at("count"), 6);
  EXPECT_EQ(twice[1].at("count"), 6);
}

TEST(SummaryMergeTest, MergedSummariesEqualTheSummaryOfAllTheirRecords) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> fast(0.2, 0.6);
  std::lognormal_distribution<double> slow(1.5, 0.9);
  summary a;
  summary b;
  summary all;
  for (int i = 0; i < 400; ++i) {
    std::vector<difference> diffs;
    if (i % 4 == 0) diffs.push_back(body_diff("/v", json::value(i), json::value(-i)));
    const auto r = make_record("GET /m", diffs, fast(rng), (i % 2 != 0 ? fast : slow)(rng));
    (i < 150 ? a : b).add(r);
    all.add(r);
  }
  const proxy_totals none{};
  summary merged;
  std::string error;
  for (const auto* part : {&a, &b}) {
    const auto text = json::serialize(part->to_json(t0, t0, none));
    ASSERT_TRUE(merged.merge_json(json::parse(text).as_object(), error)) << error;
  }
  const auto m = first_endpoint(merged.to_json(t0, t0, none));
  const auto c = first_endpoint(all.to_json(t0, t0, none));
  for (const char* key : {"compared", "match", "differ", "latency_ms", "differences", "examples"}) {
    EXPECT_EQ(m.at(key), c.at(key)) << key;
  }
  // The same buckets (their extremes may read back a unit in the last place apart).
  for (const char* side : {"live", "shadow"}) {
    const auto& mh = m.at("latency_histogram_ms").at(side);
    const auto& ch = c.at("latency_histogram_ms").at(side);
    EXPECT_EQ(mh.at("buckets"), ch.at("buckets")) << side;
    EXPECT_EQ(mh.at("count"), ch.at("count")) << side;
  }
  EXPECT_EQ(examples_of(merged.to_json(t0, t0, none), 0).size(), 3u);

  json::object not_summary{{"schema", "something/v1"}, {"endpoints", json::array()}};
  EXPECT_FALSE(merged.merge_json(not_summary, error));
  EXPECT_NE(error.find("parallax.summary/v1"), std::string::npos);
  json::object bad_endpoint{{"schema", summary_schema}, {"endpoints", json::array{1}}};
  EXPECT_FALSE(merged.merge_json(bad_endpoint, error));
}

} // namespace
} // namespace parallax::mirror::report
