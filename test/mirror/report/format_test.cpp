#include "mirror/report/format.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;

// The reports.md summary example, plus a second endpoint with a hostile name.
json::object example_summary() {
  return json::parse(R"({
    "schema": "parallax.summary/v1",
    "since": "2026-11-26T03:00:00Z",
    "until": "2026-11-26T03:30:00Z",
    "totals": { "exchanges": 120000, "sampled": 12000, "compared": 11800, "match": 11000,
                "differ": 700, "shadow_error": 100,
                "skipped": { "method": 150, "body_too_large": 20, "rate_limited": 0,
                             "saturated": 30, "live_error": 0, "client_aborted": 0 } },
    "endpoints": [
      { "endpoint": "GET /api/users/{id}", "route": "api",
        "sampled": 5000, "compared": 4990, "match": 4500, "differ": 480, "shadow_error": 10,
        "diff_rate": 0.0962,
        "differences": [ { "kind": "body", "path": "/user/name", "count": 470, "noise": false },
                         { "kind": "status", "live": 200, "shadow": 500, "count": 10 } ],
        "shadow_errors": { "timeout": 10 },
        "latency_ms": { "live":   { "p50": 1.1, "p90": 2.0, "p99": 4.2 },
                        "shadow": { "p50": 1.3, "p90": 2.5, "p99": 9.8 } },
        "latency_regression": true,
        "examples": ["01JDXK2Q6F7A3X9T5W1M0N8B4C"] },
      { "endpoint": "GET /<script>alert(1)</script>", "route": "a|b",
        "sampled": 3, "compared": 3, "match": 3, "differ": 0, "shadow_error": 0,
        "diff_rate": 0, "differences": [], "shadow_errors": {},
        "latency_ms": { "live": null, "shadow": null },
        "latency_regression": false, "examples": [] }
    ]
  })")
      .as_object();
}

TEST(FormatTest, ParsesFormatNames) {
  EXPECT_EQ(parse_report_format("text"), report_format::text);
  EXPECT_EQ(parse_report_format("markdown"), report_format::markdown);
  EXPECT_EQ(parse_report_format("html"), report_format::html);
  EXPECT_EQ(parse_report_format("json"), report_format::json);
  EXPECT_FALSE(parse_report_format("xml"));
}

TEST(FormatTest, TextHasATableRowPerEndpointAndTopDifferences) {
  const auto text = render_text(example_summary());
  EXPECT_NE(text.find("2026-11-26T03:00:00Z .. 2026-11-26T03:30:00Z"), std::string::npos);
  EXPECT_NE(text.find("exchanges 120000"), std::string::npos);
  EXPECT_NE(text.find("skipped:  method 150  body_too_large 20"), std::string::npos);
  EXPECT_NE(text.find("saturated 30"), std::string::npos);
  EXPECT_NE(text.find("ENDPOINT"), std::string::npos);
  const auto row = text.find("GET /api/users/{id}");
  ASSERT_NE(row, std::string::npos);
  const auto row_end = text.find('\n', row);
  const auto line = text.substr(row, row_end - row);
  for (const char* cell : {"api", "4990", "9.62%", "10", "4.20 ms", "9.80 ms", "LATENCY"}) {
    EXPECT_NE(line.find(cell), std::string::npos) << cell << " in " << line;
  }
  EXPECT_NE(text.find("470  body /user/name"), std::string::npos) << text;
  EXPECT_NE(text.find("10  status 200 -> 500"), std::string::npos) << text;
  EXPECT_NE(text.find("shadow errors: timeout 10"), std::string::npos);
  EXPECT_NE(text.find("GET /<script>alert(1)</script>"), std::string::npos);
  for (std::size_t start = 0; start < text.size();) { // no line beyond a terminal's width
    const auto end = text.find('\n', start);
    EXPECT_LE(end - start, 120u) << text.substr(start, end - start);
    start = end + 1;
  }
}

