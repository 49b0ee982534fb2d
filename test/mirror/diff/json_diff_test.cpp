#include "mirror/diff/json_diff.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace parallax::mirror::diff {
namespace {

namespace json = boost::json;

json::value parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << text << ": " << ec.message();
  return v;
}

/// One line per difference: `op path live -> shadow`, `-` for an absent value.
std::string describe(const std::vector<difference>& diffs) {
  std::string out;
  for (const auto& d : diffs) {
    if (!out.empty()) out += "; ";
    out += std::string(to_string(d.op)) + " " + (d.path.empty() ? "\"\"" : d.path) + " " +
           (d.live ? json::serialize(*d.live) : "-") + " -> " +
           (d.shadow ? json::serialize(*d.shadow) : "-");
  }
  return out;
}

json_diff_options with_patterns(std::vector<std::string> ignore,
                                std::vector<std::string> unordered = {}) {
  config::body_compare body;
  body.ignore = std::move(ignore);
  body.unordered_arrays = std::move(unordered);
  auto opts = make_json_diff_options(body);
  EXPECT_TRUE(opts.has_value());
  return opts ? std::move(*opts) : json_diff_options();
}

std::string diff(std::string_view live, std::string_view shadow,
                 const json_diff_options& opts = {}) {
  return describe(diff_json(parse(live), parse(shadow), opts).differences);
}

/// Applies the diff of live -> shadow to live and serialises the result.
json::value patched(std::string_view live, std::string_view shadow,
                    const json_diff_options& opts = {}) {
  json::value doc = parse(live);
  const auto result = diff_json(doc, parse(shadow), opts);
  EXPECT_TRUE(apply_patch(doc, result.differences));
  return doc;
}

TEST(JsonDiffTest, ReportsNothingForEqualDocuments) {
  const auto result = diff_json(parse(R"({"a":[1,{"b":null}],"c":"x","d":true})"),
                                parse(R"({"d":true,"c":"x","a":[1,{"b":null}]})"), {});
  EXPECT_TRUE(result.differences.empty());
  EXPECT_EQ(result.suppressed, 0u);
  EXPECT_FALSE(result.truncated);
}

TEST(JsonDiffTest, ReportsReplacedFieldAsPointer) {
  const auto result = diff_json(parse(R"({"user":{"name":"Ann","id":1}})"),
                                parse(R"({"user":{"name":"ann","id":1}})"), {});
  ASSERT_EQ(result.differences.size(), 1u);
  const difference& d = result.differences[0];
  EXPECT_EQ(d.kind, difference_kind::body);
  EXPECT_EQ(d.op, body_op::replace);
  EXPECT_EQ(d.path, "/user/name");
  EXPECT_EQ(d.live, json::value("Ann"));
  EXPECT_EQ(d.shadow, json::value("ann"));
}

TEST(JsonDiffTest, ReportsRemovedAndAddedMembers) {
  EXPECT_EQ(
      diff(R"({"user":{"email":"a@example.com","x":1}})", R"({"user":{"x":1,"nick":"annie"}})"),
      R"(remove /user/email "a@example.com" -> -; add /user/nick - -> "annie")");
}

TEST(JsonDiffTest, ReportsTypeChangeWithBothValues) {
  EXPECT_EQ(diff(R"({"price":10})", R"({"price":"10"})"), R"(type /price 10 -> "10")");
  EXPECT_EQ(diff(R"({"a":{"x":1}})", R"({"a":[1]})"), R"(type /a {"x":1} -> [1])");
  EXPECT_EQ(diff(R"({"a":null})", R"({"a":false})"), "type /a null -> false");
  EXPECT_EQ(diff(R"([true])", R"([1])"), "type /0 true -> 1");
}

TEST(JsonDiffTest, ReportsScalarReplacements) {
  EXPECT_EQ(diff(R"([true,1,"s"])", R"([false,2.5,"t"])"),
            R"(replace /0 true -> false; replace /1 1 -> 2.5E0; replace /2 "s" -> "t")");
}

