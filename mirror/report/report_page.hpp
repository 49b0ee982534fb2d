#pragma once
// The report page (docs/report.md "The report page"): one self-contained HTML page for a
// `parallax.summary/v1` document, served by the admin listener at /report.html and written by
// `parallax report --format html`. Per endpoint it shows the differing fields with counts and
// example values live vs shadow side by side (with their record ids), latency p50/p90/p99 live
// vs shadow as bars, and per route its shadow upstream and mirror percent; the endpoint table
// sorts by a click on a column heading and filters by a text box (initially `#filter=TEXT` of
// the URL). No external request of any kind (inline CSS, SVG and script); every value escaped.

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace parallax::mirror::report {

/// A summary as the complete, self-contained report page.
[[nodiscard]] std::string render_html(const boost::json::object& summary);

/// `text` with &, <, >, " and ' replaced by HTML character references.
[[nodiscard]] std::string html_escape(std::string_view text);

} // namespace parallax::mirror::report
