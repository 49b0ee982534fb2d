#pragma once
// `parallax report` input (proxy.md): discrepancy log files - one or many, e.g. one per pod,
// current and rotated (`x.jsonl.3`), plain or gzip-compressed, in any order - aggregated into
// one `parallax.summary/v1` summary. A log holds only compared exchanges, so the summary
// marks exchanges, sampled and skipped as unknown instead of inventing them.

#include "mirror/report/summary.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax::mirror::report {

/// Options of a log aggregation.
struct aggregate_options {
  double regression_ratio = 0; // latency_regression threshold for every endpoint; 0 = off
  std::size_t max_endpoints = 1000;
  std::size_t top_differences = 10;
};

/// The outcome of aggregate_logs(): a summary, or the first error.
struct aggregate_result {
  boost::json::object summary;     // `parallax.summary/v1`; empty on error
  std::string error;               // "FILE:LINE: message" or "FILE: message"; empty on success
  std::uint64_t files = 0;         // files read
  std::uint64_t records = 0;       // records aggregated
  std::uint64_t skipped_lines = 0; // lines that are not records (other log lines), skipped
  /// Whether every file was read.
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// Reads every record of every file (gzip detected by content, so `.gz` or not; `-` is standard
/// input) and summarises them. Blank lines are skipped; lines that do not claim the record
/// schema are skipped and counted (`skipped_lines` in the summary, and its note); the first
/// unreadable file or malformed record stops it with an error naming the file and line. The
/// window is the first to the last record time.
[[nodiscard]] aggregate_result aggregate_logs(const std::vector<std::string>& paths,
                                              const aggregate_options& options = {});

} // namespace parallax::mirror::report
