#include "mirror/sampler.hpp"

#include "mirror/grpc/messages.hpp"
#include "mirror/grpc/policy.hpp"

#include "proxy/http/ascii.hpp"
#include "proxy/http/query.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <thread>

namespace parallax::mirror {
namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;
constexpr double two_to_minus_53 = 1.0 / 9007199254740992.0; // 2^-53

// Spreads every input bit over the whole word (FNV-1a alone leaves the high bits, which decide
// the position, weakly mixed for short keys that differ only in their last bytes).
constexpr std::uint64_t finalize(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Maps 64 uniform bits to a double in [0, 1) using the top 53 bits (exact, no rounding up to 1).
constexpr double unit_interval(std::uint64_t bits) noexcept {
  return static_cast<double>(bits >> 11) * two_to_minus_53;
}

// SplitMix64: a tiny, fast generator with one word of state, good enough for sampling. One per
// thread, so random sampling needs neither locks nor atomics.
struct split_mix {
  std::uint64_t state;
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

std::uint64_t initial_seed() noexcept {
  // random_device may throw where no entropy source exists; fall back to time and thread id.
  std::uint64_t seed = 0;
  try {
    std::random_device device;
    seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  } catch (...) {
    seed = 0;
  }
  seed ^= static_cast<std::uint64_t>(
      std::chrono::high_resolution_clock::now().time_since_epoch().count());
  seed ^= std::hash<std::thread::id>{}(std::this_thread::get_id()) * fnv_prime;
  return seed;
}

split_mix& thread_random() noexcept {
  thread_local split_mix generator{initial_seed()};
  return generator;
}

// Nanoseconds as int64, saturating instead of overflowing for absurd rates.
std::int64_t to_ns(double ns) noexcept {
  constexpr double max_ns = 1e18; // ~31 years: longer is "never" for a proxy
  if (!(ns > 0)) return 0;
  return std::llround(std::min(ns, max_ns));
}

} // namespace

std::optional<std::string_view> cookie_value(const proxy::http::header_list& headers,
                                             std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (!proxy::http::iequals(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const auto semicolon = rest.find(';');
      const std::string_view pair = proxy::http::trim_ows(rest.substr(0, semicolon));
      rest = semicolon == std::string_view::npos ? std::string_view{} : rest.substr(semicolon + 1);
      const auto equals = pair.find('=');
      if (equals == std::string_view::npos) continue; // "flag" without a value: not a key
      if (proxy::http::trim_ows(pair.substr(0, equals)) != name) continue;
      std::string_view value = proxy::http::trim_ows(pair.substr(equals + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (value.empty()) return std::nullopt; // present but empty: no key
      return value;
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> query_value(std::string_view target,
                                            std::string_view name) noexcept {
  const auto query = proxy::http::query_of(target);
  if (!query) return std::nullopt;
  std::optional<std::string_view> found;
  proxy::http::for_each_param(*query, [&](const proxy::http::query_param& p) {
    if (!p.value || p.name != name) return true; // a bare `name` is no key either
    if (!p.value->empty()) found = p.value;
    return false; // the first match decides, even when its value is empty
  });
  return found;
}

sampler::sampler(const config::mirror_policy& policy, clock_fn clock)
    : configured_(std::clamp(policy.percent, 0.0, 100.0) / 100.0), fraction_(configured_),
      sample_by_(policy.sample_by),
      methods_(policy.methods), clock_(clock), rate_limited_(policy.max_rps > 0),
      arrival_ns_(std::numeric_limits<std::int64_t>::min()) {
  if (rate_limited_) {
    const double capacity = std::max(1.0, policy.max_rps);
    interval_ns_ = to_ns(1e9 / policy.max_rps);
    tolerance_ns_ = to_ns((capacity - 1.0) * 1e9 / policy.max_rps);
  }
}

std::chrono::steady_clock::time_point sampler::steady_now() noexcept {
  return std::chrono::steady_clock::now();
}

decision sampler::decide(const proxy::http::request_head& request) noexcept {
  const auto d = decide_before_rate_limit(request);
  if (d != decision::mirror) return d;
  return try_take_token() ? decision::mirror : decision::skip_rate_limited;
}

decision sampler::decide_before_rate_limit(const proxy::http::request_head& request) noexcept {
  if (!sampled(request)) return decision::not_sampled;
  if (!allowed(request)) return decision::skip_method;
  return decision::mirror;
}

bool sampler::try_take_token() noexcept {
  return !rate_limited_ || take_token();
}

std::optional<std::string_view>
sampler::sample_key(const proxy::http::request_head& request) const noexcept {
  switch (sample_by_.by) {
  case config::sample_by::kind::random: return std::nullopt;
  case config::sample_by::kind::header: {
    auto value = request.headers.find(sample_by_.name);
    if (!value || value->empty()) return std::nullopt;
    return value;
  }
  case config::sample_by::kind::cookie: return cookie_value(request.headers, sample_by_.name);
  case config::sample_by::kind::query: return query_value(request.target, sample_by_.name);
  }
  return std::nullopt;
}

std::uint64_t sampler::key_hash(std::string_view key) noexcept {
  std::uint64_t h = fnv_offset;
  for (const char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= fnv_prime;
  }
  return finalize(h);
}

double sampler::key_position(std::string_view key) noexcept {
  return unit_interval(key_hash(key));
}

void sampler::seed_thread_random(std::uint64_t seed) noexcept {
  thread_random().state = seed;
}

bool sampler::sampled(const proxy::http::request_head& request) const noexcept {
  const double fraction = fraction_.load(std::memory_order_relaxed);
  // Shortcuts keep 0% and 100% free of hashing and PRNG draws.
  if (fraction <= 0.0) return false;
  if (fraction >= 1.0) return true;
  if (auto key = sample_key(request)) return key_position(*key) < fraction;
  return unit_interval(thread_random().next()) < fraction;
}

void sampler::set_percent_override(std::optional<double> percent) noexcept {
  overridden_.store(percent.has_value(), std::memory_order_relaxed);
  fraction_.store(percent ? std::clamp(*percent, 0.0, 100.0) / 100.0 : configured_,
                  std::memory_order_relaxed);
}

std::optional<double> sampler::percent_override() const noexcept {
  if (!overridden_.load(std::memory_order_relaxed)) return std::nullopt;
  return percent();
}

bool sampler::allowed(const proxy::http::request_head& request) const noexcept {
  if (grpc_ != nullptr) {
    const auto type = request.headers.find("content-type");
    if (type && grpc::is_grpc_content_type(*type)) return grpc_->allows(request.path());
  }
  return method_allowed(request.method);
}

bool sampler::method_allowed(std::string_view method) const noexcept {
  return std::find(methods_.begin(), methods_.end(), method) != methods_.end();
}

bool sampler::take_token() noexcept {
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_().time_since_epoch()).count();
  std::int64_t arrival = arrival_ns_.load(std::memory_order_relaxed);
  for (;;) {
    // Conforming when the theoretical arrival time is at most `tolerance` ahead of now,
    // i.e. the bucket still holds one token.
    if (arrival > now && arrival - now > tolerance_ns_) return false;
    const std::int64_t next = std::max(arrival, now) + interval_ns_;
    if (arrival_ns_.compare_exchange_weak(arrival, next, std::memory_order_relaxed)) return true;
  }
}

} // namespace parallax::mirror
