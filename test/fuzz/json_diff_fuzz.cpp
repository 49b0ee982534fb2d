// Fuzzes the JSON body differ (mirror/diff/json_diff.cpp). Input: one option byte, the live
// document, a line "---", the shadow document:
//   FLAGS LIVE "\n---\n" SHADOW       (a raw newline never occurs inside a JSON text)
// FLAGS bits: 1 null_equals_missing, 2 unordered_arrays "/**", 4 ignore "/**/ts",
// 8 also diff with max_differences 3 (coarser differences). The documents are parsed with
// Boost.JSON as the comparer does (default options, both in one monotonic scratch resource that is
// gone before the differences are used: they must own their values). Oracle, the patch rule of
// reports.md (as test/mirror/diff/json_diff_property_test.cpp checks it): applying the reported
// operations to the live document, `type` as `replace`, gives the shadow document, modulo what the
// options declare equal (null members dropped, arrays sorted, `ts` members dropped); operations
// have the values their op needs, `type` exactly when the JSON types differ, no operation nests
// inside another; equal documents have no differences and json_equal agrees; a result limited to 3
// differences is the full one when that has at most 3, and otherwise (`coarse`) at most 3
// differences that are a patch all the same.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "mirror/diff/json_diff.hpp"
#include "mirror/diff/pointer_pattern.hpp"
#include "test/fuzz/oracle.hpp"
#include "test/support/json_patch_oracle.hpp"

namespace {

using namespace parallax;
using namespace parallax::mirror::diff;
namespace json = boost::json;
using namespace parallax::test::json_oracle;

/// What the options make equal, folded away: `ts` members (ignore), null members
/// (null_equals_missing) dropped; every array sorted (unordered "/**").
struct normalizer {
  bool drop_ts = false;
  bool drop_nulls = false;
  bool sort_arrays = false;

