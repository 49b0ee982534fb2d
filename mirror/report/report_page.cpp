#include "mirror/report/report_page.hpp"

#include "mirror/report/json_text.hpp"
#include "mirror/report/summary_view.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <array>
#include <map>
#include <optional>
#include <utility>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using namespace view; // NOLINT: the document readers are this file's vocabulary

constexpr std::string_view page_style = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1240px;padding:0 1em;
color:#1d1d1f}
h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.25em;margin:1.6em 0 .4em}
h3{font-size:1.05em;margin:0 0 .4em}
table{border-collapse:collapse;margin:.4em 0 1em}
th,td{border:1px solid #d0d4da;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
#endpoints th{cursor:pointer;user-select:none}#endpoints th:hover{background:#dde3ea}
#endpoints th[aria-sort=ascending]::after{content:" \25B2"}
#endpoints th[aria-sort=descending]::after{content:" \25BC"}
code{font:12.5px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.muted{color:#5f6670;font-weight:normal}.flag{color:#b00020;font-weight:600}
.note{background:#fff8e1;padding:8px;border-left:4px solid #f0b400}
.window{color:#3a3f45}#filter{font:inherit;padding:4px 8px;width:22em}
section.endpoint{border:1px solid #d0d4da;border-radius:6px;padding:10px 14px;margin:0 0 14px}
td.live{background:#eef4ff}td.shadow{background:#fff3e6}
.absent{color:#8a9099;font-style:italic}.at{color:#5f6670;font-size:12px}
.totals{display:flex;flex-wrap:wrap;gap:6px}
.totals div{border:1px solid #d0d4da;border-radius:4px;padding:3px 10px;background:#f7f8fa}
.totals b{font-variant-numeric:tabular-nums;margin-right:.4em}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
)";

// Sorting (a click on a heading; again to reverse) and filtering (the text box, initially the
// URL's #filter=TEXT) of the endpoint table; the filter hides non-matching endpoint sections too.
constexpr std::string_view page_script = R"(
(function () {
  var table = document.getElementById('endpoints');
  var box = document.getElementById('filter');
  if (!table || !box) return;
  function apply() {
    var q = box.value.trim().toLowerCase();
    var shown = 0;
    document.querySelectorAll('[data-filter]').forEach(function (el) {
      el.hidden = q !== '' && el.getAttribute('data-filter').indexOf(q) < 0;
      if (!el.hidden && el.tagName === 'TR') shown++;
    });
    document.getElementById('shown').textContent = shown + ' of ' + table.tBodies[0].rows.length;
  }
  var m = /(?:^#|&)filter=([^&]*)/.exec(location.hash);
  if (m) { try { box.value = decodeURIComponent(m[1]); } catch (e) { box.value = m[1]; } }
  box.addEventListener('input', function () {
    apply();
    try { history.replaceState(null, '', '#filter=' + encodeURIComponent(box.value.trim())); }
    catch (e) {}
  });
  apply();
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, i) {
    th.addEventListener('click', function () {
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].getAttribute('data-sort'), y = b.cells[i].getAttribute('data-sort');
        var nx = parseFloat(x), ny = parseFloat(y);
        if (!isNaN(nx) && !isNaN(ny)) return (nx - ny) * dir;
        if (isNaN(nx) !== isNaN(ny)) return isNaN(nx) ? 1 : -1;
        return x.localeCompare(y) * dir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
)";

constexpr std::string_view live_colour = "#3f6fc4";
constexpr std::string_view shadow_colour = "#e08a1e";

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A number for data-sort, or empty (sorted last).
std::string sort_key(std::optional<double> v) {
  return v ? printf_double("%.6g", *v) : std::string();
}

// An example value as JSON text (so "10" and 10 differ), or "(absent)" for a side without one.
std::string value_cell(const json::object& example, std::string_view side) {
  const auto* v = example.if_contains(side);
  if (v == nullptr) return "<span class=\"absent\">(absent)</span>";
  return "<code>" + html_escape(serialize_json(*v)) + "</code>";
}

struct route_info {
  std::string shadow_upstream;
  std::string percent;
};

std::map<std::string, route_info> routes_of(const json::object& s) {
  std::map<std::string, route_info> out;
  for (const auto& r : array_at(s, "routes")) {
    if (!r.is_object()) continue;
    const auto& o = r.get_object();
    const auto percent = number_at(o, "percent");
    out[string_at(o, "name")] = {string_at(o, "shadow_upstream"),
                                 percent ? printf_double("%g%%", *percent) : "?"};
  }
  return out;
}

// Totals as tiles that wrap (skip reasons make too many columns for one table row).
void render_totals(std::string& out, const json::object& s) {
  out += "<h2>Totals</h2>\n<div class=\"totals\" id=\"totals\">\n";
  for (const auto& [name, value] : all_totals(s)) {
    out += "<div><b>" + html_escape(value) + "</b>" + html_escape(name) + "</div>\n";
  }
  out += "</div>\n";
}

void render_routes(std::string& out, const std::map<std::string, route_info>& routes) {
  if (routes.empty()) return;
  out += "<h2>Routes</h2>\n<table id=\"routes\">\n<tr><th>route</th><th>shadow upstream</th>"
         "<th>mirror percent</th></tr>\n";
  for (const auto& [name, r] : routes) {
    out += "<tr><td>" + html_escape(name) + "</td><td>" + html_escape(r.shadow_upstream) +
           "</td><td class=\"n\">" + html_escape(r.percent) + "</td></tr>\n";
  }
  out += "</table>\n";
}

void render_endpoint_table(std::string& out, const json::array& endpoints) {
  out += "<h2>Endpoints</h2>\n<p><input id=\"filter\" type=\"search\" "
         "placeholder=\"filter endpoints and routes\" aria-label=\"filter\"> "
         "<span class=\"muted\">showing <span id=\"shown\">" +
         std::to_string(endpoints.size()) + "</span></span></p>\n";
  out += "<table id=\"endpoints\">\n<thead><tr>";
  const auto columns = endpoint_columns();
  for (std::size_t i = 0; i + 1 < columns.size(); ++i)
    out += "<th>" + html_escape(ascii_lower(columns[i])) + "</th>";
  out += "<th>flags</th></tr></thead>\n<tbody>\n";
  std::size_t index = 0;
  for (const auto& v : endpoints) {
    if (!v.is_object()) continue;
    const auto& e = v.get_object();
    const auto row = endpoint_row(e);
    const std::array<std::string, 9> keys{ascii_lower(row[0]),
                                          ascii_lower(row[1]),
                                          sort_key(number_at(e, "compared")),
                                          sort_key(number_at(e, "differ")),
                                          sort_key(number_at(e, "diff_rate")),
                                          sort_key(static_cast<double>(error_count(e))),
                                          sort_key(latency_at(e, "live", "p99")),
                                          sort_key(latency_at(e, "shadow", "p99")),
                                          row[8]};
    out += "<tr data-filter=\"" + html_escape(ascii_lower(row[0] + " " + row[1])) + "\">";
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += i < 2 || i + 1 == row.size() ? "<td" : "<td class=\"n\"";
      out += " data-sort=\"" + html_escape(keys[i]) + "\">";
      if (i == 0) {
        out += "<a href=\"#ep-" + std::to_string(index) + "\">" + html_escape(row[i]) + "</a>";
      } else {
        out += i + 1 == row.size() && !row[i].empty()
                   ? "<span class=\"flag\">" + html_escape(row[i]) + "</span>"
                   : html_escape(row[i]);
      }
      out += "</td>";
    }
    out += "</tr>\n";
    ++index;
  }
  out += "</tbody>\n</table>\n";
}

// p50/p90/p99 live vs shadow as horizontal bars (inline SVG), scaled to the largest of them.
void render_latency_bars(std::string& out, const json::object& e) {
  constexpr std::array<std::string_view, 3> quantiles{"p50", "p90", "p99"};
  double largest = 0;
  for (const auto q : quantiles) {
    for (const auto side : {"live", "shadow"})
      largest = std::max(largest, latency_at(e, side, q).value_or(0));
  }
  if (largest <= 0) {
    out += "<p class=\"muted\">no latency data</p>\n";
    return;
  }
  constexpr int label_width = 40, bar_area = 330, bar_height = 13, group_gap = 8;
  constexpr int height = 3 * (2 * bar_height + group_gap);
  out += "<svg class=\"latency\" role=\"img\" aria-label=\"latency live vs shadow\" width=\"520\" "
         "height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 520 " + std::to_string(height) +
         "\" font-size=\"11\" font-family=\"system-ui,sans-serif\">\n";
  int y = 0;
  for (const auto q : quantiles) {
    out += "<text x=\"0\" y=\"" + std::to_string(y + bar_height + 4) + "\">" + std::string(q) +
           "</text>\n";
    for (const auto side : {"live", "shadow"}) {
      const auto v = latency_at(e, side, q);
      // A share of the largest in [0, 1]: infinite or negative latencies (a crafted summary)
      // give no NaN and no int overflow.
      const double share = v ? *v / largest : 0.0;
      const double bounded = std::isfinite(share) ? std::clamp(share, 0.0, 1.0) : 0.0;
      const int width = v ? std::max(1, static_cast<int>(bounded * bar_area)) : 0;
      const auto colour = std::string_view(side) == "live" ? live_colour : shadow_colour;
      out += "<rect x=\"" + std::to_string(label_width) + "\" y=\"" + std::to_string(y) +
             "\" width=\"" + std::to_string(width) + "\" height=\"" +
             std::to_string(bar_height - 2) + "\" fill=\"" + std::string(colour) + "\"/>";
      out += "<text x=\"" + std::to_string(label_width + width + 4) + "\" y=\"" +
             std::to_string(y + bar_height - 3) + "\">" + html_escape(side) + " " +
             html_escape(ms_text(v)) + "</text>\n";
      y += bar_height;
    }
    y += group_gap;
  }
  out += "</svg>\n";
}

void render_differences(std::string& out, const json::object& e) {
  const auto& differences = array_at(e, "differences");
  if (differences.empty()) return;
  out += "<table class=\"diffs\">\n<tr><th>differing field</th><th>count</th><th>live</th>"
         "<th>shadow</th><th>record</th></tr>\n";
  for (const auto& v : differences) {
    if (!v.is_object()) continue;
    const auto& d = v.get_object();
    const auto& examples = array_at(d, "examples");
    const std::size_t rows = std::max<std::size_t>(1, examples.size());
    const auto span = rows > 1 ? " rowspan=\"" + std::to_string(rows) + "\"" : std::string();
    out += "<tr><td" + span + "><code>" + html_escape(difference_text(d)) + "</code></td><td" +
           span + " class=\"n\">" + html_escape(count_text(d, "count")) + "</td>";
    if (examples.empty()) out += "<td colspan=\"3\" class=\"muted\">no example kept</td></tr>\n";
    bool first = true;
    for (const auto& x : examples) {
      if (!x.is_object()) continue;
      const auto& ex = x.get_object();
      if (!first) out += "<tr>";
      first = false;
      out += "<td class=\"live\">" + value_cell(ex, "live") + "</td><td class=\"shadow\">" +
             value_cell(ex, "shadow") + "</td><td><code class=\"id\">" +
             html_escape(string_at(ex, "id")) + "</code>";
      if (ex.contains("path"))
        out += "<div class=\"at\">at " + html_escape(string_at(ex, "path")) + "</div>";
      out += "</td></tr>\n";
    }
  }
  out += "</table>\n";
  if (const auto more = number_at(e, "other_differences")) {
    out += "<p class=\"muted\">" + html_escape(printf_double("%.0f", *more)) +
           " further differences not tracked</p>\n";
  }
}

void render_endpoint(std::string& out, const json::object& e, std::size_t index,
                     const std::map<std::string, route_info>& routes) {
  const auto name = string_at(e, "endpoint");
  const auto route = string_at(e, "route");
  out += "<section class=\"endpoint\" id=\"ep-" + std::to_string(index) + "\" data-filter=\"" +
         html_escape(ascii_lower(name + " " + route)) + "\">\n<h3><code>" + html_escape(name) +
         "</code> <span class=\"muted\">route " + html_escape(route.empty() ? "-" : route);
  if (const auto r = routes.find(route); r != routes.end()) {
    out += ", shadow " + html_escape(r->second.shadow_upstream) + " at " +
           html_escape(r->second.percent);
  }
  out += "</span></h3>\n<p>compared " + html_escape(count_text(e, "compared")) +
         " &middot; differ " + html_escape(count_text(e, "differ")) + " (" +
         html_escape(percent_text(e, "diff_rate")) + ") &middot; shadow errors " +
         std::to_string(error_count(e));
  if (const auto errors = shadow_errors_text(e); !errors.empty())
    out += " (" + html_escape(errors) + ")";
  if (bool_at(e, "latency_regression"))
    out += " &middot; <span class=\"flag\">LATENCY REGRESSION</span>";
  out += "</p>\n";
  render_latency_bars(out, e);
  render_differences(out, e);
  std::string ids;
  for (const auto& id : array_at(e, "examples")) {
    if (id.is_string()) ids += " <code class=\"id\">" + html_escape(id.get_string()) + "</code>";
  }
  if (!ids.empty()) out += "<p class=\"muted\">example records:" + ids + "</p>\n";
  out += "</section>\n";
}

} // namespace

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

std::string render_html(const json::object& s) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
                    "<title>parallax report</title>\n<style>";
  out += page_style;
  out += "</style>\n</head>\n<body>\n<h1>parallax report</h1>\n<p class=\"window\">window "
         "<time id=\"since\">" +
         html_escape(string_at(s, "since")) + "</time> to <time id=\"until\">" +
         html_escape(string_at(s, "until")) + "</time></p>\n";
  if (s.contains("note"))
    out += "<p class=\"note\">" + html_escape(string_at(s, "note")) + "</p>\n";
  render_totals(out, s);
  const auto routes = routes_of(s);
  render_routes(out, routes);
  const auto& endpoints = array_at(s, "endpoints");
  render_endpoint_table(out, endpoints);
  out += "<p class=\"legend muted\">latency:<span style=\"background:" + std::string(live_colour) +
         "\"></span>live<span style=\"background:" + std::string(shadow_colour) +
         "\"></span>shadow</p>\n";
  std::size_t index = 0;
  for (const auto& v : endpoints) {
    if (v.is_object()) render_endpoint(out, v.get_object(), index++, routes);
  }
  out += "<script>";
  out += page_script;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

} // namespace parallax::mirror::report
