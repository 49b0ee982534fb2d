// Regression tests for what the fuzz targets of test/fuzz found in mirror/diff/.

#include "mirror/diff/json_diff.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include <boost/json/parse.hpp>

namespace parallax::mirror::diff {
namespace {

namespace json = boost::json;

json::value parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << text << ": " << ec.message();
  return v;
}

// json_diff_fuzz: Boost.JSON 1.81 parses 0e400 (zero with a huge exponent) as NaN, and NaN
// equals nothing, so equal documents were reported as differing.
TEST(JsonDiffFuzzRegressionTest, ZeroWithHugeExponentEqualsZero) {
  const json::value zero = parse(R"({"z":0,"a":[0.0]})");
  const json::value huge_exponent = parse(R"({"z":0e400,"a":[-0E0000000921]})");
  EXPECT_TRUE(diff_json(zero, huge_exponent, {}).differences.empty());
  EXPECT_TRUE(diff_json(huge_exponent, huge_exponent, {}).differences.empty());
  EXPECT_TRUE(json_equal(huge_exponent, zero, {}));
}

} // namespace
} // namespace parallax::mirror::diff