TEST(JsonDiffTest, ReportsRootDifferencesAtEmptyPointer) {
  EXPECT_EQ(diff("1", "2"), "replace \"\" 1 -> 2");
  EXPECT_EQ(diff("{}", "[]"), "type \"\" {} -> []");
}

TEST(JsonDiffTest, EscapesMemberNamesInPaths) {
  EXPECT_EQ(diff(R"({"a/b":1,"m~n":{"":2}})", R"({"a/b":3,"m~n":{"":4}})"),
            "replace /a~1b 1 -> 3; replace /m~0n/ 2 -> 4");
}

TEST(JsonDiffTest, ComparesArraysElementByElement) {
  EXPECT_EQ(diff(R"({"a":[1,{"b":2},3]})", R"({"a":[1,{"b":5},3]})"), "replace /a/1/b 2 -> 5");
}

TEST(JsonDiffTest, RemovesSurplusElementsFromTheHighestIndex) {
  EXPECT_EQ(diff("[1,2,3,4]", "[1,9]"), "replace /1 2 -> 9; remove /3 4 -> -; remove /2 3 -> -");
  EXPECT_EQ(patched("[1,2,3,4]", "[1,9]"), parse("[1,9]"));
}

TEST(JsonDiffTest, AppendsSurplusElementsInOrder) {
  EXPECT_EQ(diff("[1]", "[1,2,[3]]"), "add /1 - -> 2; add /2 - -> [3]");
  EXPECT_EQ(patched("[1]", "[1,2,[3]]"), parse("[1,2,[3]]"));
}

TEST(JsonDiffTest, ComparesNumbersAcrossKinds) {
  EXPECT_EQ(diff("[1, 18446744073709551615, -3]", "[1.0, 18446744073709551615, -3.0]"), "");
  json::value live = json::value(std::int64_t{7});
  json::value shadow = json::value(std::uint64_t{7});
  EXPECT_TRUE(diff_json(live, shadow, {}).differences.empty());
  // Exact by default: the neighbours of a large integer are different numbers.
  EXPECT_EQ(diff("9007199254740993", "9007199254740992"),
            "replace \"\" 9007199254740993 -> 9007199254740992");
  EXPECT_EQ(diff("1", "1.0000001"), "replace \"\" 1 -> 1.0000001E0");
}

TEST(JsonDiffTest, AppliesNumericTolerance) {
  json_diff_options opts;
  opts.numeric_tolerance = 0.01;
  EXPECT_EQ(diff(R"({"p":1.005,"q":2,"r":-5})", R"({"p":1,"q":2.01,"r":-5.009})", opts), "");
  EXPECT_EQ(diff(R"({"p":1.02})", R"({"p":1})", opts), "replace /p 1.02E0 -> 1");
  // Tolerance is for numbers only.
  EXPECT_EQ(diff(R"({"p":"1.001"})", R"({"p":"1"})", opts), R"(replace /p "1.001" -> "1")");
}

TEST(JsonDiffTest, ToleranceComparesLargeIntegers) {
  json_diff_options opts;
  opts.numeric_tolerance = 2;
  EXPECT_EQ(diff("[18446744073709551615, -9223372036854775808]",
                 "[18446744073709551613, -9223372036854775806]", opts),
            "");
  EXPECT_EQ(diff("[18446744073709551615]", "[18446744073709551612]", opts),
            "replace /0 18446744073709551615 -> 18446744073709551612");
}

TEST(JsonDiffTest, IgnoresPathsAndCountsSuppressed) {
  const auto opts = with_patterns({"/meta/time"});
  const auto result = diff_json(parse(R"({"meta":{"time":1,"v":1},"x":1})"),
                                parse(R"({"meta":{"time":2,"v":1},"x":2})"), opts);
  EXPECT_EQ(describe(result.differences), "replace /x 1 -> 2");
  EXPECT_EQ(result.suppressed, 1u);
}

