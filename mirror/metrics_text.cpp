#include "mirror/metrics_text.hpp"

#include "mirror/route_state.hpp"

#include <fmt/format.h>

#include <string_view>

namespace parallax::mirror {
namespace {

using route_list = std::vector<std::shared_ptr<route_state>>;

// One metric family: its HELP and TYPE lines, then `samples(route, label)` for each mirrored
// route, `label` being the route name escaped as a label value.
template <typename Samples>
void family(std::string& out, const route_list& routes, std::string_view name,
            std::string_view type, std::string_view help, Samples&& samples) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  for (const auto& r : routes) {
    if (r) samples(*r, proxy::server::escape_label(r->name));
  }
}

// A sample labelled by route only.
template <typename Value>
void sample(std::string& out, std::string_view name, const std::string& route, Value value) {
  out += fmt::format("{}{{route=\"{}\"}} {}\n", name, route, value);
}

// One sample per counter of `values`, labelled by route and `label` = label_of(index).
template <std::size_t N, typename LabelOf>
void samples(std::string& out, std::string_view name, const std::string& route,
             std::string_view label, const std::array<std::atomic<std::uint64_t>, N>& values,
             LabelOf&& label_of) {
  for (std::size_t i = 0; i < N; ++i) {
    out += fmt::format("{}{{route=\"{}\",{}=\"{}\"}} {}\n", name, route, label, label_of(i),
                       values[i].load(std::memory_order_relaxed));
  }
}

} // namespace

void append_mirror_metrics(std::string& out, const route_list& routes) {
  constexpr auto relaxed = std::memory_order_relaxed;
  constexpr std::string_view sampled = "parallax_mirror_sampled_total";
  family(out, routes, sampled, "counter", "Exchanges the sampler chose for mirroring.",
         [&](const route_state& r, const std::string& l) {
           sample(out, sampled, l, r.stats->sampled.load(relaxed));
         });
  constexpr std::string_view skipped = "parallax_mirror_skipped_total";
  family(out, routes, skipped, "counter", "Sampled exchanges not mirrored, by reason.",
         [&](const route_state& r, const std::string& l) {
           samples(out, skipped, l, "reason", r.stats->skipped,
                   [](std::size_t i) { return to_string(static_cast<skip_reason>(i)); });
         });
  constexpr std::string_view compared = "parallax_mirror_compared_total";
  family(out, routes, compared, "counter", "Compared exchanges, by outcome.",
         [&](const route_state& r, const std::string& l) {
           samples(out, compared, l, "outcome", r.stats->compared, [](std::size_t i) {
             return report::to_string(static_cast<report::outcome>(i));
           });
         });
  constexpr std::string_view differences = "parallax_mirror_differences_total";
  family(out, routes, differences, "counter", "Differences found, by kind.",
         [&](const route_state& r, const std::string& l) {
           samples(out, differences, l, "kind", r.stats->differences,
                   [](std::size_t i) { return diff::to_string(report::difference_metrics[i]); });
         });
  constexpr std::string_view inflight = "parallax_mirror_inflight";
  family(out, routes, inflight, "gauge", "Mirrored exchanges in flight.",
         [&](const route_state& r, const std::string& l) {
           sample(out, inflight, l, r.stats->inflight.load(relaxed));
         });
  constexpr std::string_view percent = "parallax_mirror_percent";
  family(out, routes, percent, "gauge",
         "Percent of the route's exchanges sampled for mirroring, runtime overrides included (0 "
         "while paused).",
         [&](const route_state& r, const std::string& l) {
           sample(out, percent, l, r.effective_percent());
         });
  family(out, routes, "parallax_mirror_shadow_duration_seconds", "histogram",
         "Shadow request to response end.", [&](const route_state& r, const std::string& l) {
           r.stats->shadow_duration.render(out, "parallax_mirror_shadow_duration_seconds",
                                           fmt::format("route=\"{}\"", l));
         });
  family(out, routes, "parallax_mirror_live_duration_seconds", "histogram",
         "The live leg of mirrored exchanges, measured like the shadow leg.",
         [&](const route_state& r, const std::string& l) {
           r.stats->live_duration.render(out, "parallax_mirror_live_duration_seconds",
                                         fmt::format("route=\"{}\"", l));
         });
  constexpr std::string_view dropped = "parallax_mirror_comparisons_dropped_total";
  family(out, routes, dropped, "counter",
         "Mirrored exchanges not compared because the comparison queue was full.",
         [&](const route_state& r, const std::string& l) {
           sample(out, dropped, l, r.stats->dropped.load(relaxed));
         });
}

} // namespace parallax::mirror
