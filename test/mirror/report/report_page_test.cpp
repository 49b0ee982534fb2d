// The report page (docs/report.md "The report page"): what it shows per endpoint, that every
// value is escaped, and that it stays self-contained. (The browser test
// test/system/report_page_test.py checks that its script sorts and filters.)

#include "mirror/report/report_page.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;

json::object page_summary() {
  return json::parse(R"({
    "schema": "parallax.summary/v1",
    "since": "2026-11-26T03:00:00Z", "until": "2026-11-26T03:30:00Z",
    "totals": { "exchanges": 10, "sampled": 10, "compared": 9, "match": 5, "differ": 4,
                "shadow_error": 0, "skipped": { "method": 1 } },
    "routes": [ { "name": "api", "shadow_upstream": "preview-<b>", "percent": 12.5 } ],
    "endpoints": [
      { "endpoint": "GET /api/users/{id}", "route": "api", "compared": 9, "match": 5,
        "differ": 4, "shadow_error": 0, "diff_rate": 0.4444,
        "differences": [
          { "kind": "body", "path": "/user/name", "count": 4, "noise": false,
            "examples": [ { "id": "01JDXK2Q6F7A3X9T5W1M0N8B4C", "live": "Ann",
                            "shadow": "<img src=x onerror=alert(1)>" },
                          { "id": "01JDXK2Q6F7A3X9T5W1M0N8B4D", "path": "/user/7/name",
                            "shadow": 10 } ] },
          { "kind": "status", "live": 200, "shadow": 500, "count": 1, "examples": [] } ],
        "shadow_errors": {},
        "latency_ms": { "live": { "p50": 1.0, "p90": 2.0, "p99": 4.0 },
                        "shadow": { "p50": 1.5, "p90": 3.0, "p99": 8.0 } },
        "latency_regression": true, "examples": ["01JDXK2Q6F7A3X9T5W1M0N8B4C"] },
      { "endpoint": "GET /static", "route": "api", "compared": 0, "differences": [],
        "latency_ms": { "live": null, "shadow": null } }
    ]
  })")
      .as_object();
}

bool has(const std::string& html, std::string_view text) {
  return html.find(text) != std::string::npos;
}

TEST(ReportPageTest, ShowsExamplesLiveVsShadowWithRecordIdsAndRoutes) {
  const auto html = render_html(page_summary());
  EXPECT_TRUE(has(html, "<time id=\"since\">2026-11-26T03:00:00Z</time>"));
  EXPECT_TRUE(has(html, "<time id=\"until\">2026-11-26T03:30:00Z</time>"));
  // Differing fields with counts; example values side by side as JSON (types visible).
  EXPECT_TRUE(has(html, "<code>body /user/name</code>"));
  EXPECT_TRUE(has(html, "<td class=\"live\"><code>&quot;Ann&quot;</code></td>"));
  EXPECT_TRUE(has(html, "<td class=\"shadow\"><code>&quot;&lt;img src=x "
                        "onerror=alert(1)&gt;&quot;</code></td>"));
  EXPECT_TRUE(has(html, "<span class=\"absent\">(absent)</span>"));
  EXPECT_TRUE(has(html, "<td class=\"shadow\"><code>10</code></td>"));
  EXPECT_TRUE(has(html, "01JDXK2Q6F7A3X9T5W1M0N8B4D</code><div class=\"at\">at /user/7/name"));
  EXPECT_TRUE(has(html, "status 200 -&gt; 500"));
  // Routes: shadow upstream and percent, escaped.
  EXPECT_TRUE(has(html, "<td>preview-&lt;b&gt;</td><td class=\"n\">12.5%</td>"));
  EXPECT_TRUE(has(html, "shadow preview-&lt;b&gt; at 12.5%"));
  // Latency bars: three quantiles, two bars each, values as labels.
  std::size_t bars = 0;
  for (auto at = html.find("<rect"); at != std::string::npos; at = html.find("<rect", at + 1))
    ++bars;
  EXPECT_EQ(bars, 6u);
  EXPECT_TRUE(has(html, "shadow 8.00 ms"));
  EXPECT_TRUE(has(html, "no latency data"));
  EXPECT_TRUE(has(html, "LATENCY REGRESSION"));
  // The filterable, sortable table: one row per endpoint.
  EXPECT_TRUE(has(html, "<input id=\"filter\""));
  EXPECT_TRUE(has(html, "<tr data-filter=\"get /api/users/{id} api\">"));
  EXPECT_TRUE(has(html, "<tr data-filter=\"get /static api\">"));
  EXPECT_TRUE(has(html, "data-sort=\"0.4444\""));
  EXPECT_FALSE(has(html, "<img"));
}

TEST(ReportPageTest, AnyJsonObjectRendersAPage) {
  for (const char* text :
       {R"({})", R"({"endpoints": 3, "routes": {}})", R"({"endpoints": [1, {"differences": 2}]})",
        R"({"endpoints": [{"differences": [{"examples": [1, {"live": null}]}],
                           "latency_ms": {"live": {"p50": "x"}}}]})"}) {
    const auto html = render_html(json::parse(text).as_object());
    EXPECT_TRUE(has(html, "</html>")) << text;
  }
}

} // namespace
} // namespace parallax::mirror::report
