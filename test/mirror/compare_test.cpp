// The live-vs-shadow comparer (status, headers, decoded bodies by content type, size+hash
// beyond max_bytes, secondary noise) and the streaming response capture.

#include "mirror/compare.hpp"

#include "test/mirror/describe.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <zlib.h>

namespace parallax::mirror {
namespace {

response_capture capture(int status, std::string_view content_type, std::string_view body,
                         std::uint64_t max_bytes = 1 << 20, std::string_view encoding = {}) {
  response_capture c(max_bytes);
  proxy::http::response_head head;
  head.status = status;
  if (!content_type.empty()) head.headers.add("Content-Type", content_type);
  if (!encoding.empty()) head.headers.add("Content-Encoding", encoding);
  c.head(head);
  // Two pieces, as a streamed body arrives.
  c.body(body.substr(0, body.size() / 2));
  c.body(body.substr(body.size() / 2));
  c.finish();
  return c;
}

using test::describe;

report::record run(const config::compare_policy& policy, const response_capture& live,
                   const response_capture& shadow, const response_capture* secondary = nullptr) {
  report::record r;
  comparer(policy).compare(live, shadow, secondary, r);
  return r;
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

TEST(ContentTypeTest, PicksJsonTextOrBytes) {
  EXPECT_EQ(classify_content_type("application/json"), body_kind::json);
  EXPECT_EQ(classify_content_type("Application/JSON; charset=utf-8"), body_kind::json);
  EXPECT_EQ(classify_content_type("application/problem+json"), body_kind::json);
  EXPECT_EQ(classify_content_type("text/html; charset=utf-8"), body_kind::text);
  EXPECT_EQ(classify_content_type("application/xml"), body_kind::text);
  EXPECT_EQ(classify_content_type("image/png"), body_kind::bytes);
  EXPECT_EQ(classify_content_type(""), body_kind::bytes);
}

TEST(ResponseCaptureTest, KeepsAPrefixAndHashesTheWholeBody) {
  const std::string body(1000, 'x');
  auto c = capture(200, "text/plain", body, 100);
  EXPECT_EQ(c.kept, std::string(100, 'x'));
  EXPECT_EQ(c.body_bytes, 1000u);
  EXPECT_FALSE(c.body_complete());
  EXPECT_EQ(c.body_sha256(), sha256::of(body));
  // The SHA-256 of "abc" (FIPS 180-2 test vector).
  EXPECT_EQ(sha256::of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ResponseCaptureTest, HashesTheWholeBodyWhereverItOutgrowsWhatIsKept) {
  const std::string body = "0123456789abcdefghij"; // 20 bytes
  // Kept limits below, at and above the size, in pieces that cross the limit anywhere.
  for (std::uint64_t max : {0, 1, 7, 10, 19, 20, 21, 1000}) {
    for (std::size_t split : {0, 1, 7, 10, 19, 20}) {
      response_capture c(max);
      c.body(body.substr(0, split));
      c.body(body.substr(split));
      c.finish();
      EXPECT_EQ(c.body_sha256(), sha256::of(body)) << "max " << max << " split " << split;
      EXPECT_EQ(c.kept, body.substr(0, max));
    }
  }
  response_capture empty(100);
  empty.finish();
  EXPECT_EQ(empty.body_sha256(), sha256::of(""));
  response_capture streaming(4);
  streaming.body(body);
  EXPECT_TRUE(streaming.body_sha256().empty()); // outgrew `kept`, not finished yet
}

TEST(ResponseCaptureTest, WithoutBodyComparisonKeepsAndHashesNothing) {
  response_capture c(1 << 20, false);
  c.body("some bytes");
  c.finish();
  EXPECT_TRUE(c.kept.empty());
  EXPECT_EQ(c.body_bytes, 10u);
  EXPECT_TRUE(c.body_sha256().empty());
}

TEST(ComparerTest, UnencodedBodiesPastTheLimitAreComparedByHash) {
  config::compare_policy policy;
  policy.body.max_bytes = 8;
  const std::string live_body = R"({"a":"0123456789"})";
  const std::string shadow_body = R"({"a":"0123456789","b":1})";
  // Captured with a larger limit than the comparison allows: decoding says too large.
  const auto r = run(policy, capture(200, "application/json", live_body, 1024),
                     capture(200, "application/json", shadow_body, 1024));
  EXPECT_EQ(describe(r), "body_bytes");
  EXPECT_EQ(r.differences.at(0).live, boost::json::value(sha256::of(live_body)));
  EXPECT_EQ(r.differences.at(0).shadow, boost::json::value(sha256::of(shadow_body)));
}

TEST(ComparerTest, AJsonBodyWithMoreDifferencesThanListedGetsCoarserOnes) {
  // reports.md: the body operations rebuild the shadow body. Past max_differences (100) they
  // are coarser (here the whole array replaced) and the record says so.
  const config::compare_policy policy;
  std::string live = "[";
  std::string shadow = "[";
  for (int i = 0; i < 150; ++i) {
    live += (i ? "," : "") + std::to_string(i);
    shadow += (i ? "," : "") + std::to_string(-i - 1);
  }
  live += "]";
  shadow += "]";
  const auto many =
      run(policy, capture(200, "application/json", live), capture(200, "application/json", shadow));
  ASSERT_EQ(many.differences.size(), 1u);
  EXPECT_EQ(many.differences[0].path, "");
  EXPECT_EQ(many.differences[0].op, diff::body_op::replace);
  EXPECT_EQ(many.differences[0].shadow, boost::json::parse(shadow));
  EXPECT_TRUE(many.differences_coarsened);
  const auto few = run(policy, capture(200, "application/json", R"([1,2])"),
                       capture(200, "application/json", R"([1,3])"));
  EXPECT_EQ(few.differences.size(), 1u);
  EXPECT_FALSE(few.differences_coarsened);
}

TEST(ComparerTest, EqualResponsesMatch) {
  const config::compare_policy policy;
  const auto r = run(policy, capture(200, "application/json", R"({"a":1})"),
                     capture(200, "application/json", R"({"a":1})"));
  EXPECT_EQ(r.outcome, report::outcome::match);
  EXPECT_TRUE(r.differences.empty());
}

TEST(ComparerTest, StatusHeadersAndJsonBodyDifferences) {
  const config::compare_policy policy;
  auto live = capture(200, "application/json", R"({"a":1,"b":"x"})");
  auto shadow = capture(500, "text/html", R"({"a":2,"b":"x"})");
  const auto r = run(policy, live, shadow);
  EXPECT_EQ(r.outcome, report::outcome::differ);
  // The live Content-Type picks JSON; both bodies parse, so the diff is structural.
  EXPECT_EQ(describe(r), "status; header content-type; body replace /a");
}

TEST(ComparerTest, StatusComparisonCanBeTurnedOff) {
  config::compare_policy policy;
  policy.status = false;
  const auto r =
      run(policy, capture(200, "application/json", "{}"), capture(404, "application/json", "{}"));
  EXPECT_EQ(r.outcome, report::outcome::match);
}

TEST(ComparerTest, InvalidJsonFallsBackToTextLines) {
  const config::compare_policy policy;
  const auto r = run(policy, capture(200, "application/json", "{\"a\":1}"),
                     capture(200, "application/json", "<html>\nerror\n</html>"));
  EXPECT_EQ(r.outcome, report::outcome::differ);
  EXPECT_EQ(r.differences.front().kind, diff::difference_kind::body_text);
}

TEST(ComparerTest, TextBodiesAreComparedLineByLine) {
  const config::compare_policy policy;
  const auto r = run(policy, capture(200, "text/plain", "one\ntwo\nthree\n"),
                     capture(200, "text/plain", "one\nTWO\nthree\n"));
  EXPECT_EQ(describe(r), "body_text 2");
}

TEST(ComparerTest, OtherBodiesAreComparedBySha256) {
  const config::compare_policy policy;
  const auto r =
      run(policy, capture(200, "image/png", "\x89PNG-a"), capture(200, "image/png", "\x89PNG-b"));
  ASSERT_EQ(describe(r), "body_bytes");
  EXPECT_EQ(r.differences[0].live->as_string(), sha256::of("\x89PNG-a"));
}

TEST(ComparerTest, BodiesBeyondMaxBytesAreComparedBySizeAndHash) {
  config::compare_policy policy;
  policy.body.max_bytes = 8;
  const std::string same(64, 'q');
  EXPECT_EQ(
      run(policy, capture(200, "text/plain", same, 8), capture(200, "text/plain", same, 8)).outcome,
      report::outcome::match);
  const auto r =
      run(policy, capture(200, "text/plain", same, 8), capture(200, "text/plain", same + "!", 8));
  EXPECT_EQ(describe(r), "body_bytes");
}

TEST(ComparerTest, EncodedBodiesAreDecodedFirst) {
  config::compare_policy policy;
  policy.headers.include = {"content-type"};
  const std::string doc = R"({"x":[1,2]})";
  const auto r = run(policy, capture(200, "application/json", gzip(doc), 1 << 20, "gzip"),
                     capture(200, "application/json", doc));
  EXPECT_EQ(r.outcome, report::outcome::match);
  // A corrupt encoding is compared by hash instead (and differs here).
  const auto bad = run(policy, capture(200, "application/json", "not gzip", 1 << 20, "gzip"),
                       capture(200, "application/json", doc));
  EXPECT_EQ(describe(bad), "body_bytes");
}

TEST(ComparerTest, IgnoredPathsCountAsSuppressed) {
  config::compare_policy policy;
  policy.body.ignore = {"/meta/**"};
  const auto r = run(policy, capture(200, "application/json", R"({"meta":{"t":1,"u":2},"v":1})"),
                     capture(200, "application/json", R"({"meta":{"t":3,"u":4},"v":1})"));
  EXPECT_EQ(r.outcome, report::outcome::match);
  EXPECT_EQ(r.noise_suppressed, 2u);
  // Headers of the ignore list that differ count too (reports.md: "an ignore rule matched").
  const auto with_date = [](std::string_view date) {
    response_capture c(1 << 20);
    proxy::http::response_head head;
    head.status = 200;
    head.headers.add("Date", date);
    c.head(head);
    c.finish();
    return c;
  };
  const auto dated = run(config::compare_policy{}, with_date("Mon"), with_date("Tue"));
  EXPECT_EQ(dated.outcome, report::outcome::match);
  EXPECT_EQ(dated.noise_suppressed, 1u);
}

TEST(ComparerTest, SecondaryDifferencesAreNoise) {
  const config::compare_policy policy;
  const auto live = capture(200, "application/json", R"({"ts":1,"name":"a"})");
  const auto secondary = capture(200, "application/json", R"({"ts":2,"name":"a"})");
  const auto shadow = capture(200, "application/json", R"({"ts":3,"name":"b"})");
  const auto r = run(policy, live, shadow, &secondary);
  EXPECT_EQ(describe(r), "body replace /name");
  EXPECT_EQ(r.noise_suppressed, 1u);
  // The noise itself is kept apart, for the summary.
  ASSERT_EQ(r.noise.size(), 1u);
  EXPECT_EQ(r.noise[0].path, "/ts");
  // A failed secondary gives no noise information: everything is reported.
  auto failed = capture(200, "application/json", R"({"ts":2,"name":"a"})");
  failed.error = "timeout";
  EXPECT_EQ(describe(run(policy, live, shadow, &failed)), "body replace /ts; body replace /name");
}

TEST(ComparerTest, ShadowErrorHasNoDifferences) {
  const config::compare_policy policy;
  response_capture shadow;
  shadow.error = "reset";
  const auto r = run(policy, capture(200, "application/json", "{}"), shadow);
  EXPECT_EQ(r.outcome, report::outcome::shadow_error);
  EXPECT_TRUE(r.differences.empty());
}

} // namespace
} // namespace parallax::mirror
