#include "mirror/report/record.hpp"

#include "mirror/report/excerpt.hpp"
#include "mirror/report/json_text.hpp"
#include "mirror/report/record_reader.hpp"
#include "mirror/report/redact.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::body_op;
using diff::difference;
using diff::difference_kind;

std::chrono::system_clock::time_point example_time() {
  return *parse_time("2026-11-26T03:21:01.123Z");
}

difference make(difference_kind kind, std::optional<json::value> live,
                std::optional<json::value> shadow) {
  difference d;
  d.kind = kind;
  d.live = std::move(live);
  d.shadow = std::move(shadow);
  return d;
}

difference body(body_op op, std::string path, std::optional<json::value> live,
                std::optional<json::value> shadow) {
  auto d = make(difference_kind::body, std::move(live), std::move(shadow));
  d.op = op;
  d.path = std::move(path);
  return d;
}

// The record of the reports.md example, with clear values where the example shows redactions.
// A record's JSON form: its log line, parsed as a reader of the log parses it.
json::object record_json(const record& r, const config::reports& cfg) {
  std::string line;
  append_json_line(line, r, cfg);
  return json::parse(line, {}, record_parse_options()).as_object();
}

record example_record() {
  record r;
  r.time = example_time();
  r.id = "01JDXK2Q6F7A3X9T5W1M0N8B4C";
  r.route = "api";
  r.endpoint = "GET /api/users/{id}";
  r.outcome = outcome::differ;
  r.request.method = "GET";
  r.request.target = "/api/users/42?token=s3cr3t-query&lang=en";
  r.request.headers = {{"Host", "shop.example.com"}, {"Authorization", "Bearer s3cr3t-header"}};
  r.live = {200, 1.84, 61, "aa11"};
  r.shadow.status = 200;
  r.shadow.latency_ms = 2.31;
  r.shadow.body_bytes = 58;
  r.shadow.body_sha256 = "bb22";
  r.differences.push_back(make(difference_kind::status, json::value(200), json::value(500)));
  auto header =
      make(difference_kind::header, json::value("application/json"), json::value("text/html"));
  header.name = "content-type";
  r.differences.push_back(header);
  r.differences.push_back(
      body(body_op::replace, "/user/name", json::value("Ann"), json::value("ann")));
  r.differences.push_back(
      body(body_op::remove, "/user/email", json::value("a@example.com"), std::nullopt));
  r.differences.push_back(body(body_op::add, "/user/nick", std::nullopt, json::value("annie")));
  r.differences.push_back(body(body_op::type, "/price", json::value(10), json::value("10")));
  auto text =
      make(difference_kind::body_text, json::value("<h1>Shop</h1>"), json::value("<h1>Store</h1>"));
  text.line = 14;
  r.differences.push_back(text);
  r.differences.push_back(
      make(difference_kind::body_bytes, json::value("aa11"), json::value("bb22")));
  r.noise_suppressed = 1;
  return r;
}