TEST(JsonDiffTest, IgnoresEverythingBelowAnIgnoredPath) {
  const auto opts = with_patterns({"/meta"});
  const auto result = diff_json(parse(R"({"meta":{"a":1,"b":[1,2],"c":3}})"),
                                parse(R"({"meta":{"a":2,"b":[1],"d":4}})"), opts);
  EXPECT_TRUE(result.differences.empty());
  // a replaced, b/1 removed, c removed, d added.
  EXPECT_EQ(result.suppressed, 4u);
}

TEST(JsonDiffTest, IgnoresAddedAndRemovedMembersAtIgnoredPaths) {
  const auto opts = with_patterns({"/meta/time", "/meta/host"});
  const auto result =
      diff_json(parse(R"({"meta":{"time":1}})"), parse(R"({"meta":{"host":"a"}})"), opts);
  EXPECT_TRUE(result.differences.empty());
  EXPECT_EQ(result.suppressed, 2u);
}

TEST(JsonDiffTest, IgnoresWithWildcardPatterns) {
  const auto opts = with_patterns({"/items/*/id", "/**/trace_id"});
  const auto result =
      diff_json(parse(R"({"trace_id":"a","items":[{"id":1,"n":"x"},{"id":2,"n":"y"}],
                         "deep":{"list":[{"trace_id":"b"}]}})"),
                parse(R"({"trace_id":"c","items":[{"id":3,"n":"x"},{"id":4,"n":"z"}],
                         "deep":{"list":[{"trace_id":"d"}]}})"),
                opts);
  EXPECT_EQ(describe(result.differences), R"(replace /items/1/n "y" -> "z")");
  EXPECT_EQ(result.suppressed, 4u);
}

TEST(JsonDiffTest, IgnoringAParentDoesNotHideAnAddedAncestor) {
  // The difference is at /meta, above the ignored /meta/time: it is reported whole.
  const auto opts = with_patterns({"/meta/time"});
  EXPECT_EQ(diff("{}", R"({"meta":{"time":1}})", opts), R"(add /meta - -> {"time":1})");
}

TEST(JsonDiffTest, IgnoringTheRootSuppressesEverything) {
  const auto opts = with_patterns({"/**"});
  const auto result = diff_json(parse(R"({"a":1})"), parse(R"([1,2])"), opts);
  EXPECT_TRUE(result.differences.empty());
  EXPECT_EQ(result.suppressed, 1u);
}

TEST(JsonDiffTest, NullIsDifferentFromMissingByDefault) {
  EXPECT_EQ(diff(R"({"a":null,"b":1})", R"({"b":1,"c":null})"),
            "remove /a null -> -; add /c - -> null");
}

TEST(JsonDiffTest, NullEqualsMissingWhenEnabled) {
  json_diff_options opts;
  opts.null_equals_missing = true;
  EXPECT_EQ(diff(R"({"a":null,"b":{"x":null}})", R"({"b":{},"c":null})", opts), "");
  // Null against a present value is still a difference, and array elements are positions.
  EXPECT_EQ(diff(R"({"a":null})", R"({"a":0})", opts), "type /a null -> 0");
  EXPECT_EQ(diff("[1,null]", "[1]", opts), "remove /1 null -> -");
  EXPECT_EQ(diff(R"({"a":1})", "{}", opts), "remove /a 1 -> -");
}

TEST(JsonDiffTest, UnorderedArraysIgnoreOrder) {
  const auto opts = with_patterns({}, {"/tags", "/items/*/roles"});
  EXPECT_EQ(diff(R"({"tags":["a","b","c"],"items":[{"roles":[1,2]},{"roles":[{"x":1},3]}]})",
                 R"({"tags":["c","a","b"],"items":[{"roles":[2,1]},{"roles":[3,{"x":1}]}]})", opts),
            "");
  // Only matching paths are unordered.
  EXPECT_EQ(diff(R"({"other":[1,2]})", R"({"other":[2,1]})", opts),
            "replace /other/0 1 -> 2; replace /other/1 2 -> 1");
}

