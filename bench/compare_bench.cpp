// The per-exchange work of mirroring outside the network code: capturing a response as it
// streams (copy + SHA-256), comparing a live and a shadow response (decode, parse, diff), and
// serialising a discrepancy record (redaction, excerpts, JSON text). Bodies are small API
// answers, the common case; bytes/s counts the live body.

#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>

#include <array>
#include <string>

#include "mirror/compare.hpp"
#include "mirror/report/format.hpp"
#include "mirror/report/record.hpp"

namespace parallax::mirror {
namespace {

const std::string live_body =
    R"({"user":{"id":42,"name":"Ann","email":"ann@example.com","tier":"gold"},)"
    R"("orders":[{"id":1,"total":19.99},{"id":2,"total":5.5},{"id":3,"total":120}],)"
    R"("generated_at":"2026-11-26T07:00:00.000Z","token":"abc"})";
const std::string shadow_body =
    R"({"user":{"id":42,"name":"ann","email_address":"ann@example.com","tier":"gold"},)"
    R"("orders":[{"id":1,"total":"19.99"},{"id":2,"total":5.5},{"id":3,"total":120}],)"
    R"("generated_at":"2026-11-26T07:00:00.250Z","token":"abc"})";

response_capture make_capture(const std::string& body) {
  response_capture c(1 << 20);
  proxy::http::response_head head;
  head.status = 200;
  head.headers.add("Content-Type", "application/json");
  head.headers.add("Date", "Thu, 26 Nov 2026 07:00:00 GMT");
  c.head(head);
  c.body(body);
  c.finish();
  return c;
}

void capture_response(benchmark::State& state) {
  proxy::http::response_head head;
  head.status = 200;
  head.headers.add("Content-Type", "application/json");
  head.headers.add("Date", "Thu, 26 Nov 2026 07:00:00 GMT");
  for (auto _ : state) {
    response_capture c(1 << 20);
    c.head(head);
    c.body(live_body);
    c.finish();
    benchmark::DoNotOptimize(c.kept.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * live_body.size()));
}
BENCHMARK(capture_response);

void compare_differing_json(benchmark::State& state) {
  config::compare_policy policy;
  policy.body.ignore = {"/generated_at"};
  const comparer cmp(policy);
  const auto live = make_capture(live_body);
  const auto shadow = make_capture(shadow_body);
  for (auto _ : state) {
    report::record r;
    cmp.compare(live, shadow, nullptr, r);
    benchmark::DoNotOptimize(r.differences.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * live_body.size()));
}
BENCHMARK(compare_differing_json);

void compare_equal_json(benchmark::State& state) {
  const config::compare_policy policy;
  const comparer cmp(policy);
  const auto live = make_capture(live_body);
  const auto shadow = make_capture(live_body);
  for (auto _ : state) {
    report::record r;
    cmp.compare(live, shadow, nullptr, r);
    benchmark::DoNotOptimize(r.outcome);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * live_body.size()));
}
BENCHMARK(compare_equal_json);

void record_serialise(benchmark::State& state) {
  config::compare_policy policy;
  policy.body.ignore = {"/generated_at"};
  const config::reports reports;
  report::record r;
  r.time = std::chrono::system_clock::now();
  r.id = report::make_record_id(r.time);
  r.route = "api";
  r.endpoint = "GET /api/users/{id}";
  r.request = {"GET",
               "/api/users/42?token=secret&lang=en",
               {{"Host", "shop.example"}, {"Authorization", "Bearer x"}, {"Accept", "*/*"}},
               0};
  r.live = {200, 1.8, live_body.size(), std::string(64, 'a')};
  r.shadow = {200, 2.3, shadow_body.size(), std::string(64, 'b'), std::nullopt};
  comparer(policy).compare(make_capture(live_body), make_capture(shadow_body), nullptr, r);
  std::size_t bytes = 0;
  std::string line;
  for (auto _ : state) {
    // As the discrepancy log does it: one reused string, the text written directly.
    line.clear();
    report::append_json_line(line, r, reports);
    bytes += line.size();
    benchmark::DoNotOptimize(line.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(record_serialise);

} // namespace
} // namespace parallax::mirror
