#include "mirror/report/aggregate.hpp"

#include "mirror/report/format.hpp"

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

std::string write_file_at(const std::string& path, const std::string& text) {
  write_plain(path, text);
  return path;
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

// A summary as a running parallax writes it (reports.summary.path): proxy totals and routes.
json::object running_summary(std::string since, std::string until, std::uint64_t exchanges,
                             double percent) {
  summary s;
  record r;
  r.time = *parse_time(since);
  r.id = make_record_id(r.time);
  r.route = "api";
  r.endpoint = "GET /u";
  r.outcome = outcome::match;
  r.live.latency_ms = 2;
  r.shadow.latency_ms = 3;
  s.count_sampled(r.route, r.endpoint);
  s.add(r);
  proxy_totals totals;
  totals.exchanges = exchanges;
  totals.sampled = exchanges / 2;
  totals.skipped[static_cast<std::size_t>(skip_reason::method)] = 1;
  auto o = s.to_json(*parse_time(since), *parse_time(until), totals);
  o["routes"] = json::array{
      json::object{{"name", "api"}, {"shadow_upstream", "preview"}, {"percent", percent}}};
  return o;
}

TEST(AggregateInputsTest, SummaryFilesAddTheirTotalsAndWidenTheWindow) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto pretty = dir.file("pod-a.summary.json");
  const auto compact = dir.file("pod-b.summary.json.gz");
  write_plain(pretty, render_json(running_summary("2026-11-26T03:10:00Z", "2026-11-26T03:20:00Z",
                                                  100, 10)));
  write_gzip(
      compact,
      render_json(running_summary("2026-11-26T03:00:00Z", "2026-11-26T03:15:00Z", 40, 50), false));
  const auto result = aggregate_inputs({pretty, compact});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.files, 2u);
  EXPECT_EQ(result.summaries, 2u);
  EXPECT_EQ(result.records, 0u);
  const auto& s = result.summary;
  EXPECT_EQ(s.at("since"), json::value("2026-11-26T03:00:00Z"));
  EXPECT_EQ(s.at("until"), json::value("2026-11-26T03:20:00Z"));
  const auto& totals = s.at("totals").as_object();
  EXPECT_EQ(totals.at("exchanges"), json::value(140));
  EXPECT_EQ(totals.at("sampled"), json::value(70));
  EXPECT_EQ(totals.at("compared"), json::value(2));
  EXPECT_EQ(totals.at("skipped").at("method"), json::value(2));
  EXPECT_FALSE(s.contains("note"));
  EXPECT_EQ(s.at("endpoints").at(0).at("sampled"), json::value(2));
  // Routes merged by name: the one of the latest summary.
  ASSERT_EQ(s.at("routes").as_array().size(), 1u);
  EXPECT_EQ(s.at("routes").at(0).at("percent"), json::value(10.0));
  EXPECT_EQ(s.at("routes").at(0).at("shadow_upstream"), json::value("preview"));
}

TEST(AggregateInputsTest, PercentilesOfMergedSummariesAreThoseOfTheCombinedLogs) {
  const scratch_dir dir("parallax-aggregate-test");
  std::string a_text, b_text;
  for (int i = 1; i <= 60; ++i) {
    (i % 3 == 0 ? b_text : a_text) +=
        line_for("GET /u", i % 5 == 0 ? outcome::differ : outcome::match, 0.3 * i, 0.7 * i) + "\n";
  }
  const auto a = write_file_at(dir.file("a.jsonl"), a_text);
  const auto b = write_file_at(dir.file("b.jsonl"), b_text);
  const auto combined = aggregate_inputs({a, b});
  ASSERT_TRUE(combined.ok()) << combined.error;
  std::vector<std::string> summaries;
  for (const auto& log : {a, b}) {
    const auto one = aggregate_inputs({log});
    ASSERT_TRUE(one.ok()) << one.error;
    summaries.push_back(write_file_at(log + ".summary.json", render_json(one.summary)));
  }
  const auto merged = aggregate_inputs(summaries);
  ASSERT_TRUE(merged.ok()) << merged.error;
  const auto& m = merged.summary.at("endpoints").at(0).as_object();
  const auto& c = combined.summary.at("endpoints").at(0).as_object();
  EXPECT_EQ(m.at("latency_ms"), c.at("latency_ms"));
  EXPECT_EQ(m.at("compared"), c.at("compared"));
  EXPECT_EQ(m.at("differences"), c.at("differences"));
  // Summaries built from logs carry no proxy totals either.
  EXPECT_TRUE(merged.summary.at("totals").at("exchanges").is_null());
}

