#include "mirror/sampler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace parallax::mirror {
namespace {

using proxy::http::request_head;
using time_point = std::chrono::steady_clock::time_point;

// The fake clock of the token bucket tests (a plain function pointer cannot capture).
std::atomic<std::int64_t> fake_now_ns{0};

time_point fake_now() noexcept {
  return time_point(std::chrono::nanoseconds(fake_now_ns.load()));
}

void advance(std::chrono::nanoseconds d) {
  fake_now_ns += d.count();
}

config::mirror_policy policy(double percent, config::sample_by::kind by = {},
                             std::string name = {}) {
  config::mirror_policy p;
  p.upstream = "preview";
  p.percent = percent;
  p.sample_by.by = by;
  p.sample_by.name = std::move(name);
  return p;
}

request_head get(std::string target = "/") {
  request_head r;
  r.method = "GET";
  r.target = std::move(target);
  return r;
}

request_head with_header(std::string_view name, std::string_view value) {
  request_head r = get();
  r.headers.add(name, value);
  return r;
}

std::size_t count_mirrored(sampler& s, const request_head& r, int draws) {
  std::size_t n = 0;
  for (int i = 0; i < draws; ++i)
    n += s.decide(r) == decision::mirror ? 1 : 0;
  return n;
}

TEST(SamplerTest, KeyHashIsPinnedToTheDocumentedFunction) {
  // FNV-1a 64 of "" is its offset basis and of "a" is 0xaf63dc4c8601ec8c (published test
  // vectors), each followed by the documented finalizer. The values are pinned (computed
  // independently) so the function can never drift silently: a change would re-shuffle which
  // users are mirrored on every replica.
  constexpr auto finalize = [](std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
  };
  EXPECT_EQ(sampler::key_hash(""), finalize(0xcbf29ce484222325ULL));
  EXPECT_EQ(sampler::key_hash("a"), finalize(0xaf63dc4c8601ec8cULL));
  EXPECT_EQ(sampler::key_hash(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(sampler::key_hash("a"), 0x82a2a958a9bece5bULL);
  EXPECT_EQ(sampler::key_hash("user-42"), 0xa39532c7ab051e8dULL);
  EXPECT_DOUBLE_EQ(sampler::key_position("user-42"),
                   static_cast<double>(0xa39532c7ab051e8dULL >> 11) / 9007199254740992.0);
}

TEST(SamplerTest, KeyPositionIsInUnitInterval) {
  for (int i = 0; i < 10000; ++i) {
    const double p = sampler::key_position("k" + std::to_string(i));
    EXPECT_GE(p, 0.0);
    EXPECT_LT(p, 1.0);
  }
}

TEST(SamplerTest, KeyedDecisionIsDeterministicAcrossInstances) {
  sampler a(policy(37.5, config::sample_by::kind::header, "x-user-id"));
  sampler b(policy(37.5, config::sample_by::kind::header, "x-user-id"));
  std::size_t mirrored = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto r = with_header("X-User-Id", "user-" + std::to_string(i));
    const decision first = a.decide(r);
    EXPECT_EQ(first, b.decide(r)) << i;
    EXPECT_EQ(first, a.decide(r)) << i; // and again on the same instance
    EXPECT_EQ(first == decision::mirror, sampler::key_position("user-" + std::to_string(i)) < 0.375)
        << i;
    mirrored += first == decision::mirror ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(mirrored) / 2000, 0.375, 0.05);
}

TEST(SamplerTest, FivePercentSetIsSubsetOfTenPercentSet) {
  sampler five(policy(5, config::sample_by::kind::header, "x-user-id"));
  sampler ten(policy(10, config::sample_by::kind::header, "x-user-id"));
  std::size_t in_five = 0;
  std::size_t in_ten = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto r = with_header("x-user-id", std::to_string(i));
    const bool f = five.decide(r) == decision::mirror;
    const bool t = ten.decide(r) == decision::mirror;
    if (f) {
      EXPECT_TRUE(t) << "key " << i << " is in the 5% set but not in the 10% set";
    }
    in_five += f ? 1 : 0;
    in_ten += t ? 1 : 0;
  }
  // Both sets have about the configured size (uniform hash over sequential keys).
  EXPECT_NEAR(static_cast<double>(in_five), 500, 100);
  EXPECT_NEAR(static_cast<double>(in_ten), 1000, 140);
}

TEST(SamplerTest, RandomRateIsWithinToleranceWithFixedSeed) {
  sampler::seed_thread_random(12345);
  sampler s(policy(10));
  const auto mirrored = count_mirrored(s, get(), 100000);
  // Binomial(100000, 0.1): sd ~ 95; 6 sd keeps the test deterministic in spirit and in fact.
  EXPECT_NEAR(static_cast<double>(mirrored), 10000, 600);
}

TEST(SamplerTest, RandomSamplingWithSameSeedRepeats) {
  sampler s(policy(50));
  const auto r = get();
  sampler::seed_thread_random(7);
  std::vector<decision> first;
  for (int i = 0; i < 100; ++i)
    first.push_back(s.decide(r));
  sampler::seed_thread_random(7);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(first[static_cast<std::size_t>(i)], s.decide(r));
}

TEST(SamplerTest, FractionalPercentSamplesOneInTwoHundred) {
  sampler::seed_thread_random(99);
  sampler s(policy(0.5));
  const auto mirrored = count_mirrored(s, get(), 200000);
  EXPECT_NEAR(static_cast<double>(mirrored), 1000, 200);
}

TEST(SamplerTest, ZeroPercentNeverSamples) {
  sampler random_sampler(policy(0));
  EXPECT_EQ(count_mirrored(random_sampler, get(), 10000), 0U);
  sampler keyed(policy(0, config::sample_by::kind::header, "x-user-id"));
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(keyed.decide(with_header("x-user-id", std::to_string(i))), decision::not_sampled);
}

TEST(SamplerTest, HundredPercentAlwaysSamples) {
  sampler random_sampler(policy(100));
  EXPECT_EQ(count_mirrored(random_sampler, get(), 10000), 10000U);
  sampler keyed(policy(100, config::sample_by::kind::query, "user"));
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(keyed.decide(get("/?user=" + std::to_string(i))), decision::mirror);
}

TEST(SamplerTest, DefaultMethodsAreSafeMethodsOnly) {
  sampler s(policy(100));
  for (const char* method : {"GET", "HEAD", "OPTIONS"}) {
    auto r = get();
    r.method = method;
    EXPECT_EQ(s.decide(r), decision::mirror) << method;
  }
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE", "get"}) {
    auto r = get();
    r.method = method;
    EXPECT_EQ(s.decide(r), decision::skip_method) << method;
  }
}

