// Query strings of request targets: split into raw parameters, nothing decoded.

#include "proxy/http/query.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parallax::proxy::http {
namespace {

// Every parameter of `query` as "name=value" or "name" (no '='), '|' between them.
std::string walk(std::string_view query) {
  std::string out;
  bool first = true;
  for_each_param(query, [&](const query_param& p) {
    if (!first) out += '|';
    first = false;
    out.append(p.name);
    if (p.value) out.append("=").append(*p.value);
    EXPECT_EQ(p.text.data(), p.name.data());
    return true;
  });
  return out;
}

TEST(QueryTest, QueryOfATargetEndsAtTheFragment) {
  EXPECT_EQ(query_of("/p?a=1&b=2"), "a=1&b=2");
  EXPECT_EQ(query_of("/p?a=1#frag?x=2"), "a=1");
  EXPECT_EQ(query_of("/p?"), "");
  EXPECT_EQ(query_of("/p"), std::nullopt);
  EXPECT_EQ(query_of("/p#frag?x=1"), std::nullopt); // the '?' is in the fragment
  EXPECT_EQ(query_of("http://h/p?q=1"), "q=1");
}

TEST(QueryTest, SplitsAParamAtItsFirstEqualsSign) {
  const auto p = split_param("a=b=c");
  EXPECT_EQ(p.text, "a=b=c");
  EXPECT_EQ(p.name, "a");
  EXPECT_EQ(p.value, "b=c");
  EXPECT_EQ(split_param("flag").value, std::nullopt);
  EXPECT_EQ(split_param("empty=").value, "");
  EXPECT_EQ(split_param("=v").name, "");
}

TEST(QueryTest, WalksEveryParamInOrderEmptyOnesIncluded) {
  EXPECT_EQ(walk("a=1&b&c="), "a=1|b|c=");
  EXPECT_EQ(walk("a%5Fb=x+y"), "a%5Fb=x+y"); // raw: not decoded
  EXPECT_EQ(walk("a=1&&b=2&"), "a=1||b=2|");
  EXPECT_EQ(walk(""), "");
}

TEST(QueryTest, StopsWhenTheVisitorSaysSo) {
  std::vector<std::string_view> seen;
  for_each_param("a=1&b=2&c=3", [&](const query_param& p) {
    seen.push_back(p.name);
    return p.name != "b";
  });
  EXPECT_EQ(seen, (std::vector<std::string_view>{"a", "b"}));
}

} // namespace
} // namespace parallax::proxy::http
