#include "mirror/diff/header_diff.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>

namespace parallax::mirror::diff {
namespace {

using proxy::http::header_list;

header_list headers(std::initializer_list<std::pair<const char*, const char*>> fields) {
  header_list out;
  for (const auto& [name, value] : fields)
    out.add(name, value);
  return out;
}

/// One entry per difference: `name: live -> shadow`, `-` for an absent value.
std::string describe(const std::vector<difference>& diffs) {
  std::string out;
  for (const auto& d : diffs) {
    EXPECT_EQ(d.kind, difference_kind::header);
    if (!out.empty()) out += "; ";
    out += d.name + ": " + (d.live ? boost::json::serialize(*d.live) : "-") + " -> " +
           (d.shadow ? boost::json::serialize(*d.shadow) : "-");
  }
  return out;
}

std::string diff(const header_list& live, const header_list& shadow,
                 const config::header_compare& policy = {}) {
  return describe(diff_headers(live, shadow, policy));
}

TEST(HeaderDiffTest, EqualHeadersHaveNoDifferences) {
  EXPECT_EQ(diff(headers({{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}),
                 headers({{"cache-control", "no-store"}, {"content-type", "application/json"}})),
            "");
}

TEST(HeaderDiffTest, ReportsChangedValueWithLowerCaseName) {
  const auto diffs = diff_headers(headers({{"Content-Type", "application/json"}}),
                                  headers({{"CONTENT-TYPE", "text/html"}}), {});
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].kind, difference_kind::header);
  EXPECT_EQ(diffs[0].name, "content-type");
  EXPECT_EQ(diffs[0].live, boost::json::value("application/json"));
  EXPECT_EQ(diffs[0].shadow, boost::json::value("text/html"));
}

TEST(HeaderDiffTest, ValuesCompareExactly) {
  EXPECT_EQ(diff(headers({{"Content-Type", "application/json"}}),
                 headers({{"Content-Type", "Application/JSON"}})),
            R"(content-type: "application/json" -> "Application/JSON")");
}

TEST(HeaderDiffTest, ReportsMissingHeaderAsAbsent) {
  EXPECT_EQ(diff(headers({{"X-Live", "1"}, {"X-Both", "b"}}),
                 headers({{"X-Both", "b"}, {"X-Shadow", "2"}})),
            R"(x-live: "1" -> -; x-shadow: - -> "2")");
}

TEST(HeaderDiffTest, JoinsRepeatedHeadersWithCommaSpace) {
  EXPECT_EQ(diff(headers({{"Vary", "Accept"}, {"vary", "Origin"}}),
                 headers({{"Vary", "Accept, Origin"}})),
            "");
  EXPECT_EQ(diff(headers({{"Vary", "Accept"}, {"Vary", "Origin"}}),
                 headers({{"Vary", "Origin"}, {"Vary", "Accept"}})),
            R"(vary: "Accept, Origin" -> "Origin, Accept")");
}

TEST(HeaderDiffTest, LongHeaderListsAreComparedLikeShortOnes) {
  // Past the linear search: names looked up through a map, case-insensitively, repeats joined.
  proxy::http::header_list live;
  proxy::http::header_list shadow;
  for (int i = 0; i < 3000; ++i) {
    live.add("X-H" + std::to_string(i), std::to_string(i));
    shadow.add("x-h" + std::to_string(i), std::to_string(i == 7 ? -7 : i));
  }
  live.add("x-h5", "again");
  shadow.add("X-Only-Shadow", "s");
  const auto diffs = diff_headers(live, shadow, {});
  ASSERT_EQ(diffs.size(), 3u);
  EXPECT_EQ(diffs[0].name, "x-h5");
  EXPECT_EQ(diffs[0].live, boost::json::value("5, again"));
  EXPECT_EQ(diffs[0].shadow, boost::json::value("5"));
  EXPECT_EQ(diffs[1].name, "x-h7");
  EXPECT_EQ(diffs[2].name, "x-only-shadow");
  EXPECT_FALSE(diffs[2].live);
}

TEST(HeaderDiffTest, DefaultPolicyIgnoresVolatileHeaders) {
  EXPECT_EQ(diff(headers({{"Date", "Mon"},
                          {"Server", "a"},
                          {"X-Request-Id", "1"},
                          {"Content-Length", "10"},
                          {"ETag", "\"x\""},
                          {"Set-Cookie", "a=1"}}),
                 headers({{"Date", "Tue"},
                          {"Server", "b"},
                          {"X-Request-Id", "2"},
                          {"Transfer-Encoding", "chunked"},
                          {"ETag", "\"y\""}})),
            "");
}

TEST(HeaderDiffTest, IgnoredHeadersThatDifferAreCounted) {
  // reports.md: noise_suppressed counts differences an ignore rule dropped. Each name once
  // (repeated values joined), also when one side lacks it; equal values are no difference.
  const config::header_compare policy; // the default ignore list
  std::size_t ignored = 0;
  const auto found = diff_headers(headers({{"Date", "Mon"},
                                           {"Set-Cookie", "a=1"},
                                           {"Set-Cookie", "b=2"},
                                           {"Server", "same"},
                                           {"ETag", "\"x\""},
                                           {"X-Kept", "1"}}),
                                  headers({{"date", "Tue"},
                                           {"Set-Cookie", "a=1"},
                                           {"Server", "same"},
                                           {"Age", "3"},
                                           {"X-Kept", "2"}}),
                                  policy, &ignored);
  EXPECT_EQ(describe(found), R"(x-kept: "1" -> "2")");
  EXPECT_EQ(ignored, 4u); // date, set-cookie, etag, age
  // With an include list, the other headers are left out, not ignored.
  config::header_compare include;
  include.ignore.clear();
  include.include = {"x-kept"};
  include.include_given = true;
  ignored = 0;
  EXPECT_EQ(diff_headers(headers({{"Date", "Mon"}}), headers({{"Date", "Tue"}}), include, &ignored)
                .size(),
            0u);
  EXPECT_EQ(ignored, 0u);
}

TEST(HeaderDiffTest, IgnoreListIsCaseInsensitive) {
  config::header_compare policy;
  policy.ignore = {"X-Trace"};
  EXPECT_EQ(diff(headers({{"x-trace", "1"}, {"Date", "Mon"}}),
                 headers({{"X-TRACE", "2"}, {"Date", "Tue"}}), policy),
            R"(date: "Mon" -> "Tue")");
}

TEST(HeaderDiffTest, IncludeListComparesOnlyListedHeaders) {
  config::header_compare policy;
  policy.ignore.clear();
  policy.include = {"content-type", "cache-control"};
  policy.include_given = true;
  EXPECT_EQ(diff(headers({{"Content-Type", "a"}, {"X-Other", "1"}, {"Date", "Mon"}}),
                 headers({{"Content-Type", "b"}, {"Cache-Control", "no-store"}}), policy),
            R"(content-type: "a" -> "b"; cache-control: - -> "no-store")");
  EXPECT_TRUE(header_compared("Cache-Control", policy));
  EXPECT_FALSE(header_compared("x-other", policy));
}

TEST(HeaderDiffTest, GivenEmptyIncludeListComparesNothing) {
  config::header_compare policy;
  policy.ignore.clear();
  policy.include_given = true;
  EXPECT_EQ(diff(headers({{"Content-Type", "a"}}), headers({{"Content-Type", "b"}}), policy), "");
}

TEST(HeaderDiffTest, DefaultPolicyComparesUnlistedHeaders) {
  const config::header_compare policy;
  EXPECT_TRUE(header_compared("content-type", policy));
  EXPECT_FALSE(header_compared("DATE", policy));
  EXPECT_FALSE(header_compared("keep-alive", policy));
}

TEST(HeaderDiffTest, ReportsLiveOrderThenShadowOnlyNames) {
  EXPECT_EQ(diff(headers({{"B", "1"}, {"A", "1"}}), headers({{"D", "1"}, {"A", "2"}, {"C", "1"}})),
            R"(b: "1" -> -; a: "1" -> "2"; d: - -> "1"; c: - -> "1")");
}

TEST(HeaderDiffTest, EmptyValueDiffersFromAbsent) {
  EXPECT_EQ(diff(headers({{"X-Empty", ""}}), headers({})), R"(x-empty: "" -> -)");
}

} // namespace
} // namespace parallax::mirror::diff