TEST(FormatTest, TextSaysWhatALogBasedReportCannotKnow) {
  auto s = example_summary();
  s["note"] = "built from discrepancy logs, which hold only compared exchanges: exchanges, "
              "sampled and skipped are unknown (null); the logs hold no match records "
              "(include_matches was off), so match counts and diff_rate are unknown too";
  auto& totals = s["totals"].as_object();
  totals["exchanges"] = nullptr;
  totals["sampled"] = nullptr;
  totals["skipped"] = nullptr;
  s["endpoints"].as_array()[0].as_object()["diff_rate"] = nullptr;
  const auto text = render_text(s);
  EXPECT_NE(text.find("note: built from discrepancy logs"), std::string::npos);
  EXPECT_NE(text.find("exchanges ?"), std::string::npos);
  EXPECT_NE(text.find("skipped: ?"), std::string::npos);
  EXPECT_NE(text.find("n/a"), std::string::npos);
  EXPECT_NE(text.find("\n      "), std::string::npos); // the long note is wrapped
  for (std::size_t start = 0; start < text.size();) {
    const auto end = text.find('\n', start);
    EXPECT_LE(end - start, 120u) << text.substr(start, end - start);
    start = end + 1;
  }
}

TEST(FormatTest, TextShowsEachDifferencesFirstExample) {
  auto s = example_summary();
  auto& d = s["endpoints"].as_array()[0].as_object()["differences"].as_array();
  d[0].as_object()["examples"] = json::parse(R"([{"id": "01J", "live": "Ann", "shadow": "ann"},
                                                 {"id": "01H", "live": "Bo", "shadow": "bo"}])");
  d[1].as_object()["examples"] = json::parse(R"([{"id": "01J", "shadow": 500}])");
  const auto text = render_text(s);
  EXPECT_NE(text.find("body /user/name  e.g. \"Ann\" -> \"ann\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("status 200 -> 500  e.g. - -> 500\n"), std::string::npos) << text;
  const auto md = render_markdown(s);
  EXPECT_NE(md.find("| body /user/name | 470 | \"Ann\" -&gt; \"ann\" |"), std::string::npos) << md;
}

TEST(FormatTest, TextOfAnEmptySummarySaysSo) {
  auto s = example_summary();
  s["endpoints"] = json::array();
  EXPECT_NE(render_text(s).find("no compared exchanges"), std::string::npos);
}

TEST(FormatTest, HtmlIsSelfContainedAndEscaped) {
  const auto html = render_html(example_summary());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  // One inline script (sorting, filtering), no source, links, styles or fonts from elsewhere.
  const auto script = html.find("<script>");
  ASSERT_NE(script, std::string::npos);
  EXPECT_EQ(html.find("<script", script + 1), std::string::npos);
  EXPECT_NE(html.find("GET /&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  for (auto at = html.find("href="); at != std::string::npos; at = html.find("href=", at + 1))
    EXPECT_EQ(html.substr(at, 7), "href=\"#") << "only links within the page";
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_NE(html.find("GET /api/users/{id}"), std::string::npos);
  EXPECT_NE(html.find("LATENCY REGRESSION"), std::string::npos);
  EXPECT_EQ(html_escape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(FormatTest, MarkdownHasTablesWithEscapedCells) {
  const auto md = render_markdown(example_summary());
  EXPECT_NE(md.find("| ENDPOINT | ROUTE |"), std::string::npos);
  EXPECT_NE(md.find("| GET /api/users/{id} | api | 4990 |"), std::string::npos) << md;
  EXPECT_NE(md.find("a\\|b"), std::string::npos);
  EXPECT_EQ(md.find("<script"), std::string::npos);
  EXPECT_NE(md.find("### GET /api/users/{id}"), std::string::npos);
  EXPECT_NE(md.find("| body /user/name | 470 |"), std::string::npos) << md;
}

TEST(FormatTest, JsonRoundTripsPrettyAndCompact) {
  const auto s = example_summary();
  const auto pretty = render_json(s, true);
  const auto compact = render_json(s, false);
  EXPECT_EQ(json::parse(pretty), json::value(s));
  EXPECT_EQ(json::parse(compact), json::value(s));
  EXPECT_NE(pretty.find("\n  \"totals\": {\n    \"exchanges\": 120000,"), std::string::npos)
      << pretty;
  EXPECT_EQ(compact.find('\n'), compact.size() - 1);
  EXPECT_EQ(render(s, report_format::json), pretty);
}

} // namespace
} // namespace parallax::mirror::report
