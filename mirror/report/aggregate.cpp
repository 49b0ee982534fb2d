#include "mirror/report/aggregate.hpp"

#include "mirror/report/record_reader.hpp"

#include <boost/json/parse.hpp>

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

namespace parallax::mirror::report {
namespace {

constexpr std::size_t read_chunk = std::size_t{64} * 1024;
// What a discrepancy record's line always holds: its schema name as a JSON string.
const std::string record_schema_claim = "\"" + std::string(record_schema) + "\"";
constexpr std::size_t max_line_bytes =
    std::size_t{64} * 1024 * 1024; // far above any record written

// Owns a zlib file handle (zlib reads plain files transparently, so one reader serves both).
class gz_file {
public:
  /// `-` is standard input.
  explicit gz_file(const std::string& path)
      : file_(path == "-" ? gzdopen(::dup(STDIN_FILENO), "rb") : gzopen(path.c_str(), "rb")) {
    if (file_ != nullptr) gzbuffer(file_, 128 * 1024);
  }
  ~gz_file() {
    if (file_ != nullptr) gzclose(file_);
  }
  gz_file(const gz_file&) = delete;
  gz_file& operator=(const gz_file&) = delete;

  [[nodiscard]] gzFile get() const noexcept { return file_; }

private:
  gzFile file_;
};

// Reads one file line by line into `sum`; false with `error` set at the first problem.
bool read_log(const std::string& path, summary& sum, aggregate_result& result) {
  errno = 0;
  const gz_file file(path);
  if (file.get() == nullptr) {
    result.error = path + ": cannot open: " + std::strerror(errno != 0 ? errno : ENOENT);
    return false;
  }
  std::uint64_t line_number = 0;
  std::string line;
  std::string parse_error;
  const auto fail = [&](const std::string& message) {
    result.error = path + ":" + std::to_string(line_number) + ": " + message;
    return false;
  };
  const auto take_line = [&]() -> bool {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t\r") == std::string::npos) return true; // blank
    // A line that does not claim the record schema is someone else's (a container's log lines
    // interleaved by `kubectl logs`): skipped and counted. One that claims it must parse; it may
    // follow a prefix (`kubectl logs --prefix`: "[pod/NAME/CONTAINER] ").
    if (line.find(record_schema_claim) == std::string::npos) {
      ++result.skipped_lines;
      return true;
    }
    const auto start = line.find('{');
    const std::string_view json =
        start == std::string::npos ? std::string_view(line) : std::string_view(line).substr(start);
    boost::system::error_code ec;
    const auto value = boost::json::parse(json, ec, {}, record_parse_options());
    if (ec) return fail("invalid JSON: " + ec.message());
    auto r = record_from_json(value, parse_error);
    if (!r) return fail(parse_error);
    sum.add(*r);
    ++result.records;
    return true;
  };

  std::vector<char> buffer(read_chunk);
  for (;;) {
    const int n = gzread(file.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      ++line_number; // the line being read
      return fail(std::string("read error: ") + (code == Z_ERRNO ? std::strerror(errno) : message));
    }
    if (n == 0) break;
    std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
    for (;;) {
      const auto newline = chunk.find('\n');
      line.append(chunk.substr(0, newline));
      if (line.size() > max_line_bytes) {
        ++line_number;
        return fail("line longer than " + std::to_string(max_line_bytes) + " bytes");
      }
      if (newline == std::string_view::npos) break;
      if (!take_line()) return false;
      line.clear();
      chunk.remove_prefix(newline + 1);
    }
  }
  int code = Z_OK;
  gzerror(file.get(), &code);
  if (code == Z_BUF_ERROR) {
    ++line_number;
    return fail("truncated gzip data");
  }
  if (!line.empty() && !take_line()) return false; // last line without a newline
  ++result.files;
  return true;
}

} // namespace

aggregate_result aggregate_logs(const std::vector<std::string>& paths,
                                const aggregate_options& options) {
  aggregate_result result;
  summary_options sum_options;
  sum_options.regression_ratio = options.regression_ratio;
  sum_options.max_endpoints = options.max_endpoints;
  sum_options.top_differences = options.top_differences;
  summary sum(sum_options);
  std::set<std::filesystem::path> seen; // the same file named twice counts once
  std::string current;
  try {
    for (const auto& path : paths) {
      current = path;
      std::error_code ec;
      auto canonical = std::filesystem::weakly_canonical(path, ec);
      if (ec) canonical = path;
      if (!seen.insert(canonical).second) continue;
      if (!read_log(path, sum, result)) return result;
    }
    const auto range = sum.record_time_range();
    const auto now = std::chrono::system_clock::now();
    // A log holds no proxy totals: the summary says they are unknown.
    result.summary = range ? sum.to_json(range->first, range->second, std::nullopt)
                           : sum.to_json(now, now, std::nullopt);
    result.summary["skipped_lines"] = result.skipped_lines;
    if (result.skipped_lines > 0) {
      auto note = std::string(result.summary["note"].is_string()
                                  ? std::string_view(result.summary["note"].as_string())
                                  : std::string_view());
      note += (note.empty() ? "" : "; ") + std::to_string(result.skipped_lines) +
              " line(s) that are not discrepancy records (other log lines) were skipped";
      result.summary["note"] = note;
    }
  } catch (const std::exception& e) { // allocation failure: report it like any input error
    result.error = current + ": " + e.what();
    result.summary = {};
  }
  return result;
}

} // namespace parallax::mirror::report
