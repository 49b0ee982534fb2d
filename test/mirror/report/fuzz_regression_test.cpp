// Regression tests for what report_reader_fuzz (test/fuzz) found in mirror/report/.

#include "mirror/report/format.hpp"
#include "mirror/report/record.hpp"
#include "mirror/report/record_reader.hpp"
#include "mirror/report/summary.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

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

// report_reader_fuzz: parse_time took any four-digit year, but system_clock counts nanoseconds
// in 64 bits (years 1678 to 2261): "9999-12-31T23:59:59Z" overflowed (UBSan: signed integer
// overflow in the duration cast) and read back as a time in the past.
TEST(RecordFuzzRegressionTest, TimesTheClockCannotHoldAreInvalid) {
  EXPECT_FALSE(parse_time("9999-12-31T23:59:59.999999999+00:00"));
  EXPECT_FALSE(parse_time("2262-04-12T00:00:00Z"));
  EXPECT_FALSE(parse_time("1969-12-31T23:59:59.9995Z"));
  EXPECT_FALSE(parse_time("0000-01-01T00:00:00Z"));
  ASSERT_TRUE(parse_time("2261-12-31T23:59:59.999Z"));
  EXPECT_EQ(format_time(*parse_time("2261-12-31T23:59:59.999Z")), "2261-12-31T23:59:59.999Z");
  ASSERT_TRUE(parse_time("1970-01-01T00:00:00Z"));
  EXPECT_EQ(format_time(*parse_time("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00.000Z");
}

// report_reader_fuzz: a finite latency whose rounding to microseconds overflows (1e308 ms) was
// written as null, which reads back as 0: the line changed when read and written again.
TEST(RecordFuzzRegressionTest, HugeLatencyIsWrittenAsANumber) {
  record r;
  r.time = *parse_time("2026-11-26T03:21:01.123Z");
  r.id = "01JDXK2Q6F7A3X9T5W1M0N8B4C";
  r.endpoint = "GET /";
  r.live.latency_ms = 1e308;
  r.shadow.latency_ms = -1e308;
  std::string line;
  append_json_line(line, r, config::reports{});
  EXPECT_EQ(line.find("\"latency_ms\":null"), std::string::npos) << line;
}

// report_reader_fuzz: a latency of 1e308 ms (or 1e400, parsed as infinity) made the bucket
// position infinite, and converting it to an index was undefined behaviour (UBSan:
// float-cast-overflow; GCC's -fsanitize=undefined does not check that, so only the fuzz build
// sees it). The position is now compared with the last bucket before it is converted.
TEST(SummaryFuzzRegressionTest, HugeAndInfiniteLatenciesCountInTheLastBucket) {
  latency_histogram h;
  h.add(5);
  h.add(1e308);
  h.add(std::numeric_limits<double>::infinity());
  EXPECT_EQ(h.count(), 3u);
  EXPECT_NEAR(h.quantile(0.3), 5, 0.05);
  EXPECT_EQ(h.quantile(1.0), std::numeric_limits<double>::infinity());
}

// report_reader_fuzz: an endpoint's shadow_error count of -10 in a summary was converted to
// uint64_t with static_cast (UBSan with clang: float-cast-overflow) when the table was rendered.
TEST(SummaryFuzzRegressionTest, NegativeOrHugeCountsRenderWithinRange) {
  for (const std::string_view count : {"-10", "1e300", "-0.5"}) {
    const std::string text = R"({"schema":"parallax.summary/v1","totals":{},"endpoints":[)"
                             R"({"endpoint":"GET /","route":"api","shadow_error":)" +
                             std::string(count) + "}]}";
    const auto summary = boost::json::parse(text).as_object();
    const auto table = render(summary, report_format::text);
    const bool huge = count == "1e300";
    EXPECT_NE(table.find(huge ? "18446744073709551615" : " 0 "), std::string::npos)
        << count << "\n" << table;
  }
}

// report_reader_fuzz: an infinite latency in a summary made the page's bar width inf / inf =
// NaN, converted to int (UBSan: -nan is outside the range of int). Bars are now a share of the
// largest bounded to [0, 1].
TEST(SummaryFuzzRegressionTest, InfiniteLatenciesDrawBoundedBars) {
  const double inf = std::numeric_limits<double>::infinity();
  boost::json::object latency{{"p50", inf}, {"p90", inf}, {"p99", inf}};
  boost::json::object shadow{{"p50", -5.0}, {"p90", 1.0}, {"p99", 2.0}};
  boost::json::object endpoint{{"endpoint", "GET /"}, {"route", "api"}, {"compared", 3},
                               {"latency_ms", boost::json::object{{"live", latency}, {"shadow", shadow}}}};
  boost::json::object summary{{"schema", "parallax.summary/v1"}, {"totals", boost::json::object{}},
                              {"endpoints", boost::json::array{endpoint}}};
  const auto page = render(summary, report_format::html);
  EXPECT_NE(page.find("<svg class=\"latency\""), std::string::npos);
  EXPECT_EQ(page.find("width=\"-"), std::string::npos);
}

} // namespace
} // namespace parallax::mirror::report
