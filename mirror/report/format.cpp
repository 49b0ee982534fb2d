#include "mirror/report/format.hpp"

#include "mirror/report/json_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <vector>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;

const json::object empty_object;
const json::array empty_array;

const json::object& object_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : empty_object;
}

const json::array& array_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? v->get_array() : empty_array;
}

std::optional<double> number_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return std::nullopt;
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (const auto* s = v->if_string()) return std::string(*s);
  return serialize_json(*v);
}

bool bool_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

std::string printf_double(const char* pattern, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, v);
  return buffer;
}

// A count, or "?" when unknown.
std::string count_text(const json::object& o, std::string_view key) {
  const auto v = number_at(o, key);
  if (!v) return "?";
  return printf_double("%.0f", *v);
}

std::string percent_text(const json::object& o, std::string_view key) {
  const auto v = number_at(o, key);
  return v ? printf_double("%.2f%%", *v * 100.0) : "n/a";
}

std::string ms_text(std::optional<double> v) {
  if (!v) return "-";
  return printf_double(*v >= 100 ? "%.0f ms" : "%.2f ms", *v);
}

std::optional<double> p99(const json::object& endpoint, std::string_view side) {
  return number_at(object_at(object_at(endpoint, "latency_ms"), side), "p99");
}

// A count read back from a summary: negative or NaN reads as 0, never cast out of range.
std::uint64_t error_count(const json::object& endpoint) {
  const double n = number_at(endpoint, "shadow_error").value_or(0);
  if (!(n >= 0)) return 0;
  constexpr double limit = 18446744073709551615.0; // 2^64, the first value no uint64_t holds
  return n < limit ? static_cast<std::uint64_t>(n) : std::numeric_limits<std::uint64_t>::max();
}

// "body /user/name", "header content-type", "status 200 -> 500", "body_text", ...
std::string difference_text(const json::object& d) {
  std::string text = string_at(d, "kind");
  if (d.contains("path")) text += " " + string_at(d, "path");
  if (d.contains("name")) text += " " + string_at(d, "name");
  if (text == "status") text += " " + string_at(d, "live") + " -> " + string_at(d, "shadow");
  if (bool_at(d, "noise")) text += " (noise)";
  return text;
}

std::string shadow_errors_text(const json::object& endpoint) {
  std::string text;
  for (const auto& [kind, n] : object_at(endpoint, "shadow_errors")) {
    if (!text.empty()) text += ", ";
    text += std::string(kind) + " " + (n.is_number() ? serialize_json(n) : "?");
  }
  return text;
}

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

std::string window_text(const json::object& s) {
  return string_at(s, "since") + " .. " + string_at(s, "until");
}

// Totals as "name value" pairs in document order, unknown ones as "?".
std::vector<std::pair<std::string, std::string>> totals_pairs(const json::object& s) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto& totals = object_at(s, "totals");
  for (const char* key : {"exchanges", "sampled", "compared", "match", "differ", "shadow_error"}) {
    out.emplace_back(key, count_text(totals, key));
  }
  return out;
}

// Skip counts as "reason value" pairs; empty when unknown (not an object).
std::vector<std::pair<std::string, std::string>> skipped_pairs(const json::object& s) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto* skipped = object_at(s, "totals").if_contains("skipped");
  if (skipped == nullptr || !skipped->is_object()) return out;
  for (const auto& [reason, n] : skipped->get_object()) {
    out.emplace_back(std::string(reason), n.is_number() ? serialize_json(n) : "?");
  }
  return out;
}

// Totals and skip counts in one list, for the markdown and html tables.
std::vector<std::pair<std::string, std::string>> all_totals(const json::object& s) {
  auto out = totals_pairs(s);
  const auto skipped = skipped_pairs(s);
  if (skipped.empty()) out.emplace_back("skipped", "?");
  for (const auto& [reason, n] : skipped)
    out.emplace_back("skipped " + reason, n);
  return out;
}

