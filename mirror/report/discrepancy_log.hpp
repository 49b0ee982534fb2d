#pragma once
// The discrepancy log (reports.md): one `parallax.discrepancy/v1` JSON object per line, to a
// file rotated by size (`path` -> `path.1` -> ... -> `path.N`, N = keep_files) or to stdout
// when the path is "-".
//
// Threading: write() takes a mutex around serialisation and the write, so any thread may call
// it. It does blocking file I/O, so it belongs on a background/report thread, never on a
// proxy I/O thread. Failures are counted (write_errors()), never thrown.

#include "config/config.hpp"
#include "mirror/report/record.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace parallax::mirror::report {

/// Whether a record with outcome `o` belongs in the log (matches only with include_matches).
[[nodiscard]] bool should_write(outcome o, const config::discrepancy_log& cfg) noexcept;

/// A size-rotated JSON Lines sink for discrepancy records.
class discrepancy_log {
public:
  /// Prepares the sink; the file is opened (appending) on the first write.
  explicit discrepancy_log(config::reports cfg);
  /// Flushes and closes the file.
  ~discrepancy_log();

  discrepancy_log(const discrepancy_log&) = delete;
  discrepancy_log& operator=(const discrepancy_log&) = delete;

  /// Serialises `r` (redacted and excerpted per the configuration) and writes it as one line;
  /// false when the line could not be written (counted in write_errors()).
  bool write(const record& r);

  /// Writes one already serialised JSON object as a line (no newline inside), rotating first
  /// when the line would take the file past max_file_bytes; false on failure (counted).
  bool write_line(std::string_view json_line);

  /// Flushes buffered lines to the operating system.
  void flush();

  /// Lines successfully written since construction.
  [[nodiscard]] std::uint64_t lines_written() const noexcept {
    return lines_written_.load(std::memory_order_relaxed);
  }
  /// Lines lost to open, rotate or write failures since construction.
  [[nodiscard]] std::uint64_t write_errors() const noexcept {
    return write_errors_.load(std::memory_order_relaxed);
  }
  /// The configured path ("-" for stdout).
  [[nodiscard]] const std::string& path() const noexcept { return cfg_.discrepancies.path; }

private:
  bool open_locked();
  bool rotate_locked();
  void close_locked() noexcept;

  const config::reports cfg_;
  std::mutex mutex_;
  std::FILE* file_ = nullptr; // guarded by mutex_; stdout is never closed
  std::uint64_t file_bytes_ = 0;
  std::atomic<std::uint64_t> lines_written_{0};
  std::atomic<std::uint64_t> write_errors_{0};
};

} // namespace parallax::mirror::report
