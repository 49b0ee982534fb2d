#pragma once
// Compares a captured live response with a shadow response (and, when configured, with a
// secondary copy of the live version for noise) under a route's `compare` policy, producing
// the outcome, differences and noise count of a discrepancy record (reports.md).
//
// Body rules: both bodies are decoded (Content-Encoding) first; a body larger than
// compare.body.max_bytes, or one that cannot be decoded, is compared by size and SHA-256 only.
// The live Content-Type picks the comparison: JSON (`application/json`, `+json`) structurally
// when both bodies parse, other text types line by line, anything else by SHA-256.
//
// gRPC: a response whose live Content-Type is application/grpc* is compared as the call
// document of grpc/call_document.hpp: headers and trailers (grpc-status and grpc-message aside)
// like headers, kind `trailer` for trailers; the two grpc-status codes (kind `grpc_status`);
// grpc-message and the response messages (decoded with the route's descriptors, found by the
// request's path) with the JSON differ, so body ignore rules such as /messages/*/updated_at
// apply. A shadow cancelled after mirror.grpc.max_messages (`cut`) has no status or trailers to
// compare; bodies over compare.body.max_bytes are compared by the messages both prefixes hold.
//
// Noise: a difference between live and shadow that also appears between live and secondary
// (same kind and same path, header name, line or status) is dropped and counted in
// noise_suppressed, as are differences dropped by ignore rules (body paths, headers). A JSON body
// with more differences than the differ lists (max_differences) gets coarser ones (containers
// replaced whole, json_diff.hpp), which still rebuild the shadow body; the record is marked
// differences_coarsened.

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "mirror/capture/response_capture.hpp"
#include "mirror/diff/difference.hpp"
#include "mirror/diff/json_diff.hpp"
#include "mirror/report/record.hpp"

namespace parallax::mirror {

namespace grpc {
class descriptor_set;
}

/// How a body is compared.
enum class body_kind { json, text, bytes };

/// The comparison a Content-Type value calls for (parameters and case ignored).
[[nodiscard]] body_kind classify_content_type(std::string_view content_type) noexcept;

/// A route's compare policy, compiled once (JSON pointer patterns parsed), shareable
/// between threads (compare() is const and keeps no state).
class comparer {
public:
  /// Compiles `policy`; throws std::invalid_argument on a malformed pattern (the loader
  /// rejects those first).
  explicit comparer(const config::compare_policy& policy);

  /// Sets r.outcome, r.differences, r.noise_suppressed and r.differences_coarsened from the
  /// captures; a shadow with an error gives `shadow_error` and no differences. `secondary` may
  /// be null or failed (no noise filtering then).
  /// `request_path` names a gRPC call's method ("/pkg.Service/Method").
  void compare(const response_capture& live, const response_capture& shadow,
               const response_capture* secondary, report::record& r,
               std::string_view request_path = {}) const;

  /// What a comparison counts besides its differences.
  struct tally {
    std::size_t suppressed = 0; // differences dropped by ignore rules (body paths, headers)
    bool coarse = false;        // a JSON body's differences are coarser than found
  };
  /// The differences between two responses under the policy (ignore rules applied, their
  /// count added to `counts`).
  [[nodiscard]] std::vector<diff::difference> differences(const response_capture& a,
                                                          const response_capture& b, tally& counts,
                                                          std::string_view request_path = {}) const;

  /// gRPC: the route's descriptor sets (null: none; they must outlive this) and how many
  /// response messages are compared (mirror.grpc.max_messages).
  void set_grpc(const grpc::descriptor_set* descriptors, std::size_t max_messages) noexcept {
    descriptors_ = descriptors;
    max_messages_ = max_messages;
  }

private:
  void body_differences(const response_capture& a, const response_capture& b,
                        std::vector<diff::difference>& out, tally& counts) const;
  void grpc_differences(const response_capture& a, const response_capture& b,
                        std::string_view request_path, std::vector<diff::difference>& out,
                        tally& counts) const;

  config::compare_policy policy_;
  diff::json_diff_options json_;
  const grpc::descriptor_set* descriptors_ = nullptr;
  std::size_t max_messages_ = 100;
};

/// The key under which a difference counts as "the same field" for noise filtering.
[[nodiscard]] std::string noise_key(const diff::difference& d);

} // namespace parallax::mirror