// One endpoint row of the text/markdown/html tables.
std::vector<std::string> endpoint_row(const json::object& e) {
  std::string flags;
  if (bool_at(e, "latency_regression")) flags = "LATENCY REGRESSION";
  return {string_at(e, "endpoint"), string_at(e, "route"),        count_text(e, "compared"),
          count_text(e, "differ"),  percent_text(e, "diff_rate"), std::to_string(error_count(e)),
          ms_text(p99(e, "live")),  ms_text(p99(e, "shadow")),    flags};
}

// The endpoint table's column headings (the last one, flags, has none in text).
std::vector<std::string> endpoint_columns() {
  return {"ENDPOINT", "ROUTE",    "COMPARED",   "DIFFER", "DIFF RATE",
          "ERRORS",   "P99 LIVE", "P99 SHADOW", ""};
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

} // namespace

std::optional<report_format> parse_report_format(std::string_view name) noexcept {
  if (name == "text") return report_format::text;
  if (name == "markdown" || name == "md") return report_format::markdown;
  if (name == "html") return report_format::html;
  if (name == "json") return report_format::json;
  return std::nullopt;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
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
      out += difference_text(d.get_object()) + "\n";
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
      diff_rows.push_back({difference_text(d.get_object()), count_text(d.get_object(), "count")});
    }
    markdown_table(out, {"difference", "count"}, diff_rows);
    if (const auto errors = shadow_errors_text(e); !errors.empty()) {
      out += "\nShadow errors: " + markdown_cell(errors) + "\n";
    }
  }
  return out;
}

std::string render_html(const json::object& s) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<title>parallax report</title>\n<style>\n"
                    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
                    "table{border-collapse:collapse;margin:1em 0}\n"
                    "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}\n"
                    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
                    "th{background:#f3f3f3}\n.flag{color:#b00020;font-weight:bold}\n"
                    ".note{background:#fff8e1;padding:8px;border-left:4px solid #f0b400}\n"
                    "</style>\n</head>\n<body>\n<h1>parallax report</h1>\n";
  out += "<p>" + html_escape(window_text(s)) + "</p>\n";
  if (s.contains("note"))
    out += "<p class=\"note\">" + html_escape(string_at(s, "note")) + "</p>\n";
  out += "<h2>Totals</h2>\n<table>\n<tr>";
  const auto totals = all_totals(s);
  for (const auto& [name, value] : totals)
    out += "<th>" + html_escape(name) + "</th>";
  out += "</tr>\n<tr>";
  for (const auto& [name, value] : totals)
    out += "<td class=\"n\">" + html_escape(value) + "</td>";
  out += "</tr>\n</table>\n<h2>Endpoints</h2>\n<table>\n<tr>";
  const auto columns = endpoint_columns();
  for (std::size_t i = 0; i + 1 < columns.size(); ++i) {
    out += "<th>" + html_escape(columns[i]) + "</th>";
  }
  out += "<th>top differences</th></tr>\n";
  for (const auto& v : array_at(s, "endpoints")) {
    if (!v.is_object()) continue;
    const auto& e = v.get_object();
    const auto row = endpoint_row(e);
    out += "<tr>";
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {
      out += i < 2 ? "<td>" : "<td class=\"n\">";
      out += html_escape(row[i]) + "</td>";
    }
    out += "<td>";
    if (!row.back().empty()) out += "<div class=\"flag\">" + html_escape(row.back()) + "</div>";
    for (const auto& d : array_at(e, "differences")) {
      if (!d.is_object()) continue;
      out += "<div>" + html_escape(count_text(d.get_object(), "count")) + " &times; " +
             html_escape(difference_text(d.get_object())) + "</div>";
    }
    if (const auto errors = shadow_errors_text(e); !errors.empty()) {
      out += "<div>shadow errors: " + html_escape(errors) + "</div>";
    }
    out += "</td></tr>\n";
  }
  out += "</table>\n</body>\n</html>\n";
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