TEST(SamplerTest, ConfiguredMethodsAreOptedIn) {
  auto p = policy(100);
  p.methods = {"POST"};
  sampler s(p);
  auto r = get();
  EXPECT_EQ(s.decide(r), decision::skip_method);
  r.method = "POST";
  EXPECT_EQ(s.decide(r), decision::mirror);
}

TEST(SamplerTest, MethodIsCheckedOnlyForSampledRequests) {
  sampler s(policy(0));
  auto r = get();
  r.method = "POST";
  EXPECT_EQ(s.decide(r), decision::not_sampled);
}

TEST(SamplerTest, TokenBucketAllowsBurstThenRefillsContinuously) {
  fake_now_ns = 1'000'000'000;
  auto p = policy(100);
  p.max_rps = 4;
  sampler s(p, &fake_now);
  const auto r = get();
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(s.decide(r), decision::mirror) << i;
  EXPECT_EQ(s.decide(r), decision::skip_rate_limited);
  advance(std::chrono::milliseconds(249));
  EXPECT_EQ(s.decide(r), decision::skip_rate_limited);
  advance(std::chrono::milliseconds(1)); // 250 ms = one token at 4/s
  EXPECT_EQ(s.decide(r), decision::mirror);
  EXPECT_EQ(s.decide(r), decision::skip_rate_limited);
  advance(std::chrono::seconds(10)); // refills up to the capacity only
  EXPECT_EQ(count_mirrored(s, r, 10), 4U);
}

TEST(SamplerTest, TokenBucketWithFractionalRateHasCapacityOne) {
  fake_now_ns = 5'000'000'000;
  auto p = policy(100);
  p.max_rps = 0.5;
  sampler s(p, &fake_now);
  const auto r = get();
  EXPECT_EQ(s.decide(r), decision::mirror);
  EXPECT_EQ(s.decide(r), decision::skip_rate_limited);
  advance(std::chrono::milliseconds(1999));
  EXPECT_EQ(s.decide(r), decision::skip_rate_limited);
  advance(std::chrono::milliseconds(1));
  EXPECT_EQ(s.decide(r), decision::mirror);
}

TEST(SamplerTest, TokenBucketIsNotSpentOnSkippedRequests) {
  fake_now_ns = 0;
  auto p = policy(100);
  p.max_rps = 1;
  sampler s(p, &fake_now);
  auto post = get();
  post.method = "POST";
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(s.decide(post), decision::skip_method);
  EXPECT_EQ(s.decide(get()), decision::mirror);
}

TEST(SamplerTest, DecisionBeforeRateLimitSpendsNoToken) {
  fake_now_ns = 0;
  auto p = policy(100);
  p.max_rps = 1;
  sampler s(p, &fake_now);
  // The dispatcher decides first, checks its own skip reasons, then spends a token.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(s.decide_before_rate_limit(get()), decision::mirror);
  EXPECT_TRUE(s.try_take_token());
  EXPECT_FALSE(s.try_take_token());
  auto unlimited = policy(100);
  sampler u(unlimited, &fake_now);
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(u.try_take_token());
}

TEST(SamplerTest, TokenBucketGrantsExactlyCapacityAcrossThreads) {
  fake_now_ns = 42;
  auto p = policy(100);
  p.max_rps = 1000;
  sampler s(p, &fake_now);
  std::atomic<std::size_t> mirrored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      const auto r = get();
      mirrored += count_mirrored(s, r, 500);
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(mirrored.load(), 1000U); // the clock stood still: exactly one bucket
}

