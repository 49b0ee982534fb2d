#include "mirror/report/aggregate.hpp"

#include "test/mirror/scratch_dir.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

namespace parallax::mirror::report {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string line_for(std::string endpoint, outcome o, double live_ms = 1, double shadow_ms = 2,
                     std::string header_value = "h") {
  record r;
  r.request.headers = {{"X-Value", std::move(header_value)}};
  r.time = *parse_time("2026-11-26T03:00:00Z") + std::chrono::seconds(live_ms > 5 ? 60 : 1);
  r.id = make_record_id(r.time);
  r.route = "api";
  r.endpoint = std::move(endpoint);
  r.outcome = o;
  r.live.latency_ms = live_ms;
  r.shadow.latency_ms = shadow_ms;
  if (o == outcome::shadow_error) r.shadow.error = "reset";
  if (o == outcome::differ) {
    diff::difference d;
    d.kind = diff::difference_kind::body;
    d.op = diff::body_op::replace;
    d.path = "/user/name";
    d.live = json::value("Ann");
    d.shadow = json::value("ann");
    r.differences.push_back(d);
  }
  std::string line;
  append_json_line(line, r, config::reports{});
  return line;
}

void write_plain(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void write_gzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

TEST(AggregateLogsTest, SummarisesPlainAndGzipFiles) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto plain = dir.file("pod-a.jsonl");
  const auto gz = dir.file("pod-b.jsonl.1.gz");
  write_plain(plain, line_for("GET /u", outcome::differ) + "\n" +
                         line_for("GET /u", outcome::match) + "\n\n" +
                         line_for("GET /v", outcome::shadow_error) + "\n");
  write_gzip(gz, line_for("GET /u", outcome::differ, 10, 20) + "\n" +
                     line_for("GET /u", outcome::differ)); // no final newline
  // Rotated names in any order: the .gz first.
  const auto result = aggregate_inputs({gz, plain});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.files, 2u);
  EXPECT_EQ(result.records, 5u);
  const auto& s = result.summary;
  EXPECT_EQ(s.at("schema"), json::value("parallax.summary/v1"));
  EXPECT_EQ(s.at("since"), json::value("2026-11-26T03:00:01Z"));
  EXPECT_EQ(s.at("until"), json::value("2026-11-26T03:01:00Z"));
  const auto& totals = s.at("totals").as_object();
  EXPECT_EQ(totals.at("compared"), json::value(5));
  EXPECT_EQ(totals.at("differ"), json::value(3));
  EXPECT_EQ(totals.at("match"), json::value(1));
  EXPECT_EQ(totals.at("shadow_error"), json::value(1));
  // What the logs cannot know is marked unknown, and said so.
  EXPECT_TRUE(totals.at("exchanges").is_null());
  EXPECT_TRUE(totals.at("sampled").is_null());
  EXPECT_TRUE(totals.at("skipped").is_null());
  EXPECT_NE(s.at("note").as_string().find("only compared exchanges"), json::string::npos);
  const auto& first = s.at("endpoints").at(0).as_object();
  EXPECT_EQ(first.at("endpoint"), json::value("GET /u"));
  EXPECT_EQ(first.at("compared"), json::value(4));
  EXPECT_DOUBLE_EQ(first.at("diff_rate").as_double(), 0.75);
  EXPECT_EQ(first.at("differences").at(0).at("count"), json::value(3));
  EXPECT_EQ(first.at("examples").as_array().size(), 3u);
  EXPECT_EQ(s.at("endpoints").at(1).at("shadow_errors").at("reset"), json::value(1));
}

TEST(AggregateLogsTest, MalformedLineNamesFileAndLine) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto good = dir.file("good.jsonl");
  const auto bad = dir.file("bad.jsonl");
  write_plain(good, line_for("GET /u", outcome::differ) + "\n");
  // A line that claims the record schema but is cut short.
  write_plain(bad, line_for("GET /u", outcome::differ) + "\n" +
                       line_for("GET /u", outcome::differ) +
                       "\n{\"schema\": \"parallax.discrepancy/v1\", \"id\": \"0\n");
  const auto result = aggregate_inputs({good, bad});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error.rfind(bad + ":3: invalid JSON", 0), 0u) << result.error;
  EXPECT_TRUE(result.summary.empty());
}

// `kubectl logs` of a container whose discrepancy log is standard output: records interleaved
// with the process's own log lines (text or JSON), some with `--prefix`. The others are skipped
// and counted; the records count.
TEST(AggregateLogsTest, SkipsAndCountsLinesThatAreNotRecords) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto log = dir.file("kubectl.log");
  write_plain(log, "2026-12-03T20:00:00.000Z info  [1] ready: listener pod=http://0.0.0.0:8080\n" +
                       line_for("GET /u", outcome::differ) + "\n" +
                       R"({"time":"2026-12-03T20:00:01Z","level":"warn","msg":"upstream x"})" +
                       "\n[pod/api-7c9/parallax] " + line_for("GET /u", outcome::differ) +
                       "\nnot json at all {\n   \r \n"); // the last one is blank

  const auto result = aggregate_inputs({log});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.records, 2u);
  EXPECT_EQ(result.skipped_lines, 3u);
  EXPECT_EQ(result.summary.at("skipped_lines").as_uint64(), 3u);
  EXPECT_NE(std::string(result.summary.at("note").as_string()).find("3 line(s) that are not"),
            std::string::npos);
}

TEST(AggregateLogsTest, ReadsRecordsWithBytesThatAreNotUtf8) {
  // HTTP allows obs-text in field values; the log writes such values as received.
  const scratch_dir dir("parallax-aggregate-test");
  const auto log = dir.file("latin1.jsonl");
  write_plain(log, line_for("GET /u", outcome::differ, 1, 2, "caf\xE9") + "\n");
  const auto result = aggregate_inputs({log});
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.records, 1u);
}

TEST(AggregateLogsTest, ARecordWithWrongFieldsNamesFileAndLine) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto gz = dir.file("x.jsonl.gz");
  write_gzip(gz,
             line_for("GET /u", outcome::match) + "\n{\"schema\":\"parallax.discrepancy/v1\"}\n");
  const auto result = aggregate_inputs({gz});
  EXPECT_EQ(result.error, gz + ":2: missing or invalid \"time\"");
}

TEST(AggregateLogsTest, UnreadableAndTruncatedFilesAreErrors) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto missing = dir.file("nope.jsonl");
  auto result = aggregate_inputs({missing});
  EXPECT_EQ(result.error.rfind(missing + ": cannot open", 0), 0u) << result.error;

  const auto gz = dir.file("cut.jsonl.gz");
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += line_for("GET /u", outcome::differ) + "\n";
  write_gzip(gz, text);
  const auto size = fs::file_size(gz);
  fs::resize_file(gz, size / 2);
  result = aggregate_inputs({gz});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error.rfind(gz + ":", 0), 0u) << result.error;
}

TEST(AggregateLogsTest, TheSameFileNamedTwiceCountsOnce) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto plain = dir.file("a.jsonl");
  write_plain(plain, line_for("GET /u", outcome::differ) + "\n");
  const auto result = aggregate_inputs({plain, plain});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.records, 1u);
}

TEST(AggregateLogsTest, NoRecordsGiveAnEmptySummary) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto empty = dir.file("empty.jsonl");
  write_plain(empty, "");
  const auto result = aggregate_inputs({empty});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_TRUE(result.summary.at("endpoints").as_array().empty());
  EXPECT_EQ(result.summary.at("totals").at("compared"), json::value(0));
}

} // namespace
} // namespace parallax::mirror::report
