#pragma once
// Structural diff of two decoded JSON bodies (reports.md `kind: body`).
//
// The patch property: applying the differences of a result to the live document, in order,
// with `type` applied as a `replace` (see body_op), gives the shadow document, except
// - under ignored paths (their differences are dropped and only counted),
// - where an option declares two values equal that are not identical: numbers within
//   `numeric_tolerance` (1 and 1.0 are always equal), a null member against a missing one
//   with `null_equals_missing`, and element order in `unordered_arrays`,
// - when the result is truncated (never with max_differences >= 1: see `coarse`).
// Differences never nest: a value that is added, removed or replaced is reported whole.
//
// When the documents differ in more than max_differences places, the differences are coarser
// instead of cut: containers at some depth are replaced whole, the deepest depth at which the
// list fits (at worst the root, one operation). The patch property holds all the same.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "config/config.hpp"
#include "mirror/diff/difference.hpp"
#include "mirror/diff/pointer_pattern.hpp"

namespace parallax::mirror::diff {

/// Compiled options of a JSON body comparison (config.md `compare.body`).
struct json_diff_options {
  /// Differences at or below a matching path are dropped and counted as suppressed.
  std::vector<pointer_pattern> ignore;
  /// Arrays at matching paths are compared as multisets: unmatched elements are reported as
  /// removes (highest index first) followed by adds appended at the end, so the patched
  /// array holds the shadow's elements in another order.
  std::vector<pointer_pattern> unordered_arrays;
  /// Absolute tolerance for numbers; int64, uint64 and double always compare numerically.
  double numeric_tolerance = 0;
  /// A null member on one side equals a missing member on the other (objects only; array
  /// elements are positions, never missing).
  bool null_equals_missing = false;
  /// At most this many differences are returned: beyond it, coarser ones (`coarse`).
  std::size_t max_differences = 100;
  /// Budget of element comparisons per unordered array beyond the positional pass; when it
  /// is spent, the remaining elements are reported as removed/added (still a valid patch).
  std::size_t max_unordered_comparisons = 1u << 16;
};

/// The outcome of diff_json.
struct json_diff_result {
  std::vector<difference> differences; // kind body, in patch order
  std::size_t suppressed = 0;          // differences dropped by `ignore`
  bool coarse = false;    // more than max_differences existed: containers are replaced whole
  bool truncated = false; // the list stopped at max_differences (only when that is 0)
};

/// Compiles a configuration's body options; std::nullopt when a pattern is malformed (the
/// loader rejects those, so this only fails for hand-built configurations).
[[nodiscard]] std::optional<json_diff_options>
make_json_diff_options(const config::body_compare& body);

/// Compares two JSON documents and lists the differences that turn `live` into `shadow`.
[[nodiscard]] json_diff_result diff_json(const boost::json::value& live,
                                         const boost::json::value& shadow,
                                         const json_diff_options& opts);

/// Same as the other overload, returning the suppressed count through `suppressed`.
[[nodiscard]] std::vector<difference> diff_json(const boost::json::value& live,
                                                const boost::json::value& shadow,
                                                const json_diff_options& opts,
                                                std::size_t& suppressed);

/// Whether two JSON values are equal under `opts` (no differences, ignored ones aside).
[[nodiscard]] bool json_equal(const boost::json::value& live, const boost::json::value& shadow,
                              const json_diff_options& opts);

/// Applies the `body` differences of `diffs` to `doc` in order with RFC 6902 semantics
/// (add, remove, replace; `type` as replace; other kinds are skipped). Returns false, with
/// `doc` partly patched, at the first operation whose path does not resolve.
[[nodiscard]] bool apply_patch(boost::json::value& doc, const std::vector<difference>& diffs);

} // namespace parallax::mirror::diff