TEST(RecordJsonTest, MatchesTheReportsExampleFieldByField) {
  const config::reports cfg;
  const auto o = record_json(example_record(), cfg);
  const auto expected = json::parse(R"({
    "schema": "parallax.discrepancy/v1",
    "time": "2026-11-26T03:21:01.123Z",
    "id": "01JDXK2Q6F7A3X9T5W1M0N8B4C",
    "route": "api",
    "endpoint": "GET /api/users/{id}",
    "outcome": "differ",
    "request": {
      "method": "GET",
      "target": "/api/users/42?token=[redacted]&lang=en",
      "headers": { "host": "shop.example.com", "authorization": "[redacted]" },
      "body_bytes": 0
    },
    "live":   { "status": 200, "latency_ms": 1.84, "body_bytes": 61, "body_sha256": "aa11" },
    "shadow": { "status": 200, "latency_ms": 2.31, "body_bytes": 58, "body_sha256": "bb22",
                "error": null },
    "differences": [
      { "kind": "status",  "live": 200, "shadow": 500 },
      { "kind": "header",  "name": "content-type", "live": "application/json",
        "shadow": "text/html" },
      { "kind": "body",    "op": "replace", "path": "/user/name", "live": "Ann", "shadow": "ann" },
      { "kind": "body",    "op": "remove",  "path": "/user/email", "live": "a@example.com" },
      { "kind": "body",    "op": "add",     "path": "/user/nick", "shadow": "annie" },
      { "kind": "body",    "op": "type",    "path": "/price", "live": 10, "shadow": "10" },
      { "kind": "body_text", "line": 14, "live": "<h1>Shop</h1>", "shadow": "<h1>Store</h1>" },
      { "kind": "body_bytes", "live_sha256": "aa11", "shadow_sha256": "bb22" }
    ],
    "noise_suppressed": 1
  })");
  const auto& e = expected.as_object();
  ASSERT_EQ(o.size(), e.size());
  for (const auto& [key, value] : e) {
    ASSERT_TRUE(o.contains(key)) << key;
    EXPECT_EQ(o.at(key), value) << key << ": " << json::serialize(o.at(key));
  }
  // Field order follows the contract's example too (readers diffing lines rely on it).
  std::vector<std::string> keys;
  for (const auto& [key, value] : o)
    keys.emplace_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"schema", "time", "id", "route", "endpoint", "outcome",
                                            "request", "live", "shadow", "differences",
                                            "noise_suppressed"}));
}

TEST(RecordJsonTest, ShadowErrorWritesTheKindAndNullsForUnknownValues) {
  record r;
  r.time = example_time();
  r.id = make_record_id(r.time);
  r.route = "api";
  r.endpoint = "GET /x";
  r.outcome = outcome::shadow_error;
  r.request.method = "GET";
  r.request.target = "/x";
  r.live = {200, 1.0, 2, "ab"};
  r.shadow.latency_ms = 1000;
  r.shadow.error = "timeout";
  const auto o = record_json(r, config::reports{});
  const auto& shadow = o.at("shadow").as_object();
  EXPECT_TRUE(shadow.at("status").is_null());
  EXPECT_TRUE(shadow.at("body_sha256").is_null());
  EXPECT_EQ(shadow.at("error"), json::value("timeout"));
  EXPECT_TRUE(o.at("differences").as_array().empty());
}

TEST(RecordJsonTest, RepeatedRequestHeadersAreJoinedUnderTheLowerCaseName) {
  record r;
  r.request.headers = {{"Accept", "a/b"}, {"accept", "c/d"}};
  const auto o = record_json(r, config::reports{});
  EXPECT_EQ(o.at("request").at("headers").at("accept"), json::value("a/b, c/d"));
  // The joined value is excerpted as one string, like any other value.
  config::reports cfg;
  cfg.discrepancies.max_body_excerpt_bytes = 6;
  r.request.headers = {{"Accept", "abcd"}, {"accept", "efgh"}};
  EXPECT_EQ(record_json(r, cfg).at("request").at("headers").at("accept"), json::value("abcd, …"));
}

TEST(RecordJsonTest, JoinsRepeatsInPlaceRedactsEveryOneAndEscapesNamesAndValues) {
  config::reports cfg;
  cfg.redact.headers = {"x-token"};
  record r;
  r.request.headers = {{"X-Token", "a"},    {"Host", "h"},           {"x-token", "b"},
                       {"X-A\"b", "q\"\n"}, {"ACCEPT", "\x01/\x7f"}, {"X-Token", "c"}};
  std::string line;
  append_json_line(line, r, cfg);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto headers = json::parse(line).at("request").at("headers").as_object();
  std::vector<std::string> keys;
  for (const auto& [key, value] : headers)
    keys.emplace_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"x-token", "host", "x-a\"b", "accept"}));
  EXPECT_EQ(headers.at("x-token"), json::value("[redacted], [redacted], [redacted]"));
  EXPECT_EQ(headers.at("x-a\"b"), json::value("q\"\n"));
  EXPECT_EQ(headers.at("accept"), json::value("\x01/\x7f"));
}

