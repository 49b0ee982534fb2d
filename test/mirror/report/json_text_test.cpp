// The one JSON text writer of mirror/: Boost.JSON's escaping, shortest round-trip doubles, and
// the streaming writer records are written with.

#include "mirror/report/json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;

TEST(JsonTextTest, NumbersAreWrittenInTheirShortestForm) {
  const auto v = json::parse(R"({"a":1.84,"b":0.0962,"c":2.0,"d":-3,"e":18446744073709551615,
                                  "f":1e300,"g":"x\"y","h":[true,null]})");
  const auto text = serialize_json(v);
  EXPECT_EQ(text, R"({"a":1.84,"b":0.0962,"c":2.0,"d":-3,"e":18446744073709551615,)"
                  R"("f":1e+300,"g":"x\"y","h":[true,null]})");
  EXPECT_EQ(json::parse(text), v);
  EXPECT_EQ(serialize_json(json::value(std::nan(""))), "null");
}

TEST(JsonTextTest, StringsAreEscapedByteForByteAsBoostJsonDoes) {
  for (int b = 0; b < 256; ++b) {
    const std::string text = "a" + std::string(1, static_cast<char>(b)) + "z";
    std::string out = "prefix:";
    append_json_string(out, text);
    EXPECT_EQ(out, "prefix:" + json::serialize(json::value(text))) << "byte " << b;
  }
}

TEST(JsonTextTest, SerializeWritesWhatBoostJsonWritesExceptForDoubles) {
  const auto doc = json::parse(R"({"i":-9223372036854775808,"u":18446744073709551615,"z":0,)"
                               R"("t":true,"f":false,"n":null,"s":"a\"b\\c\n\u0001\u00e9",)"
                               R"("a":[[],{},[1,{"k\tey":"v"}]],"e":""})");
  EXPECT_EQ(serialize_json(doc), json::serialize(doc));
  // Doubles in their shortest round-trip form, not Boost's exponent form.
  EXPECT_EQ(serialize_json(json::parse(R"([1.84,2.0,-0.5])")), "[1.84,2.0,-0.5]");
}

TEST(JsonTextTest, WriterPutsCommasBetweenMembersAndElementsOnly) {
  std::string out = "> ";
  json_text w(out);
  w.begin_object();
  w.key("a").number(1);
  w.key("b").begin_array();
  w.string("x");
  w.null();
  w.begin_object();
  w.end_object();
  w.begin_array();
  w.end_array();
  w.value(json::value(1.5));
  w.end_array();
  w.key("c").value(json::parse(R"({"k":[true,2.0]})"));
  w.end_object();
  EXPECT_EQ(out, R"(> {"a":1,"b":["x",null,{},[],1.5],"c":{"k":[true,2.0]}})");
  EXPECT_EQ(json::parse(out.substr(2)).at("b").as_array().size(), 5u);
}

TEST(JsonTextTest, LowerCaseKeysAndStringsAreEscapedThenFolded) {
  std::string out;
  json_text w(out);
  w.begin_object();
  w.lower_key(R"(X-Tr\ace\N)").lower_string(R"(Content-\Type\u)");
  w.end_object();
  // Folding after escaping keeps escapes valid: `\\N` became `\\n` (two characters), not `\n`.
  EXPECT_EQ(out, R"({"x-tr\\ace\\n":"content-\\type\\u"})");
  EXPECT_EQ(json::parse(out).as_object().begin()->key(), R"(x-tr\ace\n)");
}

TEST(JsonTextTest, DoublesReadBackExactlyAndNonFiniteOnesAreNull) {
  for (const double v : {0.1, 2.0, -0.0, 1e-7, 123456789.125, 1e21,
                         std::numeric_limits<double>::max(), std::numeric_limits<double>::min()}) {
    const auto out = serialize_json(json::value(v));
    const auto back = json::parse(out);
    ASSERT_TRUE(back.is_double()) << out;
    EXPECT_EQ(back.get_double(), v) << out;
  }
  EXPECT_EQ(serialize_json(json::value(std::numeric_limits<double>::infinity())), "null");
}

TEST(JsonTextTest, RoundToDropsNoiseDigitsAndNonFiniteValues) {
  EXPECT_EQ(round_to(1.23456, 1000), 1.235);
  EXPECT_EQ(round_to(0.09624, 10000), 0.0962);
  EXPECT_EQ(round_to(std::nan(""), 1000), 0.0);
  EXPECT_EQ(round_to(std::numeric_limits<double>::infinity(), 1000), 0.0);
}

} // namespace
} // namespace parallax::mirror::report
