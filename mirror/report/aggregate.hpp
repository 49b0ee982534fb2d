#pragma once
// `parallax report` inputs (reports.md "inputs and the gate", docs/report.md), freely mixed and
// in any order, aggregated into one `parallax.summary/v1` summary: discrepancy log files (e.g.
// one per pod, current and rotated `x.jsonl.3`, plain or gzip-compressed), summary files
// (`reports.summary.path`; counts add, latency histograms merge), `-` for standard input (either
// kind) and `http://HOST:PORT` (a running parallax's admin /report). A log holds only compared
// exchanges, so unless every input carries the proxy's totals the summary marks exchanges,
// sampled and skipped as unknown instead of inventing them. Inputs simply add: a log and a
// summary of the same pod and window count its exchanges twice.

#include "mirror/report/summary.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::report {

/// Options of a log aggregation.
struct aggregate_options {
  double regression_ratio = 0; // latency_regression threshold for every endpoint; 0 = off
  std::size_t max_endpoints = 1000;
  std::size_t top_differences = 10;
  /// GETs `url` (an http:// input's report_url()) into `body`; false with `error` saying why.
  /// Without it an http:// input is an error. (The HTTP client lives with the proxy, outside
  /// this Asio-free library.)
  std::function<bool(const std::string& url, std::string& body, std::string& error)> fetch;
};

/// The outcome of aggregate_inputs(): a summary, or the first error.
struct aggregate_result {
  boost::json::object summary;     // `parallax.summary/v1`; empty on error
  std::string error;               // "FILE:LINE: message" or "FILE: message"; empty on success
  std::uint64_t files = 0;         // files read (logs and summaries)
  std::uint64_t summaries = 0;     // summary documents merged (files, standard input, URLs)
  std::uint64_t records = 0;       // records aggregated
  std::uint64_t skipped_lines = 0; // lines that are not records (other log lines), skipped
  /// Whether every file was read.
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// Reads every input and summarises them. A file (gzip detected by content, so `.gz` or not;
/// `-` is standard input) is a summary when its first non-blank line is `{` alone (pretty JSON)
/// or claims the summary schema and not the record schema; else a log. In a log, blank lines
/// are skipped; lines that do not claim the record schema are skipped and counted
/// (`skipped_lines` in the summary, and its note). The first unreadable input, malformed record
/// or summary stops it with an error naming the input (and the line in a log). The window runs
/// from the earliest record time or summary `since` to the latest record time or `until`.
[[nodiscard]] aggregate_result aggregate_inputs(const std::vector<std::string>& inputs,
                                                const aggregate_options& options = {});

/// Whether `input` is a URL (`http://...`; `https://...` too, which the fetcher refuses)
/// rather than a file.
[[nodiscard]] bool is_url_input(std::string_view input) noexcept;

/// What an http:// input GETs: the URL itself when it has a path, else its /report.
[[nodiscard]] std::string report_url(std::string_view input);

} // namespace parallax::mirror::report