TEST(AggregateInputsTest, ALogAndASummaryAddButTotalsStayUnknown) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto log = write_file_at(dir.file("pod-a.jsonl"), line_for("GET /u", outcome::differ));
  const auto sum = write_file_at(
      dir.file("pod-b.json"),
      render_json(running_summary("2026-11-26T02:00:00Z", "2026-11-26T02:30:00Z", 100, 10)));
  const auto result = aggregate_inputs({log, sum});
  ASSERT_TRUE(result.ok()) << result.error;
  const auto& s = result.summary;
  EXPECT_EQ(s.at("totals").at("compared"), json::value(2));
  EXPECT_EQ(s.at("totals").at("differ"), json::value(1));
  EXPECT_TRUE(s.at("totals").at("exchanges").is_null());
  EXPECT_NE(s.at("note").as_string().find("1 of 2 inputs carry the proxy's totals"),
            json::string::npos)
      << s.at("note");
  EXPECT_EQ(s.at("since"), json::value("2026-11-26T02:00:00Z"));
  EXPECT_EQ(s.at("until"), json::value("2026-11-26T03:00:01Z"));
}

TEST(AggregateInputsTest, ABrokenSummaryNamesItsFile) {
  const scratch_dir dir("parallax-aggregate-test");
  const auto truncated = write_file_at(dir.file("cut.json"), "{\n  \"schema\": \"parallax.summ");
  auto result = aggregate_inputs({truncated});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error.rfind(truncated + ": invalid summary JSON", 0), 0u) << result.error;
  const auto other = write_file_at(dir.file("other.json"), "{\n\"schema\": \"x/v1\"}\n");
  result = aggregate_inputs({other});
  EXPECT_EQ(result.error, other + ": invalid summary: not a parallax.summary/v1 document "
                                  "(\"schema\")");
}

TEST(AggregateInputsTest, UrlInputsAreFetchedAsSummaries) {
  EXPECT_EQ(report_url("http://127.0.0.1:9901"), "http://127.0.0.1:9901/report");
  EXPECT_EQ(report_url("http://127.0.0.1:9901/"), "http://127.0.0.1:9901/report");
  EXPECT_EQ(report_url("http://h:1/pod-a/report"), "http://h:1/pod-a/report");
  EXPECT_TRUE(is_url_input("http://h:1"));
  EXPECT_FALSE(is_url_input("pod.jsonl"));

  std::vector<std::string> fetched;
  aggregate_options options;
  options.fetch = [&](const std::string& url, std::string& body, std::string& error) {
    fetched.push_back(url);
    if (url.find(":2/") != std::string::npos) {
      error = "GET failed: Connection refused";
      return false;
    }
    body = render_json(running_summary("2026-11-26T03:00:00Z", "2026-11-26T03:10:00Z", 7, 1));
    return true;
  };
  auto result = aggregate_inputs({"http://127.0.0.1:1", "http://127.0.0.1:1"}, options);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(fetched, std::vector<std::string>{"http://127.0.0.1:1/report"}); // named twice: once
  EXPECT_EQ(result.summaries, 1u);
  EXPECT_EQ(result.summary.at("totals").at("exchanges"), json::value(7));

  result = aggregate_inputs({"http://127.0.0.1:2"}, options);
  EXPECT_EQ(result.error, "http://127.0.0.1:2/report: GET failed: Connection refused");
  result = aggregate_inputs({"http://127.0.0.1:1"}); // no fetcher
  EXPECT_EQ(result.error.rfind("http://127.0.0.1:1/report: ", 0), 0u) << result.error;
}

} // namespace
} // namespace parallax::mirror::report
