#include "mirror/metrics_text.hpp"

#include "mirror/route_state.hpp"

#include <fmt/format.h>

namespace parallax::mirror {

void append_mirror_metrics(std::string& out,
                           const std::vector<std::unique_ptr<route_state>>& routes) {
  using proxy::server::escape_label;
  const auto each = [&](auto&& f) {
    for (const auto& r : routes)
      if (r) f(*r, escape_label(r->name));
  };
  out += "# HELP parallax_mirror_sampled_total Exchanges the sampler chose for mirroring.\n";
  out += "# TYPE parallax_mirror_sampled_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    out += fmt::format("parallax_mirror_sampled_total{{route=\"{}\"}} {}\n", l,
                       r.sampled.load(std::memory_order_relaxed));
  });
  out += "# HELP parallax_mirror_skipped_total Sampled exchanges not mirrored, by reason.\n";
  out += "# TYPE parallax_mirror_skipped_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    for (std::size_t i = 0; i < report::skip_reason_count; ++i) {
      out += fmt::format("parallax_mirror_skipped_total{{route=\"{}\",reason=\"{}\"}} {}\n", l,
                         report::to_string(static_cast<report::skip_reason>(i)),
                         r.skipped[i].load(std::memory_order_relaxed));
    }
  });
  out += "# HELP parallax_mirror_compared_total Compared exchanges, by outcome.\n";
  out += "# TYPE parallax_mirror_compared_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    for (std::size_t i = 0; i < report::outcome_count; ++i) {
      out += fmt::format("parallax_mirror_compared_total{{route=\"{}\",outcome=\"{}\"}} {}\n", l,
                         report::to_string(static_cast<report::outcome>(i)),
                         r.compared[i].load(std::memory_order_relaxed));
    }
  });
  out += "# HELP parallax_mirror_differences_total Differences found, by kind.\n";
  out += "# TYPE parallax_mirror_differences_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    for (std::size_t i = 0; i < report::difference_metric_count; ++i) {
      out += fmt::format("parallax_mirror_differences_total{{route=\"{}\",kind=\"{}\"}} {}\n", l,
                         report::to_string(static_cast<report::difference_metric>(i)),
                         r.differences[i].load(std::memory_order_relaxed));
    }
  });
  out += "# HELP parallax_mirror_inflight Mirrored exchanges in flight.\n";
  out += "# TYPE parallax_mirror_inflight gauge\n";
  each([&](const route_state& r, const std::string& l) {
    out += fmt::format("parallax_mirror_inflight{{route=\"{}\"}} {}\n", l,
                       r.inflight.load(std::memory_order_relaxed));
  });
  out += "# HELP parallax_mirror_shadow_duration_seconds Shadow request to response end.\n";
  out += "# TYPE parallax_mirror_shadow_duration_seconds histogram\n";
  each([&](const route_state& r, const std::string& l) {
    r.shadow_duration.render(out, "parallax_mirror_shadow_duration_seconds",
                             fmt::format("route=\"{}\"", l));
  });
  out += "# HELP parallax_mirror_comparisons_dropped_total Mirrored exchanges not compared "
         "because the comparison queue was full.\n";
  out += "# TYPE parallax_mirror_comparisons_dropped_total counter\n";
  each([&](const route_state& r, const std::string& l) {
    out += fmt::format("parallax_mirror_comparisons_dropped_total{{route=\"{}\"}} {}\n", l,
                       r.dropped.load(std::memory_order_relaxed));
  });
}

} // namespace parallax::mirror
