#include "mirror/report/discrepancy_log.hpp"

#include "mirror/report/record_reader.hpp"
#include "test/mirror/scratch_dir.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace parallax::mirror::report {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

record sample(int n) {
  record r;
  r.time = std::chrono::system_clock::now();
  r.id = make_record_id(r.time);
  r.route = "api";
  r.endpoint = "GET /n/" + std::to_string(n);
  r.outcome = outcome::differ;
  r.request.method = "GET";
  r.request.target = "/n/" + std::to_string(n);
  return r;
}

config::reports log_config(const fs::path& path, std::uint64_t max_bytes, std::uint32_t keep) {
  config::reports cfg;
  cfg.discrepancies.path = path.string();
  cfg.discrepancies.max_file_bytes = max_bytes;
  cfg.discrepancies.keep_files = keep;
  return cfg;
}

TEST(DiscrepancyLogTest, WritesOneParsableRecordPerLine) {
  const scratch_dir dir("parallax-log-test");
  const auto path = dir.path() / "d.jsonl";
  discrepancy_log log(log_config(path, config::mib, 2));
  auto first = sample(1);
  first.live.latency_ms = 1.84;
  ASSERT_TRUE(log.write(first));
  ASSERT_TRUE(log.write(sample(2)));
  log.flush();
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind(R"({"schema":"parallax.discrepancy/v1","time":")", 0), 0u);
  EXPECT_NE(lines[0].find(R"("latency_ms":1.84,)"), std::string::npos) << lines[0];
  std::string error;
  const auto r = record_from_json(boost::json::parse(lines[1]), error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->endpoint, "GET /n/2");
  EXPECT_EQ(log.lines_written(), 2u);
  EXPECT_EQ(log.write_errors(), 0u);
}

TEST(DiscrepancyLogTest, RotatesBeforeALineWouldExceedTheLimitAndKeepsKeepFiles) {
  const scratch_dir dir("parallax-log-test");
  const auto path = dir.path() / "d.jsonl";
  const std::string line(99, 'x'); // 100 bytes with the newline
  discrepancy_log log(log_config(path, 250, 2));
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(log.write_line(std::string(1, static_cast<char>('a' + i)) + line.substr(1)));
  }
  log.flush();
  // 2 lines per file: a b | c d | e f | g h | i  -> current holds i, .1 g h, .2 e f.
  ASSERT_TRUE(fs::exists(path));
  ASSERT_TRUE(fs::exists(path.string() + ".1"));
  ASSERT_TRUE(fs::exists(path.string() + ".2"));
  EXPECT_FALSE(fs::exists(path.string() + ".3"));
  const auto current = lines_of(path);
  const auto first = lines_of(path.string() + ".1");
  const auto second = lines_of(path.string() + ".2");
  ASSERT_EQ(current.size(), 1u);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(current[0][0], 'i');
  EXPECT_EQ(first[0][0], 'g');
  EXPECT_EQ(second[1][0], 'f');
  for (const auto& f : {path, fs::path(path.string() + ".1"), fs::path(path.string() + ".2")}) {
    EXPECT_LE(fs::file_size(f), 250u);
  }
}

TEST(DiscrepancyLogTest, AppendsToAnExistingFileAndCountsItsSize) {
  const scratch_dir dir("parallax-log-test");
  const auto path = dir.path() / "d.jsonl";
  {
    std::ofstream out(path);
    out << std::string(199, 'o') << "\n";
  }
  discrepancy_log log(log_config(path, 250, 1));
  ASSERT_TRUE(log.write_line(std::string(99, 'n')));
  log.flush();
  EXPECT_EQ(lines_of(path).size(), 1u);
  EXPECT_EQ(lines_of(path.string() + ".1").size(), 1u);
}

