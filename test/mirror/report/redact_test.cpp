#include "mirror/report/redact.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace parallax::mirror::report {
namespace {

const std::vector<std::string> query_names{"token", "access_token", "api_key"};
const std::vector<std::string> header_names{"authorization", "cookie", "set-cookie",
                                            "proxy-authorization"};
const std::vector<std::string> json_names{"password", "token", "secret", "access_token",
                                          "refresh_token"};

TEST(RedactQueryTest, ListedParameterValuesAreRedacted) {
  EXPECT_EQ(redact_query("/api/users/42?token=abc&lang=en", query_names),
            "/api/users/42?token=[redacted]&lang=en");
  EXPECT_EQ(redact_query("/p?a=1&api_key=k&access_token=t&b=2", query_names),
            "/p?a=1&api_key=[redacted]&access_token=[redacted]&b=2");
}

TEST(RedactQueryTest, NamesAreCaseInsensitive) {
  EXPECT_EQ(redact_query("/p?TOKEN=abc&Api_Key=k", query_names),
            "/p?TOKEN=[redacted]&Api_Key=[redacted]");
}

TEST(RedactQueryTest, PercentEncodedNamesAreCaught) {
  EXPECT_EQ(redact_query("/p?api%5Fkey=k&%74oken=t", query_names),
            "/p?api%5Fkey=[redacted]&%74oken=[redacted]");
}

TEST(RedactQueryTest, EveryOccurrenceIsRedacted) {
  EXPECT_EQ(redact_query("/p?token=1&token=2", query_names),
            "/p?token=[redacted]&token=[redacted]");
}

TEST(RedactQueryTest, SimilarNamesAndValuesAreKept) {
  EXPECT_EQ(redact_query("/p?tokens=1&my_token=2&x=token", query_names),
            "/p?tokens=1&my_token=2&x=token");
}

TEST(RedactQueryTest, EmptyValuesAndBareNames) {
  EXPECT_EQ(redact_query("/p?token=&token", query_names), "/p?token=[redacted]&token");
  EXPECT_EQ(redact_query("/p?&&token=a&", query_names), "/p?&&token=[redacted]&");
  EXPECT_EQ(redact_query("/p?", query_names), "/p?");
}

TEST(RedactQueryTest, ValueWithEqualsSignIsRedactedWhole) {
  EXPECT_EQ(redact_query("/p?token=a=b==&x=1", query_names), "/p?token=[redacted]&x=1");
}

TEST(RedactQueryTest, TargetWithoutQueryIsUnchanged) {
  EXPECT_EQ(redact_query("/token=abc", query_names), "/token=abc");
  EXPECT_EQ(redact_query("/p?token=abc", {}), "/p?token=abc");
}

TEST(RedactQueryTest, FragmentIsRedactedLikeAQuery) {
  EXPECT_EQ(redact_query("/cb?x=1#access_token=t&state=s", query_names),
            "/cb?x=1#access_token=[redacted]&state=s");
  EXPECT_EQ(redact_query("/cb#token=t", query_names), "/cb#token=[redacted]");
}

TEST(RedactQueryTest, AbsoluteFormTarget) {
  EXPECT_EQ(redact_query("http://h.example/p?token=abc", query_names),
            "http://h.example/p?token=[redacted]");
}

TEST(RedactHeaderTest, ListedHeadersAreRedactedCaseInsensitively) {
  config::redaction r;
  r.headers = header_names;
  EXPECT_EQ(redact_header("Authorization", "Bearer x", r), "[redacted]");
  EXPECT_EQ(redact_header("COOKIE", "a=1", r), "[redacted]");
  EXPECT_EQ(redact_header("content-type", "text/html", r), "text/html");
  EXPECT_EQ(redact_header("authorization-hint", "x", r), "x");
}

TEST(RedactHeaderTest, QueryParametersInOtherHeadersAreRedacted) {
  // reports.md: every query parameter written anywhere, also inside a header's URL.
  config::redaction r;
  r.headers = header_names;
  r.query_params = query_names;
  EXPECT_EQ(redact_header("Referer", "https://shop.example/cb?token=abc&lang=en", r),
            "https://shop.example/cb?token=[redacted]&lang=en");
  EXPECT_EQ(redact_header("Location", "/login#access_token=t&state=s", r),
            "/login#access_token=[redacted]&state=s");
  EXPECT_EQ(redact_header("X-Note", "why?", r), "why?");
  EXPECT_EQ(redact_header("Accept", "text/html", r), "text/html");
}

TEST(RedactHeaderTest, IsRedactedName) {
  EXPECT_TRUE(is_redacted_name("Proxy-Authorization", header_names));
  EXPECT_FALSE(is_redacted_name("", header_names));
  EXPECT_FALSE(is_redacted_name("cookie", {}));
}

std::string redacted_json(std::string_view text) {
  boost::json::value v = boost::json::parse(text);
  redact_json(v, json_names);
  return boost::json::serialize(v);
}

TEST(RedactJsonTest, TopLevelFieldsAreRedacted) {
  EXPECT_EQ(redacted_json(R"({"user":"ann","password":"hunter2"})"),
            R"({"user":"ann","password":"[redacted]"})");
}

TEST(RedactJsonTest, FieldsAtAnyDepthAreRedacted) {
  EXPECT_EQ(
      redacted_json(R"({"a":{"b":[{"token":"t1"},{"c":{"secret":"s"}}]},"list":[[{"token":2}]]})"),
      R"({"a":{"b":[{"token":"[redacted]"},{"c":{"secret":"[redacted]"}}]},)"
      R"("list":[[{"token":"[redacted]"}]]})");
}

TEST(RedactJsonTest, KeysAreCaseInsensitive) {
  EXPECT_EQ(
      redacted_json(R"({"Password":"x","ACCESS_TOKEN":"y","Refresh_Token":"z"})"),
      R"({"Password":"[redacted]","ACCESS_TOKEN":"[redacted]","Refresh_Token":"[redacted]"})");
}

TEST(RedactJsonTest, StructuredAndNonStringValuesAreReplacedWhole) {
  EXPECT_EQ(redacted_json(R"({"secret":{"k":"v","n":[1,2]},"token":123,"password":null})"),
            R"({"secret":"[redacted]","token":"[redacted]","password":"[redacted]"})");
}

TEST(RedactJsonTest, ValuesEqualToNamesAndSimilarKeysAreKept) {
  EXPECT_EQ(redacted_json(R"({"kind":"password","tokens":["token"],"my_secret":1})"),
            R"({"kind":"password","tokens":["token"],"my_secret":1})");
}

TEST(RedactJsonTest, ScalarsAndArraysWithoutObjectsAreUnchanged) {
  EXPECT_EQ(redacted_json(R"("password")"), R"("password")");
  EXPECT_EQ(redacted_json(R"([1,"token",null])"), R"([1,"token",null])");
}

TEST(RedactJsonTest, DeepNestingDoesNotRecurse) {
  // Built directly (the parser limits depth); redaction is iterative.
  boost::json::value root = boost::json::object{{"token", "x"}};
  for (int i = 0; i < 100000; ++i) {
    boost::json::object o;
    o["child"] = std::move(root);
    root = std::move(o);
  }
  redact_json(root, json_names);
  const boost::json::value* v = &root;
  while (v->as_object().contains("child"))
    v = &v->as_object().at("child");
  EXPECT_EQ(v->as_object().at("token"), "[redacted]");
  // Tear down iteratively as well: the recursive destructor could overflow the stack.
  while (root.as_object().contains("child")) {
    boost::json::value child = std::move(root.as_object()["child"]);
    root = std::move(child);
  }
}

TEST(RedactJsonTest, EmptyNameListChangesNothing) {
  boost::json::value v = boost::json::parse(R"({"password":"x"})");
  redact_json(v, {});
  EXPECT_EQ(boost::json::serialize(v), R"({"password":"x"})");
}

TEST(RedactPointerTest, PointersIntoRedactedFieldsAreDetected) {
  EXPECT_TRUE(is_redacted_pointer("/user/password", json_names));
  EXPECT_TRUE(is_redacted_pointer("/secret/inner/0", json_names));
  EXPECT_TRUE(is_redacted_pointer("/items/3/Token", json_names));
  EXPECT_FALSE(is_redacted_pointer("/user/name", json_names));
  EXPECT_FALSE(is_redacted_pointer("", json_names));
  EXPECT_FALSE(is_redacted_pointer("/passwords", json_names));
}

TEST(RedactPointerTest, EscapedTokensAreUnescaped) {
  const std::vector<std::string> names{"a/b", "c~d"};
  EXPECT_TRUE(is_redacted_pointer("/x/a~1b", names));
  EXPECT_TRUE(is_redacted_pointer("/c~0d", names));
  EXPECT_FALSE(is_redacted_pointer("/a/b", names));
}

} // namespace
} // namespace parallax::mirror::report