TEST(SamplerTest, UnlimitedRateNeverLimits) {
  sampler s(policy(100)); // max_rps = 0
  EXPECT_EQ(count_mirrored(s, get(), 100000), 100000U);
}

TEST(SamplerTest, MissingKeyFallsBackToRandom) {
  sampler::seed_thread_random(2024);
  sampler s(policy(30, config::sample_by::kind::header, "x-user-id"));
  const auto r = get(); // no x-user-id
  EXPECT_FALSE(s.sample_key(r));
  const auto mirrored = count_mirrored(s, r, 100000);
  EXPECT_NEAR(static_cast<double>(mirrored), 30000, 900);
  // An empty header value is no key either.
  EXPECT_FALSE(s.sample_key(with_header("x-user-id", "")));
}

TEST(SamplerTest, HeaderKeyNameIsCaseInsensitive) {
  sampler s(policy(50, config::sample_by::kind::header, "x-user-id"));
  EXPECT_EQ(s.sample_key(with_header("X-USER-ID", "u1")), "u1");
}

TEST(SamplerTest, QueryKeyIsTakenRawFromTheTarget) {
  sampler s(policy(50, config::sample_by::kind::query, "user"));
  EXPECT_EQ(s.sample_key(get("/a?x=1&user=u%201&y=2")), "u%201");
  EXPECT_EQ(s.sample_key(get("http://shop.example.com/a?user=abc#frag")), "abc");
  EXPECT_FALSE(s.sample_key(get("/a?username=abc")));
  EXPECT_FALSE(s.sample_key(get("/a?user")));
  EXPECT_FALSE(s.sample_key(get("/a?user=")));
  EXPECT_FALSE(s.sample_key(get("/a#?user=abc")));
  EXPECT_FALSE(s.sample_key(get("/a/user=abc")));
}

TEST(SamplerTest, QueryValueTakesFirstOccurrence) {
  EXPECT_EQ(query_value("/?a=1&a=2", "a"), "1");
  EXPECT_EQ(query_value("/?&&a=x=y", "a"), "x=y");
  EXPECT_FALSE(query_value("/?A=1", "a")); // names are case-sensitive
}

TEST(SamplerTest, CookieKeyIsFoundAmongOthers) {
  sampler s(policy(50, config::sample_by::kind::cookie, "uid"));
  EXPECT_EQ(s.sample_key(with_header("Cookie", "a=1; uid=abc; b=2")), "abc");
  EXPECT_EQ(s.sample_key(with_header("cookie", "uid=abc")), "abc");
}

TEST(SamplerTest, CookieParsingEdgeCases) {
  const auto cookie = [](std::string_view header, std::string_view name) {
    proxy::http::header_list h;
    h.add("Cookie", header);
    auto v = cookie_value(h, name);
    return v ? std::string(*v) : std::string("<none>");
  };
  EXPECT_EQ(cookie("uid=abc", "uid"), "abc");
  EXPECT_EQ(cookie("  uid = abc  ;", "uid"), "abc");    // optional whitespace
  EXPECT_EQ(cookie("a=1;uid=abc", "uid"), "abc");       // no space after ';'
  EXPECT_EQ(cookie("uid=\"abc\"", "uid"), "abc");       // quoted value
  EXPECT_EQ(cookie("uid=a=b", "uid"), "a=b");           // '=' inside the value
  EXPECT_EQ(cookie("uid=1; uid=2", "uid"), "1");        // first wins
  EXPECT_EQ(cookie("xuid=1; uidx=2", "uid"), "<none>"); // no prefix or suffix matches
  EXPECT_EQ(cookie("UID=1", "uid"), "<none>");          // cookie names are case-sensitive
  EXPECT_EQ(cookie("uid", "uid"), "<none>");            // no '=': not a value
  EXPECT_EQ(cookie("uid=", "uid"), "<none>");           // empty value: no key
  EXPECT_EQ(cookie("uid=\"\"", "uid"), "<none>");       // empty quoted value
  EXPECT_EQ(cookie(";;; ; uid=z ;;", "uid"), "z");      // empty pairs
  EXPECT_EQ(cookie("", "uid"), "<none>");
}

TEST(SamplerTest, CookieValueSearchesEveryCookieHeader) {
  proxy::http::header_list h;
  h.add("Cookie", "a=1");
  h.add("X-Other", "uid=wrong");
  h.add("COOKIE", "uid=right");
  EXPECT_EQ(cookie_value(h, "uid"), "right");
}

TEST(SamplerTest, CookieKeyedSamplingMatchesKeyPosition) {
  sampler s(policy(20, config::sample_by::kind::cookie, "session"));
  for (int i = 0; i < 500; ++i) {
    const std::string key = "s" + std::to_string(i);
    const auto r = with_header("Cookie", "theme=dark; session=" + key);
    EXPECT_EQ(s.decide(r) == decision::mirror, sampler::key_position(key) < 0.2) << key;
  }
}

} // namespace
} // namespace parallax::mirror