TEST(DiscrepancyLogTest, BuffersLinesUntilFlushedOrSixtyFourKibAreWaiting) {
  const scratch_dir dir("parallax-log-test");
  const auto path = dir.path() / "d.jsonl";
  discrepancy_log log(log_config(path, config::mib, 1));
  ASSERT_TRUE(log.write(sample(1)));
  EXPECT_TRUE(lines_of(path).empty()); // buffered: no write(2) per line
  EXPECT_EQ(log.lines_written(), 0u);
  log.flush();
  EXPECT_EQ(lines_of(path).size(), 1u);
  EXPECT_EQ(log.lines_written(), 1u);
  // Without a flush, lines reach the file in 64 KiB batches.
  const std::string line(1023, 'x'); // 1 KiB with the newline
  for (std::size_t i = 0; i < discrepancy_log::flush_bytes / 1024; ++i)
    ASSERT_TRUE(log.write_line(line));
  EXPECT_EQ(lines_of(path).size(), 1 + discrepancy_log::flush_bytes / 1024);
}

TEST(DiscrepancyLogTest, ClosingWritesWhatIsBuffered) {
  const scratch_dir dir("parallax-log-test");
  const auto path = dir.path() / "d.jsonl";
  {
    discrepancy_log log(log_config(path, config::mib, 1));
    ASSERT_TRUE(log.write(sample(1)));
    ASSERT_TRUE(log.write(sample(2)));
  }
  EXPECT_EQ(lines_of(path).size(), 2u);
}

TEST(DiscrepancyLogTest, AFailedBatchCountsEveryLineAndTheNextOneIsTriedAgain) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  discrepancy_log log(log_config("/dev/full", config::mib, 1));
  ASSERT_TRUE(log.write(sample(1))); // buffered
  ASSERT_TRUE(log.write(sample(2)));
  log.flush(); // ENOSPC
  EXPECT_EQ(log.write_errors(), 2u);
  EXPECT_EQ(log.lines_written(), 0u);
  ASSERT_TRUE(log.write(sample(3))); // reopened, buffered again
  log.flush();
  EXPECT_EQ(log.write_errors(), 3u);
}

TEST(DiscrepancyLogTest, ALineCutShortBeforeIsEndedBeforeTheNextRecord) {
  const scratch_dir dir("parallax-log-test");
  const auto path = dir.path() / "d.jsonl";
  {
    std::ofstream out(path);
    out << R"({"schema":"parallax.discrepancy/v1","ti)"; // a crash mid-line
  }
  discrepancy_log log(log_config(path, config::mib, 1));
  ASSERT_TRUE(log.write(sample(1)));
  log.flush();
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  std::string error;
  EXPECT_TRUE(record_from_json(boost::json::parse(lines[1]), error)) << error;
}

TEST(DiscrepancyLogTest, WriteFailuresAreCountedNotThrown) {
  const scratch_dir dir("parallax-log-test");
  discrepancy_log log(log_config(dir.path() / "missing" / "d.jsonl", config::mib, 1));
  EXPECT_FALSE(log.write(sample(1)));
  EXPECT_FALSE(log.write(sample(2)));
  EXPECT_EQ(log.write_errors(), 2u);
  EXPECT_EQ(log.lines_written(), 0u);
}

TEST(DiscrepancyLogTest, ConcurrentWritersNeverInterleaveLines) {
  const scratch_dir dir("parallax-log-test");
  const auto path = dir.path() / "d.jsonl";
  discrepancy_log log(log_config(path, 4 * 1024, 50));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 100; ++i)
        log.write(sample(t * 1000 + i));
    });
  }
  for (auto& thread : threads)
    thread.join();
  log.flush();
  EXPECT_EQ(log.lines_written(), 400u);
  std::size_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    for (const auto& line : lines_of(entry.path())) {
      std::string error;
      EXPECT_TRUE(record_from_json(boost::json::parse(line), error)) << error;
      ++total;
    }
  }
  EXPECT_EQ(total, 400u);
}

TEST(DiscrepancyLogTest, ShouldWriteSkipsMatchesUnlessIncluded) {
  config::discrepancy_log cfg;
  EXPECT_FALSE(should_write(outcome::match, cfg));
  EXPECT_TRUE(should_write(outcome::differ, cfg));
  EXPECT_TRUE(should_write(outcome::shadow_error, cfg));
  cfg.include_matches = true;
  EXPECT_TRUE(should_write(outcome::match, cfg));
}

} // namespace
} // namespace parallax::mirror::report