TEST(JsonDiffTest, UnorderedArraysReportUnmatchedElements) {
  const auto opts = with_patterns({}, {"/tags"});
  EXPECT_EQ(diff(R"({"tags":["a","x","b","y"]})", R"({"tags":["b","z","a"]})", opts),
            R"(remove /tags/3 "y" -> -; remove /tags/1 "x" -> -; add /tags/2 - -> "z")");
  EXPECT_EQ(patched(R"({"tags":["a","x","b","y"]})", R"({"tags":["b","z","a"]})", opts),
            parse(R"({"tags":["a","b","z"]})"));
}

TEST(JsonDiffTest, UnorderedArraysCompareAsMultisets) {
  const auto opts = with_patterns({}, {""});
  EXPECT_EQ(diff("[1,1,2]", "[1,2,2]", opts), "remove /1 1 -> -; add /2 - -> 2");
  EXPECT_EQ(diff("[1,2]", "[2,1,1]", opts), "add /2 - -> 1");
}

TEST(JsonDiffTest, UnorderedArraysPairElementsUnderOtherOptions) {
  auto opts = with_patterns({"/items/*/id"}, {"/items"});
  opts.numeric_tolerance = 0.5;
  opts.null_equals_missing = true;
  const auto result = diff_json(parse(R"({"items":[{"id":1,"n":"a","p":1.0},{"id":2,"n":"b"}]})"),
                                parse(R"({"items":[{"id":3,"n":"b","z":null},
                                                   {"id":4,"n":"a","p":1.2}]})"),
                                opts);
  EXPECT_TRUE(result.differences.empty()) << describe(result.differences);
  // Both pairs differ in their ignored ids.
  EXPECT_EQ(result.suppressed, 2u);
}

TEST(JsonDiffTest, UnorderedArrayOfDifferentTypeIsATypeChange) {
  const auto opts = with_patterns({}, {"/a"});
  EXPECT_EQ(diff(R"({"a":[1]})", R"({"a":{"0":1}})", opts), R"(type /a [1] -> {"0":1})");
}

TEST(JsonDiffTest, UnorderedBudgetExhaustedStillGivesAValidPatch) {
  auto opts = with_patterns({}, {""});
  opts.max_unordered_comparisons = 0;
  // The positional pass still pairs equal positions; the rest is removed and re-added.
  EXPECT_EQ(diff("[1,2,3]", "[3,2,1]", opts),
            "remove /2 3 -> -; remove /0 1 -> -; add /1 - -> 3; add /2 - -> 1");
  EXPECT_EQ(patched("[1,2,3]", "[3,2,1]", opts), parse("[2,3,1]"));
}

TEST(JsonDiffTest, CapsNumberOfDifferences) {
  json_diff_options opts;
  opts.max_differences = 3;
  const auto result = diff_json(parse("[1,2,3,4]"), parse("[4,5,6,4]"), opts);
  EXPECT_EQ(result.differences.size(), 3u);
  EXPECT_FALSE(result.truncated) << describe(result.differences);

  // Beyond the cap, coarser differences that still make a patch: the deepest containers that
  // fit are replaced whole.
  const auto more = diff_json(parse("[1,2,3,4,5,6]"), parse("[6,5,4,3,2,1]"), opts);
  EXPECT_EQ(describe(more.differences), "replace \"\" [1,2,3,4,5,6] -> [6,5,4,3,2,1]");
  EXPECT_TRUE(more.coarse);
  EXPECT_FALSE(more.truncated);
  const auto nested =
      diff_json(parse(R"({"a":{"x":1,"y":2},"b":{"x":1,"y":2},"c":[1,2],"d":0})"),
                parse(R"({"a":{"x":3,"y":4},"b":{"x":3,"y":2},"c":[1,2],"d":1})"), opts);
  EXPECT_EQ(describe(nested.differences),
            R"(replace /a {"x":1,"y":2} -> {"x":3,"y":4}; replace /b {"x":1,"y":2} -> )"
            R"({"x":3,"y":2}; replace /d 0 -> 1)");
  EXPECT_TRUE(nested.coarse);
  // Ignored paths stay out: a container that differs only there is not replaced.
  auto ignoring = with_patterns({"/a/**"});
  ignoring.max_differences = 1;
  const auto ignored = diff_json(parse(R"({"a":{"x":1,"y":2},"b":{"x":1,"y":2}})"),
                                 parse(R"({"a":{"x":3,"y":4},"b":{"x":3,"y":4}})"), ignoring);
  EXPECT_EQ(describe(ignored.differences), R"(replace /b {"x":1,"y":2} -> {"x":3,"y":4})");
  EXPECT_TRUE(ignored.coarse);
}

