// ASCII case folding: only 'A'..'Z' fold, other bytes (UTF-8, punctuation) compare as they are.

#include "proxy/http/ascii.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace parallax::proxy::http {
namespace {

TEST(AsciiTest, ToLowerFoldsOnlyAsciiLetters) {
  EXPECT_EQ(to_lower('A'), 'a');
  EXPECT_EQ(to_lower('Z'), 'z');
  EXPECT_EQ(to_lower('a'), 'a');
  EXPECT_EQ(to_lower('@'), '@'); // just before 'A'
  EXPECT_EQ(to_lower('['), '['); // just after 'Z'
  EXPECT_EQ(to_lower('\xC3'), '\xC3');
  EXPECT_EQ(to_lower_copy("Content-Type: \xC3\x84"), "content-type: \xC3\x84");
  static_assert(to_lower('Q') == 'q');
}

TEST(AsciiTest, IequalsIgnoresOnlyAsciiCase) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("content-length", "content-lengths"));
  EXPECT_FALSE(iequals("\xC3\xA4", "\xC3\x84")); // UTF-8 letters are not folded
  EXPECT_FALSE(iequals("@", "`"));               // 0x40 and 0x60 differ by the case bit only
  static_assert(iequals("TE", "te"));
}

TEST(AsciiTest, HasUpperSeesOnlyAsciiCapitals) {
  EXPECT_TRUE(has_upper("Content-Type"));
  EXPECT_TRUE(has_upper("x-Z"));
  EXPECT_FALSE(has_upper("content-type"));
  EXPECT_FALSE(has_upper(""));
  EXPECT_FALSE(has_upper("\xC3\x84@[")); // UTF-8 and the bytes around 'A'..'Z'
  static_assert(has_upper("A") && !has_upper("a"));
}

TEST(AsciiTest, HasUpperFindsEveryByteValueAtEveryPosition) {
  // Eight bytes at a time from eight bytes on: every byte value at every position of texts of
  // 1 to 24 bytes (lower case around it, or bytes with the top bit set), as a byte-wise look.
  for (std::size_t n = 1; n <= 24; ++n) {
    for (const char fill : {'a', '\xff', '\x80', 'z', '@'}) {
      for (std::size_t at = 0; at < n; ++at) {
        for (int b = 0; b < 256; ++b) {
          std::string text(n, fill);
          text[at] = static_cast<char>(b);
          const bool want =
              std::any_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
          ASSERT_EQ(has_upper(text), want) << n << " " << at << " " << b << " " << int(fill);
        }
      }
    }
  }
}

TEST(AsciiTest, PrefixSuffixAndSubstringIgnoreCase) {
  EXPECT_TRUE(istarts_with("Text/HTML", "text/"));
  EXPECT_FALSE(istarts_with("tex", "text/"));
  EXPECT_TRUE(iends_with("application/Problem+JSON", "+json"));
  EXPECT_FALSE(iends_with("json", "+json"));
  EXPECT_TRUE(icontains("application/X-WWW-Form-Urlencoded", "x-www-form"));
  EXPECT_TRUE(icontains("abc", ""));
  EXPECT_FALSE(icontains("xm", "xml"));
}

} // namespace
} // namespace parallax::proxy::http
