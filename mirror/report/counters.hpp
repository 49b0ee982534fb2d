#pragma once
// The proxy-side counts of mirroring, kept in one place: per route and since start, as relaxed
// atomics that the I/O threads (sampled, skipped) and the comparison thread (compared,
// differences, dropped) bump. The metrics text prints them per route; a summary's totals are
// their sums over routes (proxy_totals). Counts of compared exchanges per endpoint are the
// summary's own (summary.hpp): they are windowed and capped, these are monotonic.

#include "mirror/report/record.hpp"
#include "mirror/skip_reason.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parallax::mirror::report {

/// Number of outcomes (report::outcome), the index of compared counts.
inline constexpr std::size_t outcome_count = 3;

/// The difference kinds metrics count by (reports.md `mirror_differences_total` `kind`).
inline constexpr std::array<diff::difference_kind, 3> difference_metrics{
    diff::difference_kind::status, diff::difference_kind::header, diff::difference_kind::body};

/// The index in difference_metrics of the kind that counts `kind`: `body_text` and `body_bytes`
/// differences count as `body`, `grpc_status` as `status` and `trailer` as `header` (the
/// contract's three label values).
[[nodiscard]] std::size_t difference_metric(diff::difference_kind kind) noexcept;

/// What a summary's `totals` take from the proxy, summed over routes: only the proxy sees every
/// exchange, sampling decision and skip (a summary built from logs has none of them).
struct proxy_totals {
  std::uint64_t exchanges = 0;
  std::uint64_t sampled = 0;
  std::array<std::uint64_t, skip_reason_count> skipped{};
  std::uint64_t comparisons_dropped = 0; // the comparison queue was full

  /// The counts since `base` was taken (a report window's start).
  [[nodiscard]] proxy_totals since(const proxy_totals& base) const noexcept {
    proxy_totals out;
    out.exchanges = exchanges - base.exchanges;
    out.sampled = sampled - base.sampled;
    for (std::size_t i = 0; i < skipped.size(); ++i)
      out.skipped[i] = skipped[i] - base.skipped[i];
    out.comparisons_dropped = comparisons_dropped - base.comparisons_dropped;
    return out;
  }
};

/// One route's counters since start. Relaxed atomics: counts, not synchronisation.
struct route_counters {
  std::atomic<std::uint64_t> sampled{0};
  std::array<std::atomic<std::uint64_t>, skip_reason_count> skipped{};
  std::array<std::atomic<std::uint64_t>, outcome_count> compared{}; // by report::outcome
  std::array<std::atomic<std::uint64_t>, difference_metrics.size()> differences{};
  std::atomic<std::uint64_t> dropped{0}; // comparisons skipped: the queue was full

  /// Counts a sampled exchange that is not mirrored.
  void skip(skip_reason reason) noexcept {
    skipped[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  /// Counts a compared exchange: its outcome and each of its differences.
  void count_compared(const record& r) noexcept;
  /// Adds this route's sampled, skipped and dropped counts to `totals`.
  void add_to(proxy_totals& totals) const noexcept;
};

} // namespace parallax::mirror::report
