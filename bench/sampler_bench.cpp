// The per-request mirroring decision: random sampling (thread-local PRNG), keyed sampling by
// header and by cookie (field lookup + FNV-1a/finalizer hash), and the max_rps token bucket.
// Requests are prebuilt; the loop cycles through 64 of them so keyed decisions vary.

#include "mirror/sampler.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace parallax::mirror {
namespace {

constexpr std::size_t request_count = 64; // a power of two: the loop cycles with a mask

// A browser-like GET with 10 fields; the user id and session cookie differ per `n`.
proxy::http::request_head make_request(std::size_t n) {
  proxy::http::request_head req;
  req.method = "GET";
  req.target = "/api/v1/orders?page=2&user=u" + std::to_string(n);
  auto& h = req.headers;
  h.add("Host", "shop.example.com");
  h.add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0");
  h.add("Accept", "application/json, text/plain, */*");
  h.add("Accept-Language", "en-US,en;q=0.5");
  h.add("Accept-Encoding", "gzip, deflate, br");
  h.add("Referer", "https://shop.example.com/orders");
  h.add("X-Request-Id", "7f3c2a10-5b6e-4d8f-9a21-" + std::to_string(100000000000 + n));
  h.add("Cookie", "theme=dark; lang=en; session=\"s" + std::to_string(7919 * n) +
                      "-4f2a9c1e7b3d\"; consent=1");
  h.add("X-User-Id", "user-" + std::to_string(1000003 * n));
  h.add("Connection", "keep-alive");
  return req;
}

std::array<proxy::http::request_head, request_count> make_requests() {
  std::array<proxy::http::request_head, request_count> requests;
  for (std::size_t i = 0; i < request_count; ++i)
    requests[i] = make_request(i);
  return requests;
}

config::mirror_policy policy(double percent, config::sample_by::kind by, std::string name) {
  config::mirror_policy p;
  p.upstream = "shadow";
  p.percent = percent;
  p.sample_by.by = by;
  p.sample_by.name = std::move(name);
  return p;
}

// Runs decide() over the prebuilt requests; `key_expected` checks setup: keyed samplers must
// find their key in every request, or they would silently measure random sampling.
void run_decide(benchmark::State& state, const config::mirror_policy& p, bool key_expected) {
  const auto requests = make_requests();
  sampler s(p);
  sampler::seed_thread_random(42);
  for (const auto& req : requests) {
    if (s.sample_key(req).has_value() != key_expected) {
      state.SkipWithError("the sampling key was not found as expected");
      return;
    }
  }
  std::size_t i = 0;
  std::size_t mirrored = 0;
  for ([[maybe_unused]] auto _ : state) {
    const decision d = s.decide(requests[i++ & (request_count - 1)]);
    mirrored += d == decision::mirror ? 1 : 0;
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["mirrored"] =
      benchmark::Counter(static_cast<double>(mirrored) / static_cast<double>(state.iterations()));
}

void sampler_decide_random(benchmark::State& state) {
  run_decide(state, policy(10, config::sample_by::kind::random, {}), false);
}
BENCHMARK(sampler_decide_random);

void sampler_decide_by_header(benchmark::State& state) {
  // Header names are configured lower-cased (config.md); lookup is case-insensitive.
  run_decide(state, policy(10, config::sample_by::kind::header, "x-user-id"), true);
}
BENCHMARK(sampler_decide_by_header);

void sampler_decide_by_cookie(benchmark::State& state) {
  run_decide(state, policy(10, config::sample_by::kind::cookie, "session"), true);
}
BENCHMARK(sampler_decide_by_cookie);

void sampler_decide_by_query(benchmark::State& state) {
  run_decide(state, policy(10, config::sample_by::kind::query, "user"), true);
}
BENCHMARK(sampler_decide_by_query);

// Every request sampled, so each decision reads the clock and runs the GCRA compare-exchange;
// at 1000/s nearly all of them find the bucket empty, as under a burst.
void sampler_decide_rate_limited(benchmark::State& state) {
  auto p = policy(100, config::sample_by::kind::random, {});
  p.max_rps = 1000;
  run_decide(state, p, false);
}
BENCHMARK(sampler_decide_rate_limited);

} // namespace
} // namespace parallax::mirror
