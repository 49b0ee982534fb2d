#include "mirror/report/format.hpp"

#include "mirror/report/json_text.hpp"
#include "mirror/report/summary_view.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <vector>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using namespace view; // NOLINT: the document readers are this file's vocabulary

// `text` broken at spaces into lines of at most `width` characters, each after `prefix`.
std::string wrapped(std::string_view text, std::string_view prefix, std::size_t width) {
  std::string out;
  std::string line(prefix);
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const auto word = text.substr(start, end - start);
    if (line.size() > prefix.size() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.assign(prefix.size(), ' ');
    }
    if (line.size() > prefix.size()) line += ' ';
    line += word;
    start = end + 1;
  }
  return out + line + "\n";
}

std::size_t display_width(std::string_view s) {
  // Count UTF-8 code points, not bytes, so non-ASCII endpoint names keep columns aligned.
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '|': out += "\\|"; break;
    case '\\': out += "\\\\"; break;
    case '`': out += "\\`"; break;
    case '*': out += "\\*"; break;
    case '_': out += "\\_"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '\n':
    case '\r': out += ' '; break;
    default: out += c;
    }
  }
  return out;
}

void markdown_table(std::string& out, const std::vector<std::string>& header,
                    const std::vector<std::vector<std::string>>& rows) {
  out += "|";
  for (const auto& h : header)
    out += " " + markdown_cell(h) + " |";
  out += "\n|";
  for (std::size_t i = 0; i < header.size(); ++i)
    out += i < 2 ? "---|" : "---:|";
  out += "\n";
  for (const auto& row : rows) {
    out += "|";
    for (const auto& cell : row)
      out += " " + markdown_cell(cell) + " |";
    out += "\n";
  }
}

// "LIVE -> SHADOW" (JSON text; a missing side as "-") of a difference's first example, or empty.
std::string example_pair(const json::object& d) {
  const auto& examples = array_at(d, "examples");
  if (examples.empty() || !examples.front().is_object()) return {};
  const auto& x = examples.front().get_object();
  const auto side = [&](std::string_view key) {
    const auto* v = x.if_contains(key);
    return v == nullptr ? std::string("-") : serialize_json(*v);
  };
  return side("live") + " -> " + side("shadow");
}

} // namespace

std::optional<report_format> parse_report_format(std::string_view name) noexcept {
  if (name == "text") return report_format::text;
  if (name == "markdown" || name == "md") return report_format::markdown;
  if (name == "html") return report_format::html;
  if (name == "json") return report_format::json;
  return std::nullopt;
}

std::string render_text(const json::object& s) {
  std::string out = "parallax report  " + window_text(s) + "\n";
  if (s.contains("note")) out += wrapped(string_at(s, "note"), "note: ", 96);
  out += "\ntotals:";
  for (const auto& [name, value] : totals_pairs(s))
    out.append("  ").append(name).append(" ").append(value);
  out += "\nskipped:";
  const auto skipped = skipped_pairs(s);
  if (skipped.empty()) out += " ?";
  for (const auto& [reason, value] : skipped)
    out.append("  ").append(reason).append(" ").append(value);
  out += "\n\n";

  const auto& endpoints = array_at(s, "endpoints");
  if (endpoints.empty()) {
    out += "no compared exchanges\n";
    return out;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : endpoints) {
    if (v.is_object()) rows.push_back(endpoint_row(v.get_object()));
  }
  const auto columns = endpoint_columns();
  std::vector<std::size_t> widths(columns.size());
  for (std::size_t i = 0; i < widths.size(); ++i) {
    widths[i] = display_width(columns[i]);
    for (const auto& row : rows)
      widths[i] = std::max(widths[i], display_width(row[i]));
  }
  const auto emit_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::size_t gap = widths[i] - display_width(row[i]);
      if (i < 2)
        line += row[i] + std::string(gap, ' '); // left-aligned text
      else if (i + 1 < row.size())
        line += std::string(gap, ' ') + row[i]; // right-aligned
      else
        line += row[i];
      if (i + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  };
  emit_row(columns);
  for (const auto& row : rows)
    emit_row(row);

  bool heading = false;
  for (const auto& v : endpoints) {
    if (!v.is_object()) continue;
    const auto& e = v.get_object();
    const auto& differences = array_at(e, "differences");
    const auto errors = shadow_errors_text(e);
    if (differences.empty() && errors.empty()) continue;
    if (!heading) out += "\ntop differences:\n";
    heading = true;
    out += "  " + string_at(e, "endpoint") + "\n";
    for (const auto& d : differences) {
      if (!d.is_object()) continue;
      out += printf_double("    %8.0f  ", number_at(d.get_object(), "count").value_or(0));
      const auto example = example_pair(d.get_object());
      out += difference_text(d.get_object()) + (example.empty() ? "" : "  e.g. " + example) + "\n";
    }
    if (const auto more = number_at(e, "other_differences")) {
      out += printf_double("    %8.0f  ", *more) + "(other differences not tracked)\n";
    }
    if (!errors.empty()) out += "    shadow errors: " + errors + "\n";
    const auto& examples = array_at(e, "examples");
    if (!examples.empty()) {
      std::string ids;
      for (const auto& id : examples) {
        if (!ids.empty()) ids += ' ';
        ids += id.is_string() ? std::string(id.get_string()) : "?";
      }
      out += wrapped(ids, "    examples: ", 100);
    }
  }
  return out;
}

std::string render_markdown(const json::object& s) {
  std::string out = "# parallax report\n\n" + markdown_cell(window_text(s)) + "\n\n";
  if (s.contains("note")) out += "> " + markdown_cell(string_at(s, "note")) + "\n\n";
  out += "## Totals\n\n";
  std::vector<std::string> header;
  std::vector<std::string> values;
  for (auto& [name, value] : all_totals(s)) {
    header.push_back(name);
    values.push_back(value);
  }
  markdown_table(out, header, {values});
  out += "\n## Endpoints\n\n";
  std::vector<std::vector<std::string>> rows;
  const auto& endpoints = array_at(s, "endpoints");
  for (const auto& v : endpoints) {
    if (v.is_object()) rows.push_back(endpoint_row(v.get_object()));
  }
  auto columns = endpoint_columns();
  columns.back() = "FLAGS";
  markdown_table(out, columns, rows);
  for (const auto& v : endpoints) {
    if (!v.is_object()) continue;
    const auto& e = v.get_object();
    const auto& differences = array_at(e, "differences");
    if (differences.empty()) continue;
    out += "\n### " + markdown_cell(string_at(e, "endpoint")) + "\n\n";
    std::vector<std::vector<std::string>> diff_rows;
    for (const auto& d : differences) {
      if (!d.is_object()) continue;
      diff_rows.push_back({difference_text(d.get_object()), count_text(d.get_object(), "count"),
                           example_pair(d.get_object())});
    }
    markdown_table(out, {"difference", "count", "example (live -> shadow)"}, diff_rows);
    if (const auto errors = shadow_errors_text(e); !errors.empty()) {
      out += "\nShadow errors: " + markdown_cell(errors) + "\n";
    }
  }
  return out;
}

std::string render_json(const json::object& summary, bool pretty) {
  std::string out;
  append_json(out, summary, pretty);
  out += "\n";
  return out;
}

std::string render(const json::object& summary, report_format format) {
  switch (format) {
  case report_format::text: return render_text(summary);
  case report_format::markdown: return render_markdown(summary);
  case report_format::html: return render_html(summary);
  case report_format::json: return render_json(summary, true);
  }
  return render_text(summary);
}

} // namespace parallax::mirror::report
