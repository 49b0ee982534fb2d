#include "mirror/diff/pointer_pattern.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::diff {
namespace {

pointer_pattern compiled(std::string_view text) {
  auto pattern = pointer_pattern::compile(text);
  EXPECT_TRUE(pattern.has_value()) << text;
  return pattern ? std::move(*pattern) : pointer_pattern();
}

path_segment key(std::string_view name) {
  return {name, 0, false};
}
path_segment index(std::size_t i) {
  return {{}, i, true};
}

TEST(PointerPatternTest, EscapesTildeAndSlash) {
  EXPECT_EQ(escape_segment("a/b"), "a~1b");
  EXPECT_EQ(escape_segment("m~n"), "m~0n");
  EXPECT_EQ(escape_segment("~1"), "~01");
  EXPECT_EQ(escape_segment("/~"), "~1~0");
  EXPECT_EQ(escape_segment(""), "");
  std::string pointer;
  append_segment(pointer, "a/b");
  append_index(pointer, 12);
  append_segment(pointer, "m~n");
  EXPECT_EQ(pointer, "/a~1b/12/m~0n");
}

TEST(PointerPatternTest, ParsesEscapedSegments) {
  std::vector<std::string> segments;
  ASSERT_TRUE(parse_pointer("/a~1b/m~0n/~01", segments));
  EXPECT_EQ(segments, (std::vector<std::string>{"a/b", "m~n", "~1"}));
}

TEST(PointerPatternTest, RootAndEmptyKeyPointers) {
  std::vector<std::string> segments{"stale"};
  ASSERT_TRUE(parse_pointer("", segments));
  EXPECT_TRUE(segments.empty());
  ASSERT_TRUE(parse_pointer("/", segments));
  EXPECT_EQ(segments, (std::vector<std::string>{""}));
  ASSERT_TRUE(parse_pointer("/a//b/", segments));
  EXPECT_EQ(segments, (std::vector<std::string>{"a", "", "b", ""}));
}

TEST(PointerPatternTest, RejectsMalformedPointers) {
  std::vector<std::string> segments;
  EXPECT_FALSE(parse_pointer("a", segments));
  EXPECT_FALSE(parse_pointer("/a~", segments));
  EXPECT_FALSE(parse_pointer("/a~2", segments));
  EXPECT_FALSE(parse_pointer("/~x/b", segments));
}

TEST(PointerPatternTest, ParsesArrayIndices) {
  EXPECT_EQ(parse_index("0"), 0u);
  EXPECT_EQ(parse_index("17"), 17u);
  EXPECT_FALSE(parse_index("01"));
  EXPECT_FALSE(parse_index("-"));
  EXPECT_FALSE(parse_index("-1"));
  EXPECT_FALSE(parse_index(""));
  EXPECT_FALSE(parse_index("1a"));
  EXPECT_FALSE(parse_index("99999999999999999999999"));
}

TEST(PointerPatternTest, MatchesLiteralPattern) {
  const auto pattern = compiled("/meta/time");
  EXPECT_TRUE(pattern.matches_pointer("/meta/time"));
  EXPECT_FALSE(pattern.matches_pointer("/meta"));
  EXPECT_FALSE(pattern.matches_pointer("/meta/time/x"));
  EXPECT_FALSE(pattern.matches_pointer("/meta/times"));
  EXPECT_FALSE(pattern.matches_pointer(""));
  EXPECT_EQ(pattern.text(), "/meta/time");
}

TEST(PointerPatternTest, SingleStarMatchesExactlyOneSegment) {
  const auto pattern = compiled("/items/*/id");
  EXPECT_TRUE(pattern.matches_pointer("/items/0/id"));
  EXPECT_TRUE(pattern.matches_pointer("/items/anything/id"));
  EXPECT_TRUE(pattern.matches_pointer("/items//id"));
  EXPECT_FALSE(pattern.matches_pointer("/items/id"));
  EXPECT_FALSE(pattern.matches_pointer("/items/0/1/id"));
  EXPECT_FALSE(pattern.matches_pointer("/items/0/id/x"));
}

TEST(PointerPatternTest, DoubleStarMatchesAnyNumberOfSegments) {
  const auto pattern = compiled("/**/trace_id");
  EXPECT_TRUE(pattern.matches_pointer("/trace_id"));
  EXPECT_TRUE(pattern.matches_pointer("/a/trace_id"));
  EXPECT_TRUE(pattern.matches_pointer("/a/0/b/trace_id"));
  EXPECT_FALSE(pattern.matches_pointer("/a/trace_id/b"));
  EXPECT_FALSE(pattern.matches_pointer("/a/trace"));
  EXPECT_FALSE(pattern.matches_pointer(""));
}

TEST(PointerPatternTest, DoubleStarInTheMiddleBacktracks) {
  const auto middle = compiled("/a/**/b");
  EXPECT_TRUE(middle.matches_pointer("/a/b"));
  EXPECT_TRUE(middle.matches_pointer("/a/x/b"));
  EXPECT_TRUE(middle.matches_pointer("/a/b/b"));
  EXPECT_TRUE(middle.matches_pointer("/a/x/b/y/b"));
  EXPECT_FALSE(middle.matches_pointer("/a/x/b/y"));
  EXPECT_FALSE(middle.matches_pointer("/x/a/b"));

  const auto twice = compiled("/**/a/**/b/*");
  EXPECT_TRUE(twice.matches_pointer("/a/b/1"));
  EXPECT_TRUE(twice.matches_pointer("/x/a/y/z/b/1"));
  EXPECT_TRUE(twice.matches_pointer("/a/a/b/b/b/1"));
  EXPECT_FALSE(twice.matches_pointer("/a/b"));
  EXPECT_FALSE(twice.matches_pointer("/b/a/1"));
}

TEST(PointerPatternTest, TrailingDoubleStarMatchesTheNodeAndEverythingBelow) {
  const auto pattern = compiled("/debug/**");
  EXPECT_TRUE(pattern.matches_pointer("/debug"));
  EXPECT_TRUE(pattern.matches_pointer("/debug/a/b"));
  EXPECT_FALSE(pattern.matches_pointer("/debugger"));
  EXPECT_TRUE(compiled("/**").matches_pointer(""));
  EXPECT_TRUE(compiled("/**").matches_pointer("/x/y"));
}

TEST(PointerPatternTest, RootPatternMatchesOnlyTheRoot) {
  const auto root = compiled("");
  EXPECT_TRUE(root.matches_pointer(""));
  EXPECT_FALSE(root.matches_pointer("/a"));
  const auto empty_key = compiled("/");
  EXPECT_TRUE(empty_key.matches_pointer("/"));
  EXPECT_FALSE(empty_key.matches_pointer(""));
}

TEST(PointerPatternTest, EscapedLiteralMatchesUnescapedKey) {
  const auto pattern = compiled("/a~1b/m~0n");
  EXPECT_TRUE(pattern.matches_pointer("/a~1b/m~0n"));
  const std::vector<path_segment> path{key("a/b"), key("m~n")};
  EXPECT_TRUE(pattern.matches(std::span<const path_segment>(path)));
  const std::vector<std::string_view> segments{"a/b", "m~n"};
  EXPECT_TRUE(pattern.matches(std::span<const std::string_view>(segments)));
  const std::vector<std::string_view> raw{"a~1b", "m~0n"};
  EXPECT_FALSE(pattern.matches(std::span<const std::string_view>(raw)));
}

TEST(PointerPatternTest, IndexLiteralMatchesIndexSegment) {
  const auto pattern = compiled("/items/0/id");
  const std::vector<path_segment> first{key("items"), index(0), key("id")};
  const std::vector<path_segment> second{key("items"), index(1), key("id")};
  const std::vector<path_segment> member_zero{key("items"), key("0"), key("id")};
  EXPECT_TRUE(pattern.matches(std::span<const path_segment>(first)));
  EXPECT_FALSE(pattern.matches(std::span<const path_segment>(second)));
  EXPECT_TRUE(pattern.matches(std::span<const path_segment>(member_zero)));
  // "00" names a member, never an index.
  EXPECT_FALSE(compiled("/items/00/id").matches(std::span<const path_segment>(first)));
  const auto wildcard = compiled("/items/*/id");
  EXPECT_TRUE(wildcard.matches(std::span<const path_segment>(second)));
}

TEST(PointerPatternTest, RejectsMalformedPatterns) {
  EXPECT_FALSE(pointer_pattern::compile("meta"));
  EXPECT_FALSE(pointer_pattern::compile("/a*"));
  EXPECT_FALSE(pointer_pattern::compile("/**x/b"));
  EXPECT_FALSE(pointer_pattern::compile("/***"));
  EXPECT_FALSE(pointer_pattern::compile("/a~2"));
  EXPECT_FALSE(pointer_pattern::compile("/a~"));
}

TEST(PointerPatternTest, MalformedPointerNeverMatches) {
  EXPECT_FALSE(compiled("/**").matches_pointer("a"));
  EXPECT_FALSE(compiled("/*").matches_pointer("/a~3"));
}

} // namespace
} // namespace parallax::mirror::diff
