#include "mirror/report/counters.hpp"

namespace parallax::mirror::report {

std::size_t difference_metric(diff::difference_kind kind) noexcept {
  switch (kind) { // indices into difference_metrics
  case diff::difference_kind::status:
  case diff::difference_kind::grpc_status: return 0;
  case diff::difference_kind::header:
  case diff::difference_kind::trailer: return 1;
  case diff::difference_kind::body:
  case diff::difference_kind::body_text:
  case diff::difference_kind::body_bytes: return 2;
  }
  return 2;
}

void route_counters::count_compared(const record& r) noexcept {
  compared[static_cast<std::size_t>(r.outcome)].fetch_add(1, std::memory_order_relaxed);
  for (const auto& d : r.differences) {
    differences[difference_metric(d.kind)].fetch_add(1, std::memory_order_relaxed);
  }
}

void route_counters::add_to(proxy_totals& totals) const noexcept {
  totals.sampled += sampled.load(std::memory_order_relaxed);
  totals.comparisons_dropped += dropped.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < skip_reason_count; ++i)
    totals.skipped[i] += skipped[i].load(std::memory_order_relaxed);
}

} // namespace parallax::mirror::report
