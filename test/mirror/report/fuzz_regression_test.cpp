// Regression tests for what report_reader_fuzz (test/fuzz) found in mirror/report/.

#include "mirror/report/record.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

namespace parallax::mirror::report {
namespace {

// report_reader_fuzz: a status that no int holds ("status": 1e10 in a log line) was converted
// with static_cast<int>, which is undefined behaviour (UBSan: float-cast-overflow); it read
// back as garbage. A status outside 0-999 now reads as 0, unknown.
TEST(RecordFuzzRegressionTest, OutOfRangeStatusReadsAsUnknown) {
  for (const std::string_view status : {"1e10", "-1e10", "3000000000", "-70000", "1000", "0e400"}) {
    const std::string line =
        R"({"schema":"parallax.discrepancy/v1","time":"2026-11-26T03:21:01.123Z",)"
        R"("id":"01JDXK2Q6F7A3X9T5W1M0N8B4C","endpoint":"GET /","outcome":"differ",)"
        R"("live":{"status":)" +
        std::string(status) + R"(},"shadow":{"status":)" + std::string(status) + "}}";
    boost::system::error_code ec;
    const auto value = boost::json::parse(line, ec, {}, record_parse_options());
    ASSERT_FALSE(ec) << line;
    std::string error;
    const auto r = record_from_json(value, error);
    ASSERT_TRUE(r.has_value()) << error;
    EXPECT_EQ(r->live.status, 0) << status;
    EXPECT_EQ(r->shadow.status, 0) << status;
  }
}

} // namespace
} // namespace parallax::mirror::report
