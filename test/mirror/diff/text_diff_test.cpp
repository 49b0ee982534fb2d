#include "mirror/diff/text_diff.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>

namespace parallax::mirror::diff {
namespace {

/// One entry per difference: `line: live -> shadow`, `-` for an absent line.
std::string describe(const std::vector<difference>& diffs) {
  std::string out;
  for (const auto& d : diffs) {
    EXPECT_EQ(d.kind, difference_kind::body_text);
    if (!out.empty()) out += "; ";
    out += std::to_string(d.line) + ": " + (d.live ? boost::json::serialize(*d.live) : "-") +
           " -> " + (d.shadow ? boost::json::serialize(*d.shadow) : "-");
  }
  return out;
}

std::string diff(std::string_view live, std::string_view shadow,
                 const text_diff_options& opts = {}) {
  return describe(diff_text(live, shadow, opts).differences);
}

/// "prefix1\nprefix2\n...prefixN" (no final newline).
std::string numbered(std::string_view prefix, int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) {
    if (i > 1) out += '\n';
    out += std::string(prefix) + std::to_string(i);
  }
  return out;
}

TEST(TextDiffTest, SplitsLinesAtNewlines) {
  EXPECT_EQ(split_lines(""), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split_lines("a"), (std::vector<std::string_view>{"a"}));
  EXPECT_EQ(split_lines("a\n"), (std::vector<std::string_view>{"a", ""}));
  EXPECT_EQ(split_lines("a\r\n\nb"), (std::vector<std::string_view>{"a\r", "", "b"}));
}

TEST(TextDiffTest, EqualTextsHaveNoDifferences) {
  const auto result = diff_text("<h1>Shop</h1>\n<p>x</p>\n", "<h1>Shop</h1>\n<p>x</p>\n");
  EXPECT_TRUE(result.differences.empty());
  EXPECT_FALSE(result.truncated);
}

TEST(TextDiffTest, ReportsChangedLineWithItsNumber) {
  const auto result = diff_text("a\nb\n<h1>Shop</h1>\nd\n", "a\nb\n<h1>Store</h1>\nd\n");
  ASSERT_EQ(result.differences.size(), 1u);
  const difference& d = result.differences[0];
  EXPECT_EQ(d.kind, difference_kind::body_text);
  EXPECT_EQ(d.line, 3u);
  EXPECT_EQ(d.live, boost::json::value("<h1>Shop</h1>"));
  EXPECT_EQ(d.shadow, boost::json::value("<h1>Store</h1>"));
}

TEST(TextDiffTest, InsertedLineIsReportedOnce) {
  EXPECT_EQ(diff("a\nb\nc\nd", "x\na\nb\nc\nd"), R"(1: - -> "x")");
  EXPECT_EQ(diff("a\nb\nc\nd", "a\nb\nx\nc\nd"), R"(3: - -> "x")");
}

TEST(TextDiffTest, RemovedLineCarriesItsLiveNumber) {
  EXPECT_EQ(diff("a\nb\nc\nd", "a\nc\nd"), R"(2: "b" -> -)");
}

TEST(TextDiffTest, PairsChangedRunsAndReportsTheirRest) {
  EXPECT_EQ(diff("a\nb\nc\nz", "a\nB\nC\nD\nz"), R"(2: "b" -> "B"; 3: "c" -> "C"; 4: - -> "D")");
  EXPECT_EQ(diff("a\nb\nc\nd\nz", "a\nB\nz"), R"(2: "b" -> "B"; 3: "c" -> -; 4: "d" -> -)");
}

TEST(TextDiffTest, SeparateChangesKeepTheirOwnNumbers) {
  EXPECT_EQ(diff("1\n2\n3\n4\n5\n6", "1\nX\n3\n4\nnew\n5\n6"), R"(2: "2" -> "X"; 5: - -> "new")");
}

TEST(TextDiffTest, CapsReportedLines) {
  const auto result = diff_text(numbered("live ", 25), numbered("shadow ", 25));
  ASSERT_EQ(result.differences.size(), 10u);
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(result.differences.front().line, 1u);
  EXPECT_EQ(result.differences.back().line, 10u);

  text_diff_options opts;
  opts.max_lines = 3;
  const auto exact = diff_text("a\nb\nc", "x\ny\nz", opts);
  EXPECT_EQ(exact.differences.size(), 3u);
  EXPECT_FALSE(exact.truncated);
}

TEST(TextDiffTest, MissingFinalNewlineShowsAsEmptyLastLine) {
  EXPECT_EQ(diff("a\nb\n", "a\nb"), R"(3: "" -> -)");
  EXPECT_EQ(diff("", "x"), R"(1: "" -> "x")");
}

TEST(TextDiffTest, CarriageReturnsAreSignificant) {
  EXPECT_EQ(diff("a\r\nb", "a\nb"), R"(1: "a\r" -> "a")");
}

TEST(TextDiffTest, LargeChangesFallBackToPositionalComparison) {
  text_diff_options opts;
  opts.max_lcs_cells = 4;
  // Without alignment an inserted first line shifts every later line.
  EXPECT_EQ(diff("a\nb\nc\nend", "x\na\nb\nc\nEND", opts),
            R"(1: "a" -> "x"; 2: "b" -> "a"; 3: "c" -> "b"; 4: "end" -> "c"; 5: - -> "END")");
  EXPECT_EQ(diff("a\nb\nc\nend", "x\na\nb\nc\nEND"), R"(1: - -> "x"; 4: "end" -> "END")");
  // The common prefix and suffix are still skipped first.
  EXPECT_EQ(diff("p\na\nb\ns", "p\nA\nb\ns", opts), R"(2: "a" -> "A")");
}

TEST(TextDiffTest, AlignsLongerBodies) {
  std::string live = numbered("line ", 2000);
  std::string shadow = live;
  shadow.replace(shadow.find("line 500\n"), 9, "line 500\nextra\n");
  shadow.replace(shadow.find("line 1500\n"), 10, "");
  const auto result = diff_text(live, shadow);
  EXPECT_EQ(describe(result.differences), R"(501: - -> "extra"; 1500: "line 1500" -> -)");
}

} // namespace
} // namespace parallax::mirror::diff
