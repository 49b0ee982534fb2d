#include "mirror/report/discrepancy_log.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

namespace parallax::mirror::report {
namespace {

namespace fs = std::filesystem;

std::string rotated_name(const std::string& path, std::uint32_t n) {
  return path + "." + std::to_string(n);
}

} // namespace

bool should_write(outcome o, const config::discrepancy_log& cfg) noexcept {
  return o != outcome::match || cfg.include_matches;
}

std::optional<std::string> report_path_problem(const config::reports& cfg) {
  const auto cannot = [](const char* key, const std::string& path) {
    return std::string(key) + ": cannot write " + path + ": " + std::strerror(errno);
  };
  const auto& log = cfg.discrepancies.path;
  if (log != "-") {
    std::FILE* f = std::fopen(log.c_str(), "ab");
    if (f == nullptr) return cannot("reports.discrepancies.path", log);
    std::fclose(f);
  }
  const auto& summary = cfg.summary.path;
  if (!summary.empty()) {
    const auto tmp = summary + ".tmp"; // write_summary_file writes this, then renames it
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) return cannot("reports.summary.path", summary);
    std::fclose(f);
    std::error_code ignored;
    fs::remove(tmp, ignored);
  }
  return std::nullopt;
}

discrepancy_log::discrepancy_log(config::reports cfg) : cfg_(std::move(cfg)) {}

void discrepancy_log::lost_locked(std::uint64_t lines, int error) noexcept {
  write_errors_.fetch_add(lines, std::memory_order_relaxed);
  // Logged at most every 10 s (a full disk would otherwise log a line per record), with what
  // was lost since the last line; the metric counts every one.
  unlogged_losses_ += lines;
  const auto now = std::chrono::steady_clock::now();
  if (last_loss_log_ != std::chrono::steady_clock::time_point{} &&
      now - last_loss_log_ < std::chrono::seconds(10)) {
    return;
  }
  last_loss_log_ = now;
  try {
    spdlog::error("discrepancy log {}: {} record(s) could not be written ({}); {} lost since "
                  "start (parallax_report_write_errors_total{{sink=\"discrepancies\"}})",
                  cfg_.discrepancies.path, unlogged_losses_,
                  error != 0 ? std::strerror(error) : "no space for the line",
                  write_errors_.load(std::memory_order_relaxed));
  } catch (...) { // logging must not turn a lost record into a lost process
  }
  unlogged_losses_ = 0;
}

discrepancy_log::~discrepancy_log() {
  const std::lock_guard lock(mutex_);
  close_locked();
}

bool discrepancy_log::write(const record& r) {
  thread_local std::string line; // keeps its capacity from one record to the next
  line.clear();
  try {
    append_json_line(line, r, cfg_);
  } catch (const std::exception&) { // allocation failure: drop the line, keep running
    const std::lock_guard lock(mutex_);
    lost_locked(1, 0);
    return false;
  }
  const bool ok = write_line(line);
  if (line.capacity() > keep_bytes) std::string().swap(line); // one huge record: give it back
  return ok;
}

bool discrepancy_log::write_line(std::string_view json_line) {
  const std::lock_guard lock(mutex_);
  const std::uint64_t size = json_line.size() + 1;
  const bool to_stdout = cfg_.discrepancies.path == "-";
  if (file_ == nullptr && !open_locked()) {
    lost_locked(1, errno);
    return false;
  }
  // Rotate when this line would take a non-empty file past the limit (a single line larger
  // than the limit still goes into a file of its own).
  if (!to_stdout && file_bytes_ > 0 && file_bytes_ + size > cfg_.discrepancies.max_file_bytes &&
      !rotate_locked()) {
    lost_locked(1, errno);
    return false;
  }
  const auto mark = pending_.size();
  try {
    pending_.append(json_line);
    pending_ += '\n';
  } catch (const std::exception&) { // no memory for the buffer: drop this line only
    pending_.resize(mark);
    lost_locked(1, 0);
    return false;
  }
  ++pending_lines_;
  file_bytes_ += size;
  return pending_.size() < flush_bytes || flush_locked();
}

void discrepancy_log::flush() {
  const std::lock_guard lock(mutex_);
  flush_locked();
}

bool discrepancy_log::flush_locked() noexcept {
  if (pending_.empty()) return true;
  const bool ok = file_ != nullptr &&
                  std::fwrite(pending_.data(), 1, pending_.size(), file_) == pending_.size() &&
                  std::fflush(file_) == 0;
  const auto lines = std::exchange(pending_lines_, 0);
  pending_.clear();
  if (pending_.capacity() > keep_bytes) std::string().swap(pending_);
  if (ok) {
    lines_written_.fetch_add(lines, std::memory_order_relaxed);
    return true;
  }
  // A failed write may have left part of a line: the file is reopened for the next batch,
  // which then starts on a fresh line (open_locked), so a reader reports only the broken one.
  // Every line of the failed batch is counted as lost, also any the kernel took in part.
  lost_locked(lines, errno);
  if (file_ != nullptr) std::clearerr(file_);
  release_locked();
  return false;
}

bool discrepancy_log::open_locked() {
  const auto& path = cfg_.discrepancies.path;
  if (path == "-") {
    file_ = stdout;
    file_bytes_ = 0;
    return true;
  }
  file_ = std::fopen(path.c_str(), "a+b"); // appends; readable for the check below
  if (file_ == nullptr) return false;
  std::error_code ec;
  const auto existing = fs::file_size(path, ec);
  file_bytes_ = ec ? 0 : existing;
  // A file whose last line was cut short (a crash, a full disk) gets a newline first, so the
  // next record starts a line of its own and a reader reports only the broken one.
  if (file_bytes_ > 0 && std::fseek(file_, -1, SEEK_END) == 0 && std::fgetc(file_) != '\n') {
    pending_ += '\n';
    ++file_bytes_;
  }
  return true;
}

bool discrepancy_log::rotate_locked() {
  close_locked();
  const auto& path = cfg_.discrepancies.path;
  const std::uint32_t keep = cfg_.discrepancies.keep_files;
  std::error_code ec;
  if (keep == 0) {
    fs::remove(path, ec);
    return !ec && open_locked();
  }
  fs::remove(rotated_name(path, keep), ec);
  for (std::uint32_t n = keep; n > 1; --n) {
    const auto from = rotated_name(path, n - 1);
    if (fs::exists(from, ec)) fs::rename(from, rotated_name(path, n), ec);
  }
  fs::rename(path, rotated_name(path, 1), ec);
  if (ec) return false;
  return open_locked();
}

void discrepancy_log::close_locked() noexcept {
  flush_locked();
  release_locked();
}

void discrepancy_log::release_locked() noexcept {
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
  if (file_ == stdout) std::fflush(stdout);
  file_ = nullptr;
  file_bytes_ = 0;
}

} // namespace parallax::mirror::report
