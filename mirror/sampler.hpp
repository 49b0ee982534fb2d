#pragma once
// Per-request mirroring decision, taken from the request head alone before anything is copied
// (config.md `mirror`: percent, sample_by, methods, max_rps).
//
// Sampling position: every request gets a position in [0, 1) and is sampled when
// `position < percent / 100`. Random sampling draws the position from a per-thread PRNG;
// keyed sampling (header:/cookie:/query:) uses key_position(key), a fixed function of the key
// bytes only (no seed, no salt), so a key gets the same decision in every process, replica
// and restart, and since the comparison is against a threshold that grows with `percent`,
// the keys sampled at 5% are a subset of those sampled at 10%.
//
// Key hash (stable, part of the contract; reproducible in any language):
//   h = FNV-1a 64 over the key bytes (offset 0xcbf29ce484222325, prime 0x100000001b3), then the
//   64-bit finalizer  h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33;
//                     h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33;
//   position = (h >> 11) * 2^-53.
// Keys are the raw bytes on the wire: query values are not percent-decoded and cookie values
// lose only surrounding double quotes, so `a%20b` and `a b` are different keys.

#include "config/config.hpp"
#include "proxy/http/message.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror {

namespace grpc {
class mirror_policy;
}

/// The sampler's verdict for one request; everything but `mirror` means "do not copy".
enum class decision {
  mirror,           // copy the request to the shadow
  not_sampled,      // outside the sampled percentage
  skip_method,      // sampled, but the method is not in `mirror.methods`
  skip_rate_limited // sampled, but the `max_rps` token bucket is empty
};

/// The value of cookie `name` (case-sensitive) from every Cookie header, first match wins;
/// surrounding double quotes are removed. Nothing for a missing cookie or an empty value.
std::optional<std::string_view> cookie_value(const proxy::http::header_list& headers,
                                             std::string_view name) noexcept;

/// The raw (not percent-decoded) value of query parameter `name` (case-sensitive, raw) in a
/// request target, first match wins. Nothing when it is missing, has no `=` or is empty.
std::optional<std::string_view> query_value(std::string_view target,
                                            std::string_view name) noexcept;

/// Decides per request whether to mirror it. One instance per route and configuration
/// snapshot, shared by every worker thread: decide() is thread-safe and lock-free. A reload
/// builds new samplers, so the max_rps bucket starts full again.
class sampler {
public:
  /// Monotonic time source, injectable so tests can drive the token bucket.
  using clock_fn = std::chrono::steady_clock::time_point (*)() noexcept;

  /// Builds a sampler from a route's mirror policy; `clock` feeds the max_rps token bucket.
  explicit sampler(const config::mirror_policy& policy, clock_fn clock = &steady_now);

  sampler(const sampler&) = delete;
  sampler& operator=(const sampler&) = delete;

  /// Decides for one request: sampling first, then method, then the token bucket (a token is
  /// spent only by requests that are otherwise mirrored).
  [[nodiscard]] decision decide(const proxy::http::request_head& request) noexcept;
  /// decide() without the token bucket (never skip_rate_limited): for callers that have
  /// further reasons to skip and spend a token (try_take_token) only once those pass.
  [[nodiscard]] decision
  decide_before_rate_limit(const proxy::http::request_head& request) noexcept;
  /// Decides gRPC calls (content-type application/grpc*) by `policy` instead of `methods`
  /// (set once, before use; `policy` must outlive the sampler).
  void set_grpc_policy(const grpc::mirror_policy* policy) noexcept { grpc_ = policy; }
  /// Spends a max_rps token; false when the bucket is empty (always true without max_rps).
  [[nodiscard]] bool try_take_token() noexcept;

  /// A runtime override of the configured percent (POST /mirror/ROUTE); nothing drops it. Any
  /// thread; decide() sees it with no lock.
  void set_percent_override(std::optional<double> percent) noexcept;
  /// The override in force, if any.
  [[nodiscard]] std::optional<double> percent_override() const noexcept;
  /// The configured percent.
  [[nodiscard]] double configured_percent() const noexcept { return configured_ * 100.0; }
  /// The percent in force: the override, else the configured one.
  [[nodiscard]] double percent() const noexcept {
    return fraction_.load(std::memory_order_relaxed) * 100.0;
  }

  /// The sampling key of a request under this sampler's `sample_by` (for header:NAME the first
  /// field's value); nothing for random sampling or when the request carries no non-empty key
  /// (it is then sampled at random).
  [[nodiscard]] std::optional<std::string_view>
  sample_key(const proxy::http::request_head& request) const noexcept;

  /// The stable 64-bit hash of a sampling key (FNV-1a 64 + finalizer, see the file comment).
  [[nodiscard]] static std::uint64_t key_hash(std::string_view key) noexcept;

  /// The stable sampling position of a key in [0, 1); sampled when position < percent / 100.
  [[nodiscard]] static double key_position(std::string_view key) noexcept;

  /// Re-seeds the calling thread's PRNG used for random sampling (reproducible tests).
  static void seed_thread_random(std::uint64_t seed) noexcept;

  /// The default clock: std::chrono::steady_clock::now().
  static std::chrono::steady_clock::time_point steady_now() noexcept;

private:
  bool sampled(const proxy::http::request_head& request) const noexcept;
  bool method_allowed(std::string_view method) const noexcept;
  bool allowed(const proxy::http::request_head& request) const noexcept;
  bool take_token() noexcept;

  const grpc::mirror_policy* grpc_ = nullptr;
  const double configured_;          // the configured percent / 100, in [0, 1]
  std::atomic<double> fraction_;     // the one in force (an override, or configured_)
  std::atomic<bool> overridden_{false};
  config::sample_by sample_by_;      // kind and key name
  std::vector<std::string> methods_; // upper-case; methods are case-sensitive (RFC 9110)
  clock_fn clock_;
  // Token bucket as GCRA (generic cell rate algorithm): one atomic "theoretical arrival time"
  // in clock nanoseconds, advanced by a CAS loop, so worker threads never block each other.
  // Equivalent to a bucket of capacity max(1, max_rps) refilled continuously at max_rps/s.
  bool rate_limited_;             // max_rps > 0
  std::int64_t interval_ns_ = 0;  // one token's worth of time: 1e9 / max_rps
  std::int64_t tolerance_ns_ = 0; // burst allowance: (capacity - 1) * interval
  std::atomic<std::int64_t> arrival_ns_;
};

} // namespace parallax::mirror