TEST(RecordJsonTest, ACoarsenedDifferenceListIsMarkedAndReadBack) {
  // An extension field, written only when true: the example line stays as it is (below).
  record r = example_record();
  r.differences_coarsened = true;
  std::string line;
  append_json_line(line, r, config::reports{});
  const auto doc = json::parse(line);
  EXPECT_EQ(doc.at("differences_coarsened"), json::value(true));
  std::string error;
  const auto back = record_from_json(doc, error);
  ASSERT_TRUE(back) << error;
  EXPECT_TRUE(back->differences_coarsened);
  std::string plain;
  append_json_line(plain, example_record(), config::reports{});
  EXPECT_EQ(plain.find("differences_coarsened"), std::string::npos);
  const auto plain_back = record_from_json(json::parse(plain), error);
  ASSERT_TRUE(plain_back) << error;
  EXPECT_FALSE(plain_back->differences_coarsened);
}

TEST(RecordJsonTest, TheExampleRecordIsThisExactLine) {
  // Byte for byte, so key order at every depth, separators and number forms are pinned too.
  std::string line;
  append_json_line(line, example_record(), config::reports{});
  EXPECT_EQ(line,
            R"({"schema":"parallax.discrepancy/v1","time":"2026-11-26T03:21:01.123Z",)"
            R"("id":"01JDXK2Q6F7A3X9T5W1M0N8B4C","route":"api","endpoint":"GET /api/users/{id}",)"
            R"("outcome":"differ","request":{"method":"GET",)"
            R"("target":"/api/users/42?token=[redacted]&lang=en",)"
            R"("headers":{"host":"shop.example.com","authorization":"[redacted]"},)"
            R"("body_bytes":0},"live":{"status":200,"latency_ms":1.84,"body_bytes":61,)"
            R"("body_sha256":"aa11"},"shadow":{"status":200,"latency_ms":2.31,"body_bytes":58,)"
            R"("body_sha256":"bb22","error":null},"differences":[)"
            R"({"kind":"status","live":200,"shadow":500},)"
            R"({"kind":"header","name":"content-type","live":"application/json",)"
            R"("shadow":"text/html"},)"
            R"({"kind":"body","op":"replace","path":"/user/name","live":"Ann","shadow":"ann"},)"
            R"({"kind":"body","op":"remove","path":"/user/email","live":"a@example.com"},)"
            R"({"kind":"body","op":"add","path":"/user/nick","shadow":"annie"},)"
            R"({"kind":"body","op":"type","path":"/price","live":10,"shadow":"10"},)"
            R"({"kind":"body_text","line":14,"live":"<h1>Shop</h1>","shadow":"<h1>Store</h1>"},)"
            R"({"kind":"body_bytes","live_sha256":"aa11","shadow_sha256":"bb22"}],)"
            R"("noise_suppressed":1})");
}

