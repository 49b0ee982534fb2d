#pragma once
// Renderings of a `parallax.summary/v1` document for people and scripts: a terminal table
// (text), Markdown tables, the report page (HTML, report_page.hpp) and JSON. Renderers read the
// document defensively: a missing or null field shows as unknown, never as a crash.

#include "mirror/report/report_page.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace parallax::mirror::report {

/// An output format of `parallax report --format`.
enum class report_format { text, markdown, html, json };

/// The format named `name` (`text`, `markdown`, `html`, `json`), if it is one.
[[nodiscard]] std::optional<report_format> parse_report_format(std::string_view name) noexcept;

/// A summary as a table a person scans in a terminal.
[[nodiscard]] std::string render_text(const boost::json::object& summary);

/// A summary as Markdown (a totals table, an endpoint table, top differences per endpoint).
[[nodiscard]] std::string render_markdown(const boost::json::object& summary);

/// A summary as JSON: indented by two spaces when `pretty`, else one line; ends in a newline.
[[nodiscard]] std::string render_json(const boost::json::object& summary, bool pretty = true);

/// A summary in `format` (JSON pretty-printed).
[[nodiscard]] std::string render(const boost::json::object& summary, report_format format);

} // namespace parallax::mirror::report