  json::value operator()(const json::value& v) const {
    if (const json::object* obj = v.if_object()) {
      json::object out;
      for (const auto& member : *obj) {
        if (drop_nulls && member.value().is_null()) continue;
        if (drop_ts && member.key() == "ts") continue;
        out.insert_or_assign(member.key(), (*this)(member.value()));
      }
      return out;
    }
    if (const json::array* arr = v.if_array()) {
      json::array out;
      for (const auto& item : *arr)
        out.push_back((*this)(item));
      if (sort_arrays) {
        std::stable_sort(out.begin(), out.end(), [](const json::value& x, const json::value& y) {
          return json::serialize(canonical_numbers(x)) < json::serialize(canonical_numbers(y));
        });
      }
      return out;
    }
    return v;
  }
};

/// Whether two optional values are both absent or both present and the same.
bool same_value(const std::optional<json::value>& a, const std::optional<json::value>& b) {
  return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

/// Difference equality with same() for the values (operator== fails on a NaN).
bool same_difference(const difference& a, const difference& b) {
  return a.kind == b.kind && a.op == b.op && a.path == b.path && a.name == b.name &&
         a.line == b.line && same_value(a.live, b.live) && same_value(a.shadow, b.shadow);
}

void require_shapes(const std::vector<difference>& diffs) {
  for (const auto& d : diffs) {
    const std::string at = d.path + "\n" + describe(diffs);
    fuzz::require(d.kind == difference_kind::body, "a JSON difference not of kind body", at);
    switch (d.op) {
    case body_op::add:
      fuzz::require(!d.live && d.shadow, "add without exactly a shadow", at);
      break;
    case body_op::remove:
      fuzz::require(d.live && !d.shadow, "remove without exactly a live value", at);
      break;
    case body_op::replace:
      fuzz::require(d.live && d.shadow, "replace without both values", at);
      fuzz::require(same_json_type(*d.live, *d.shadow), "replace across JSON types", at);
      break;
    case body_op::type:
      fuzz::require(d.live && d.shadow, "type without both values", at);
      fuzz::require(!same_json_type(*d.live, *d.shadow), "type within one JSON type", at);
      break;
    case body_op::none: fuzz::violated("a difference with op none", at);
    }
    std::vector<std::string> segments;
    fuzz::require(parse_pointer(d.path, segments), "a path that is not a JSON Pointer", at);
  }
  for (const auto& outer : diffs)
    for (const auto& inner : diffs)
      fuzz::require(!is_ancestor(outer.path, inner.path), "one difference nests in another",
                    outer.path + " / " + inner.path);
}

/// Parses both documents into one scratch resource, as mirror/compare.cpp does, and diffs
/// them; the resource is gone when this returns. std::nullopt when either is not JSON.
std::optional<json_diff_result> diff_in_scratch(std::string_view live, std::string_view shadow,
                                                const json_diff_options& opts) {
  std::array<unsigned char, 16 * 1024> scratch; // NOLINT: filled by the resource
  json::monotonic_resource mr(scratch.data(), scratch.size());
  const json::storage_ptr sp(&mr);
  boost::system::error_code ea;
  boost::system::error_code eb;
  const auto a = json::parse(live, ea, sp);
  const auto b = json::parse(shadow, eb, sp);
  if (ea || eb) return std::nullopt;
  return diff_json(a, b, opts);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr std::string_view separator = "\n---\n";
  const auto cut = text.find(separator);
  if (cut == std::string_view::npos) return 0;
  const std::string_view live_text = text.substr(0, cut);
  const std::string_view shadow_text = text.substr(cut + separator.size());

  json_diff_options opts;
  normalizer normalize;
  opts.max_differences = std::numeric_limits<std::size_t>::max();
  if ((flags & 1) != 0) {
    opts.null_equals_missing = true;
    normalize.drop_nulls = true;
  }
  if ((flags & 2) != 0) {
    opts.unordered_arrays.push_back(*pointer_pattern::compile("/**"));
    normalize.sort_arrays = true;
  }
  if ((flags & 4) != 0) {
    opts.ignore.push_back(*pointer_pattern::compile("/**/ts"));
    normalize.drop_ts = true;
  }

  const auto result = diff_in_scratch(live_text, shadow_text, opts);
  if (!result) return 0;
  boost::system::error_code ec;
  const json::value live = json::parse(live_text, ec);
  const json::value shadow = json::parse(shadow_text, ec);
  const auto& diffs = result->differences;
  const std::string shown = "live   " + json::serialize(live) + "\nshadow " +
                            json::serialize(shadow) + "\n" + describe(diffs);

  fuzz::require(!result->truncated, "truncated without a limit", shown);
  require_shapes(diffs);
  if (same(live, shadow)) fuzz::require(diffs.empty(), "equal documents differ", shown);
  fuzz::require(diffs.empty() == json_equal(live, shadow, opts),
                "json_equal disagrees with diff_json", shown);

  json::value patched = live;
  fuzz::require(apply_patch(patched, diffs), "an operation's path does not resolve", shown);
  fuzz::require(same(normalize(patched), normalize(shadow)),
                "the patched live document is not the shadow document",
                shown + "patched " + json::serialize(patched));
  fuzz::require(diff_json(patched, shadow, opts).differences.empty(),
                "the patched document still differs from the shadow", shown);

  if ((flags & 8) != 0) {
    const auto full = opts;
    opts.max_differences = 3;
    const auto limited = diff_json(live, shadow, opts);
    const std::string both = shown + "limited to 3:\n" + describe(limited.differences);
    fuzz::require(limited.differences.size() <= 3, "more differences than max_differences", both);
    fuzz::require(!limited.truncated, "truncated despite coarser differences", both);
    fuzz::require(limited.coarse == (diffs.size() > 3), "coarse is wrong", both);
    if (!limited.coarse) {
      fuzz::require(std::equal(limited.differences.begin(), limited.differences.end(),
                               diffs.begin(), diffs.end(), same_difference),
                    "a result within the limit is not the full one", both);
    }
    require_shapes(limited.differences);
    json::value coarse_patched = live;
    fuzz::require(apply_patch(coarse_patched, limited.differences),
                  "a coarse operation's path does not resolve", both);
    fuzz::require(same(normalize(coarse_patched), normalize(shadow)),
                  "the coarsely patched live document is not the shadow document",
                  both + "patched " + json::serialize(coarse_patched));
    fuzz::require(diff_json(coarse_patched, shadow, full).differences.empty(),
                  "the coarsely patched document still differs from the shadow", both);
  }
  return 0;
}