TEST(JsonDiffTest, CapBoundsAHugeDocument) {
  json::array live;
  json::array shadow;
  for (int i = 0; i < 100000; ++i) {
    live.emplace_back(i);
    shadow.emplace_back(-i - 1);
  }
  const auto result = diff_json(live, shadow, {});
  EXPECT_EQ(result.differences.size(), 1u); // the whole array replaced
  EXPECT_TRUE(result.coarse);
}

TEST(JsonDiffTest, OverloadReturnsSuppressedCount) {
  const auto opts = with_patterns({"/t"});
  std::size_t suppressed = 99;
  const auto diffs =
      diff_json(parse(R"({"t":1,"u":1})"), parse(R"({"t":2,"u":2})"), opts, suppressed);
  EXPECT_EQ(describe(diffs), "replace /u 1 -> 2");
  EXPECT_EQ(suppressed, 1u);
}

TEST(JsonDiffTest, JsonEqualHonoursOptions) {
  auto opts = with_patterns({"/t"}, {"/l"});
  opts.null_equals_missing = true;
  opts.numeric_tolerance = 0.1;
  EXPECT_TRUE(json_equal(parse(R"({"t":1,"l":[1,2],"n":null,"x":1.05})"),
                         parse(R"({"t":2,"l":[2,1],"x":1})"), opts));
  EXPECT_FALSE(json_equal(parse(R"({"l":[1,2]})"), parse(R"({"l":[1,3]})"), opts));
  EXPECT_FALSE(json_equal(parse(R"({"a":[1,2]})"), parse(R"({"a":[2,1]})"), opts));
}

TEST(JsonDiffTest, MakesOptionsFromConfig) {
  config::body_compare body;
  body.ignore = {"/meta/time", "/**/trace_id"};
  body.unordered_arrays = {"/tags"};
  body.numeric_tolerance = 0.25;
  body.null_equals_missing = true;
  const auto opts = make_json_diff_options(body);
  ASSERT_TRUE(opts.has_value());
  ASSERT_EQ(opts->ignore.size(), 2u);
  EXPECT_EQ(opts->ignore[1].text(), "/**/trace_id");
  ASSERT_EQ(opts->unordered_arrays.size(), 1u);
  EXPECT_EQ(opts->numeric_tolerance, 0.25);
  EXPECT_TRUE(opts->null_equals_missing);
  EXPECT_EQ(opts->max_differences, 100u);

  body.unordered_arrays = {"tags"};
  EXPECT_FALSE(make_json_diff_options(body).has_value());
}

TEST(JsonDiffTest, ApplyPatchFollowsRfc6902) {
  json::value doc = parse(R"({"a":{"b":[1,2,3]},"c":1})");
  std::vector<difference> ops(5);
  ops[0].op = body_op::add;
  ops[0].path = "/a/b/1";
  ops[0].shadow = json::value("x");
  ops[1].op = body_op::remove;
  ops[1].path = "/a/b/0";
  ops[2].op = body_op::replace;
  ops[2].path = "/c";
  ops[2].shadow = json::value(2);
  ops[3].op = body_op::type;
  ops[3].path = "/a/b/2";
  ops[3].shadow = parse("{}");
  ops[4].op = body_op::add; // add on an existing member replaces it
  ops[4].path = "/c";
  ops[4].shadow = json::value(3);
  ASSERT_TRUE(apply_patch(doc, ops));
  EXPECT_EQ(doc, parse(R"({"a":{"b":["x",2,{}]},"c":3})"));
}

