// The latency histogram's buckets (reports.md metrics; issue: a rollout gate must tell a 1.5x
// shadow-vs-live regression from the buckets alone).

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "proxy/server/metrics.hpp"

namespace parallax::proxy::server {
namespace {

TEST(HistogramTest, NeighbouringBoundsAreAtMost125xApartFrom1msTo10s) {
  const auto& b = histogram::bounds;
  ASSERT_TRUE(std::is_sorted(b.begin(), b.end()));
  EXPECT_LE(b.front(), 0.001);
  EXPECT_GE(b.back(), 10.0);
  for (std::size_t i = 1; i < b.size(); ++i) {
    if (b[i - 1] < 0.001 || b[i] > 10.0) continue;
    EXPECT_LE(b[i] / b[i - 1], 1.25 + 1e-9) << b[i - 1] << " -> " << b[i];
  }
}

TEST(HistogramTest, A15xSlowerLatencyLandsInAHigherBucket) {
  // Whatever the latency from 1 ms to 6.6 s, 1.5 times it crosses at least one bound, so the
  // two quantiles Prometheus interpolates from the buckets differ.
  for (double t = 0.001; t * 1.5 <= 10.0; t *= 1.07) {
    histogram fast;
    histogram slow;
    fast.observe(t);
    slow.observe(t * 1.5);
    std::string a;
    std::string b;
    fast.render(a, "h", "");
    slow.render(b, "h", "");
    EXPECT_NE(a, b) << t;
  }
}

TEST(HistogramTest, ABoundIsInclusiveAndBeyondTheLastIsInf) {
  histogram h;
  h.observe(0.0012); // exactly a bound: counted in le="0.0012"
  h.observe(11.0);   // beyond 10 s: +Inf only
  std::string out;
  h.render(out, "h", "route=\"x\"");
  EXPECT_NE(out.find("h_bucket{route=\"x\",le=\"0.001\"} 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_bucket{route=\"x\",le=\"0.0012\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_bucket{route=\"x\",le=\"10\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_bucket{route=\"x\",le=\"+Inf\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_count{route=\"x\"} 2\n"), std::string::npos) << out;
}

} // namespace
} // namespace parallax::proxy::server
