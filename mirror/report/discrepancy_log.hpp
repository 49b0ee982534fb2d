#pragma once
// The discrepancy log (reports.md): one `parallax.discrepancy/v1` JSON object per line, to a
// file rotated by size (`path` -> `path.1` -> ... -> `path.N`, N = keep_files) or to stdout
// when the path is "-".
//
// Lines are buffered and written to the file by flush() (the comparison thread calls it at most
// every 100 ms while records arrive), when 64 KiB are waiting, before a rotation and on close:
// one write(2) per batch, not per line.
//
// Threading: write() serialises without a lock, then takes a mutex to buffer the line, so any
// thread may call it. It does blocking file I/O, so it belongs on a background/report thread,
// never on a proxy I/O thread. Failures are counted (write_errors()), never thrown.

#include "config/config.hpp"
#include "mirror/report/record.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace parallax::mirror::report {

/// Whether a record with outcome `o` belongs in the log (matches only with include_matches).
[[nodiscard]] bool should_write(outcome o, const config::discrepancy_log& cfg) noexcept;

/// Why a report path of `cfg` cannot be written (`reports.discrepancies.path: cannot write
/// PATH: REASON`), or nothing when each can: the discrepancy log is opened for appending
/// (created when missing), the summary file's temporary sibling is created and removed. Checked
/// when a configuration is applied (start, reload), so records are never lost silently.
[[nodiscard]] std::optional<std::string> report_path_problem(const config::reports& cfg);

/// A size-rotated JSON Lines sink for discrepancy records.
class discrepancy_log {
public:
  /// Prepares the sink; the file is opened (appending) on the first write.
  explicit discrepancy_log(config::reports cfg);
  /// Writes what is buffered and closes the file.
  ~discrepancy_log();

  discrepancy_log(const discrepancy_log&) = delete;
  discrepancy_log& operator=(const discrepancy_log&) = delete;

  /// Serialises `r` (redacted and excerpted per the configuration) and buffers it as one
  /// line; false when it could not be (counted in write_errors()). A batch that later fails
  /// to reach the file is counted there too, every line of it.
  bool write(const record& r);

  /// Buffers one already serialised JSON object as a line (no newline inside), rotating first
  /// when the line would take the file past max_file_bytes; false on failure (counted).
  bool write_line(std::string_view json_line);

  /// Writes buffered lines to the operating system.
  void flush();

  /// Buffered lines are written once this many bytes are waiting.
  static constexpr std::size_t flush_bytes = 64 * 1024;
  /// Scratch and buffer capacity kept between batches; a larger one (a huge record) is freed.
  static constexpr std::size_t keep_bytes = 4 * flush_bytes;

  /// Lines written to the operating system since construction.
  [[nodiscard]] std::uint64_t lines_written() const noexcept {
    return lines_written_.load(std::memory_order_relaxed);
  }
  /// Lines lost to open, rotate or write failures since construction.
  [[nodiscard]] std::uint64_t write_errors() const noexcept {
    return write_errors_.load(std::memory_order_relaxed);
  }

private:
  bool flush_locked() noexcept;
  bool open_locked();
  bool rotate_locked();
  void close_locked() noexcept;                              // flushes, then releases
  void lost_locked(std::uint64_t lines, int error) noexcept; // counts, and logs now and then
  void release_locked() noexcept; // closes the file without writing what is buffered

  const config::reports cfg_;
  std::mutex mutex_;
  std::FILE* file_ = nullptr;    // guarded by mutex_; stdout is never closed
  std::uint64_t file_bytes_ = 0; // including the lines in pending_
  std::string pending_;          // lines not yet written to file_
  std::uint64_t pending_lines_ = 0;
  std::atomic<std::uint64_t> lines_written_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::chrono::steady_clock::time_point last_loss_log_{}; // guarded by mutex_
  std::uint64_t unlogged_losses_ = 0;                     // guarded by mutex_
};

} // namespace parallax::mirror::report