TEST(JsonDiffTest, ApplyPatchReplacesTheRoot) {
  json::value doc = parse("[1]");
  std::vector<difference> ops(1);
  ops[0].op = body_op::type;
  ops[0].shadow = parse(R"({"k":1})");
  ASSERT_TRUE(apply_patch(doc, ops));
  EXPECT_EQ(doc, parse(R"({"k":1})"));
  ops[0].op = body_op::remove;
  EXPECT_FALSE(apply_patch(doc, ops));
}

TEST(JsonDiffTest, ApplyPatchFailsOnUnresolvablePaths) {
  const auto fails = [](std::string_view doc_text, body_op op, std::string path) {
    json::value doc = parse(doc_text);
    std::vector<difference> ops(1);
    ops[0].op = op;
    ops[0].path = std::move(path);
    ops[0].shadow = json::value(1);
    return !apply_patch(doc, ops);
  };
  EXPECT_TRUE(fails(R"({"a":1})", body_op::remove, "/b"));
  EXPECT_TRUE(fails(R"({"a":1})", body_op::replace, "/b"));
  EXPECT_TRUE(fails(R"({"a":1})", body_op::add, "/b/c"));
  EXPECT_TRUE(fails(R"({"a":1})", body_op::add, "/a/c"));
  EXPECT_TRUE(fails("[1]", body_op::add, "/2"));
  EXPECT_TRUE(fails("[1]", body_op::add, "/-"));
  EXPECT_TRUE(fails("[1]", body_op::remove, "/1"));
  EXPECT_TRUE(fails("[1]", body_op::replace, "/01"));
  EXPECT_TRUE(fails("[1]", body_op::replace, "0"));
  EXPECT_TRUE(fails("[1]", body_op::replace, "/~2"));
  EXPECT_FALSE(fails("[1]", body_op::add, "/1"));
}

TEST(JsonDiffTest, ApplyPatchSkipsOtherKinds) {
  json::value doc = parse("[1]");
  std::vector<difference> ops(2);
  ops[0].kind = difference_kind::header;
  ops[0].name = "content-type";
  ops[0].shadow = json::value("text/html");
  ops[1].kind = difference_kind::status;
  ops[1].live = json::value(200);
  ops[1].shadow = json::value(500);
  ASSERT_TRUE(apply_patch(doc, ops));
  EXPECT_EQ(doc, parse("[1]"));
}

TEST(JsonDiffTest, SpellsKindsAndOpsAsTheReportContract) {
  EXPECT_EQ(to_string(difference_kind::status), "status");
  EXPECT_EQ(to_string(difference_kind::header), "header");
  EXPECT_EQ(to_string(difference_kind::body), "body");
  EXPECT_EQ(to_string(difference_kind::body_text), "body_text");
  EXPECT_EQ(to_string(difference_kind::body_bytes), "body_bytes");
  EXPECT_EQ(to_string(body_op::add), "add");
  EXPECT_EQ(to_string(body_op::remove), "remove");
  EXPECT_EQ(to_string(body_op::replace), "replace");
  EXPECT_EQ(to_string(body_op::type), "type");
}

// Found by json_diff_fuzz (test/fuzz): Boost.JSON 1.81 parses 0e400 (zero with a huge exponent)
// as NaN, and NaN equals nothing, so equal documents were reported as differing.
TEST(JsonDiffFuzzRegressionTest, ZeroWithHugeExponentEqualsZero) {
  const json::value zero = parse(R"({"z":0,"a":[0.0]})");
  const json::value huge_exponent = parse(R"({"z":0e400,"a":[-0E0000000921]})");
  EXPECT_TRUE(diff_json(zero, huge_exponent, {}).differences.empty());
  EXPECT_TRUE(diff_json(huge_exponent, huge_exponent, {}).differences.empty());
  EXPECT_TRUE(json_equal(huge_exponent, zero, {}));
}

} // namespace
} // namespace parallax::mirror::diff