TEST(RecordJsonTest, HeaderNamesAreEscapedThenLowerCased) {
  record r;
  r.request.headers = {{"X-\x1F"
                        "A",
                        "v"}};
  auto d = make(difference_kind::header, json::value("a"), std::nullopt);
  d.name = "X-\x1F"
           "B";
  r.differences.push_back(d);
  std::string line;
  append_json_line(line, r, config::reports{});
  EXPECT_NE(line.find(R"("headers":{"x-\u001fa":"v"})"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("name":"x-\u001fb")"), std::string::npos) << line;
}

TEST(RecordJsonTest, ManyRepeatedHeadersAreJoinedInOrderInLinearTime) {
  // Past the small-list scan: a map links the repeats (a client picks the field count).
  record r;
  std::string expected_a;
  for (int i = 0; i < 5000; ++i) {
    r.request.headers.emplace_back(i % 2 == 0 ? "X-A" : "x-b" + std::to_string(i),
                                   std::to_string(i));
    if (i % 2 == 0) expected_a += (expected_a.empty() ? "" : ", ") + std::to_string(i);
  }
  std::string line;
  config::reports cfg;
  cfg.discrepancies.max_body_excerpt_bytes = expected_a.size(); // the whole joined value
  append_json_line(line, r, cfg);
  const auto headers = json::parse(line).at("request").at("headers").as_object();
  EXPECT_EQ(headers.size(), 1u + 2500u);
  EXPECT_EQ(headers.begin()->key(), "x-a");
  EXPECT_EQ(headers.at("x-a"), json::value(expected_a));
  EXPECT_EQ(headers.at("x-b4999"), json::value("4999"));
}

TEST(RecordJsonTest, BytesThatAreNotUtf8AreWrittenAsReceived) {
  record r;
  r.request.headers = {{"X-Name", "caf\xE9"}};
  const auto o = record_json(r, config::reports{}); // parses back: no throw on obs-text
  EXPECT_EQ(o.at("request").at("headers").at("x-name"), json::value("caf\xE9"));
}

TEST(RecordJsonTest, TheLineIsWhatBoostJsonWritesForTheParsedRecord) {
  auto r = example_record();
  r.differences[2].live = json::value("tab\there \"quoted\" \\ \xE2\x82\xAC");
  r.differences[3].live = json::parse(R"({"a":[1,2.5,{"b":null}],"c":true})");
  std::string line;
  append_json_line(line, r, config::reports{});
  // Same text as the generic writer gives for the same tree (numbers in shortest form).
  EXPECT_EQ(line, serialize_json(json::parse(line)));
}

TEST(RecordJsonTest, ReadsBackWhatItWrote) {
  const config::reports cfg;
  const auto line = json::serialize(record_json(example_record(), cfg));
  std::string error;
  const auto back = record_from_json(json::parse(line), error);
  ASSERT_TRUE(back) << error;
  const auto original = example_record();
  EXPECT_EQ(back->time, original.time);
  EXPECT_EQ(back->id, original.id);
  EXPECT_EQ(back->route, "api");
  EXPECT_EQ(back->endpoint, original.endpoint);
  EXPECT_EQ(back->outcome, outcome::differ);
  EXPECT_EQ(back->request.target, "/api/users/42?token=[redacted]&lang=en");
  EXPECT_DOUBLE_EQ(back->live.latency_ms, 1.84);
  EXPECT_DOUBLE_EQ(back->shadow.latency_ms, 2.31);
  EXPECT_EQ(back->live.status, 200);
  EXPECT_FALSE(back->shadow.error);
  EXPECT_EQ(back->differences, original.differences);
  EXPECT_EQ(back->noise_suppressed, 1u);
  EXPECT_TRUE(back->noise.empty());
  EXPECT_EQ(line.find("\"noise\":"), std::string::npos); // written only when there is some
}

TEST(RecordJsonTest, NoiseIsWrittenAndReadBackLikeDifferences) {
  const config::reports cfg;
  auto r = example_record();
  r.noise = {r.differences.front()};
  std::string line;
  append_json_line(line, r, cfg);
  std::string error;
  const auto back = record_from_json(json::parse(line), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->noise, r.noise);
  EXPECT_EQ(back->differences, r.differences);
}

TEST(RecordJsonTest, GrpcKindsAreWrittenAndReadBack) {
  auto r = example_record();
  r.endpoint = "gRPC /shop.Shop/GetItem";
  r.differences.clear();
  r.differences.push_back(make(difference_kind::grpc_status, json::value(0), json::value(13)));
  auto trailer = make(difference_kind::trailer, std::nullopt, json::value("1"));
  trailer.name = "x-debug";
  r.differences.push_back(trailer);
  auto secret = make(difference_kind::trailer, json::value("a"), json::value("b"));
  secret.name = "authorization"; // redacted like the header of that name
  r.differences.push_back(secret);
  const auto o = record_json(r, config::reports{});
  const auto& d = o.at("differences").as_array();
  EXPECT_EQ(json::serialize(d.at(0)), R"({"kind":"grpc_status","live":0,"shadow":13})");
  EXPECT_EQ(json::serialize(d.at(1)), R"({"kind":"trailer","name":"x-debug","shadow":"1"})");
  EXPECT_EQ(d.at(2).at("live"), "[redacted]");
  std::string error;
  const auto back = record_from_json(o, error);
  ASSERT_TRUE(back) << error;
  ASSERT_EQ(back->differences.size(), 3u);
  EXPECT_EQ(back->differences[0], r.differences[0]);
  EXPECT_EQ(back->differences[1], r.differences[1]);
  EXPECT_EQ(back->endpoint, "gRPC /shop.Shop/GetItem");
}

TEST(RecordJsonTest, ReadingRejectsWhatIsNotARecord) {
  std::string error;
  EXPECT_FALSE(record_from_json(json::parse("[1]"), error));
  EXPECT_EQ(error, "not a JSON object");
  EXPECT_FALSE(record_from_json(json::parse(R"({"schema":"other/v1"})"), error));
  EXPECT_NE(error.find("schema"), std::string::npos);
  auto o = record_json(example_record(), config::reports{});
  o["outcome"] = "maybe";
  EXPECT_FALSE(record_from_json(o, error));
  EXPECT_EQ(error, "unknown outcome \"maybe\"");
  o["outcome"] = "shadow_error";
  EXPECT_FALSE(record_from_json(o, error));
  EXPECT_NE(error.find("shadow.error"), std::string::npos);
  o["outcome"] = "differ";
  o["time"] = "yesterday";
  EXPECT_FALSE(record_from_json(o, error));
  EXPECT_EQ(error, "missing or invalid \"time\"");
}

TEST(RecordRedactionTest, PlantedSecretsNeverAppearInTheLine) {
  record r = example_record();
  r.request.target = "/login?api_key=PLANTED-1&access_token=PLANTED-2&q=ok";
  r.request.headers = {{"Cookie", "sid=PLANTED-3"}, {"Proxy-Authorization", "Basic PLANTED-4"}};
  r.differences.clear();
  // A changed value at a redacted field at depth, and a changed object holding one.
  r.differences.push_back(body(body_op::replace, "/data/0/credentials/password",
                               json::value("PLANTED-5"), json::value("PLANTED-6")));
  r.differences.push_back(body(body_op::add, "/data/1", std::nullopt,
                               json::parse(R"({"user":{"name":"x","Secret":"PLANTED-7",
                                   "list":[{"refresh_token":"PLANTED-8"}]}})")));
  r.differences.push_back(
      body(body_op::replace, "/auth/tok~1en", json::value("x"), json::value("y")));
  r.differences.push_back(
      body(body_op::replace, "/token", json::value(12345), json::value("PLANTED-9")));
  auto header = make(difference_kind::header, json::value("a=PLANTED-10"), std::nullopt);
  header.name = "Set-Cookie";
  r.differences.push_back(header);
  auto text = make(difference_kind::body_text, json::value(R"("password": "PLANTED-11",)"),
                   json::value("token=PLANTED-12&next=1"));
  text.line = 3;
  r.differences.push_back(text);
  auto text2 = make(difference_kind::body_text, json::value("Authorization: Bearer PLANTED-13"),
                    std::nullopt);
  r.differences.push_back(text2);

  const auto line = json::serialize(record_json(r, config::reports{}));
  EXPECT_EQ(line.find("PLANTED"), std::string::npos) << line;
  // What is not secret stays readable.
  EXPECT_NE(line.find("q=ok"), std::string::npos);
  EXPECT_NE(line.find(R"("name":"x")"), std::string::npos);
  EXPECT_NE(line.find("next=1"), std::string::npos);
  EXPECT_NE(line.find(R"("path":"/data/0/credentials/password")"), std::string::npos);
}

TEST(RecordRedactionTest, TextLinesKeepNonSecretValues) {
  const std::vector<std::string> names{"password", "token", "cookie"};
  EXPECT_EQ(redact_text_line(R"({"password":"p","user":"u"})", names),
            R"({"password":"[redacted]","user":"u"})");
  EXPECT_EQ(redact_text_line("a=1&token=t&b=2", names), "a=1&token=[redacted]&b=2");
  EXPECT_EQ(redact_text_line("my_token=t mytoken: x", names), "my_token=t mytoken: x");
  EXPECT_EQ(redact_text_line("token: abc def, next", names), "token: [redacted], next");
  EXPECT_EQ(redact_text_line("no secrets here", names), "no secrets here");
  EXPECT_EQ(redact_text_line("Cookie: a=1; sid=2", names), "Cookie: [redacted]");
  EXPECT_EQ(redact_text_line(R"({"token": 123, "n": 1})", names),
            R"({"token": [redacted], "n": 1})");
}

TEST(RecordExcerptTest, LongStringsAreCutAtACharacterBoundaryWithAnEllipsis) {
  EXPECT_EQ(excerpt("short", 10), "short");
  EXPECT_EQ(excerpt("0123456789", 10), "0123456789");
  EXPECT_EQ(excerpt("0123456789a", 4), "0123\xE2\x80\xA6");
  // "é" is 2 bytes, "€" 3: a cut inside either backs up to the character before.
  EXPECT_EQ(excerpt("ab\xC3\xA9"
                    "cd",
                    3),
            "ab\xE2\x80\xA6");
  EXPECT_EQ(excerpt("a\xE2\x82\xAC"
                    "b",
                    2),
            "a\xE2\x80\xA6");
  EXPECT_EQ(excerpt("a\xE2\x82\xAC"
                    "b",
                    3),
            "a\xE2\x80\xA6");
  EXPECT_EQ(excerpt("a\xE2\x82\xAC"
                    "b",
                    4),
            "a\xE2\x82\xAC\xE2\x80\xA6");
  EXPECT_EQ(excerpt("abc", 0), "\xE2\x80\xA6");
}

TEST(RecordExcerptTest, RecordValuesAreExcerpted) {
  config::reports cfg;
  cfg.discrepancies.max_body_excerpt_bytes = 8;
  record r;
  r.request.target = "/a/very/long/path";
  r.request.headers = {{"user-agent", "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"}};
  r.differences.push_back(body(body_op::replace, "/s",
                               json::value("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC"),
                               json::parse(R"({"k":[1,2,3,4,5]})")));
  const auto o = record_json(r, cfg);
  EXPECT_EQ(o.at("request").at("target"), json::value("/a/very/\xE2\x80\xA6"));
  EXPECT_EQ(o.at("request").at("headers").at("user-agent"),
            json::value("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xE2\x80\xA6"));
  const auto& d = o.at("differences").at(0);
  EXPECT_EQ(d.at("live"), json::value("\xE2\x82\xAC\xE2\x82\xAC\xE2\x80\xA6"));
  // A structured value too large becomes an excerpt of its serialisation.
  EXPECT_EQ(d.at("shadow"), json::value("{\"k\":[1,\xE2\x80\xA6"));
}

TEST(RecordIdTest, HasTheUlidShape) {
  const auto now = std::chrono::system_clock::now();
  const auto id = make_record_id(now);
  EXPECT_EQ(id.size(), 26u);
  EXPECT_LE(id.front(), '7') << id; // 26 base32 characters hold 130 bits, an id 128
  EXPECT_EQ(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos) << id;
}

TEST(RecordIdTest, EncodesTheMillisecondTimestampFirst) {
  // 2026-11-26T03:21:01.123Z = 1795663261123 ms; its 10 base32 characters lead the id.
  const auto t = *parse_time("2026-11-26T03:21:01.123Z");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  std::uint64_t v = static_cast<std::uint64_t>(ms.count());
  std::string expected(10, '0');
  for (std::size_t i = 10; i-- > 0; v >>= 5)
    expected[i] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[v & 31];
  EXPECT_EQ(make_record_id(t).substr(0, 10), expected);
}

TEST(RecordIdTest, IdsSortInCreationOrderAndAreUnique) {
  auto t = std::chrono::system_clock::now();
  std::vector<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    if (i % 100 == 0) t += std::chrono::milliseconds(1); // many ids per millisecond too
    ids.push_back(make_record_id(t));
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(RecordTimeTest, FormatsAndParsesUtc) {
  const auto t = *parse_time("2026-11-26T03:21:01.123Z");
  EXPECT_EQ(format_time(t), "2026-11-26T03:21:01.123Z");
  EXPECT_EQ(format_time(t, false), "2026-11-26T03:21:01Z");
  EXPECT_EQ(format_time(*parse_time("2024-02-29T23:59:59+00:00")), "2024-02-29T23:59:59.000Z");
  EXPECT_FALSE(parse_time("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_time("2026-11-26 03:21:01Z"));
  EXPECT_FALSE(parse_time("2026-11-26T03:21:01"));
}

} // namespace
} // namespace parallax::mirror::report
