// Property tests of diff_json: for random document pairs, applying the reported operations to
// the live document gives the shadow document (modulo what the options declare equal).

#include "mirror/diff/json_diff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "test/support/json_patch_oracle.hpp"

namespace parallax::mirror::diff {
namespace {

namespace json = boost::json;
using namespace parallax::test::json_oracle;

/// Random JSON documents and random mutations of them (seeded: failures reproduce).
class generator {
public:
  explicit generator(std::uint32_t seed) : rng_(seed) {}

  /// A random value; containers only while `depth` > 0.
  json::value value(int depth) {
    const std::size_t choice = below(depth > 0 ? 12 : 8);
    switch (choice) {
    case 0: return nullptr;
    case 1: return below(2) == 1;
    case 2: return static_cast<std::int64_t>(below(7)) - 3;
    case 3:
      return below(2) == 0 ? json::value(std::numeric_limits<std::int64_t>::min() +
                                         static_cast<std::int64_t>(below(3)))
                           : json::value(std::numeric_limits<std::uint64_t>::max() - below(3));
    case 4: return static_cast<double>(below(9)) / 4.0 - 1.0; // often equal to an integer
    case 5:
    case 6: return json::value(strings[below(std::size(strings))]);
    case 7: return nullptr;
    case 8:
    case 9: {
      json::object obj;
      for (std::size_t n = below(5); n > 0; --n)
        obj.insert_or_assign(keys[below(std::size(keys))], value(depth - 1));
      return obj;
    }
    default: {
      json::array arr;
      for (std::size_t n = below(5); n > 0; --n)
        arr.push_back(value(depth - 1));
      return arr;
    }
    }
  }

  /// Applies one random change somewhere inside `v` (possibly to `v` itself).
  void mutate(json::value& v, int depth) {
    if (json::object* obj = v.if_object()) {
      const std::size_t choice = below(8);
      if (!obj->empty() && choice < 4) {
        auto it = obj->begin() + static_cast<std::ptrdiff_t>(below(obj->size()));
        if (choice < 3) {
          mutate(it->value(), depth - 1);
        } else {
          obj->erase(it);
        }
        return;
      }
      if (choice < 7) {
        obj->insert_or_assign(keys[below(std::size(keys))], value(depth - 1));
        return;
      }
    } else if (json::array* arr = v.if_array()) {
      const std::size_t choice = below(8);
      if (!arr->empty() && choice < 4) {
        auto it = arr->begin() + static_cast<std::ptrdiff_t>(below(arr->size()));
        if (choice < 3) {
          mutate(*it, depth - 1);
        } else {
          arr->erase(it);
        }
        return;
      }
      if (choice < 6) {
        arr->insert(arr->begin() + static_cast<std::ptrdiff_t>(below(arr->size() + 1)),
                    value(depth - 1));
        return;
      }
      if (choice < 7 && arr->size() > 1) { // a reordering: what unordered arrays forgive
        std::shuffle(arr->begin(), arr->end(), rng_);
        return;
      }
    }
    v = value(std::max(depth, 0));
  }

  /// A uniformly random number below `n` (n > 0).
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

private:
  static constexpr const char* keys[] = {"a", "b", "c", "id", "ts", "a/b", "m~n", "", "~1", "0"};
  static constexpr const char* strings[] = {"", "x", "y", "hello", "~", "/"};
  std::mt19937 rng_;
};

/// What the options make equal, folded away: members named in `drop_keys` and (with
/// `drop_nulls`) null members are removed, arrays at `unordered` paths are sorted.
struct normalizer {
  std::vector<std::string> drop_keys;
  bool drop_nulls = false;
  std::vector<pointer_pattern> unordered;

  json::value operator()(const json::value& v) {
    std::vector<path_segment> path;
    return normalize(v, path);
  }

private:
  json::value normalize(const json::value& v, std::vector<path_segment>& path) {
    if (const json::object* obj = v.if_object()) {
      json::object out;
      for (const auto& member : *obj) {
        if (drop_nulls && member.value().is_null()) continue;
        if (std::find(drop_keys.begin(), drop_keys.end(), member.key()) != drop_keys.end())
          continue;
        path.push_back({member.key(), 0, false});
        out.insert_or_assign(member.key(), normalize(member.value(), path));
        path.pop_back();
      }
      return out;
    }
    if (const json::array* arr = v.if_array()) {
      json::array out;
      for (std::size_t i = 0; i < arr->size(); ++i) {
        path.push_back({{}, i, true});
        out.push_back(normalize((*arr)[i], path));
        path.pop_back();
      }
      const bool sort = std::any_of(unordered.begin(), unordered.end(), [&](const auto& p) {
        return p.matches(std::span<const path_segment>(path));
      });
      if (sort) {
        std::stable_sort(out.begin(), out.end(), [](const json::value& x, const json::value& y) {
          return json::serialize(canonical_numbers(x)) < json::serialize(canonical_numbers(y));
        });
      }
      return out;
    }
    return v;
  }
};

/// Checks the shape of every difference: values present as the op needs, `type` exactly
/// when the JSON types differ, and no difference nested inside another.
void check_shapes(const std::vector<difference>& diffs) {
  for (const auto& d : diffs) {
    EXPECT_EQ(d.kind, difference_kind::body);
    switch (d.op) {
    case body_op::add: EXPECT_TRUE(!d.live && d.shadow) << d.path; break;
    case body_op::remove: EXPECT_TRUE(d.live && !d.shadow) << d.path; break;
    case body_op::replace:
      ASSERT_TRUE(d.live && d.shadow) << d.path;
      EXPECT_TRUE(same_json_type(*d.live, *d.shadow)) << d.path;
      break;
    case body_op::type:
      ASSERT_TRUE(d.live && d.shadow) << d.path;
      EXPECT_FALSE(same_json_type(*d.live, *d.shadow)) << d.path;
      break;
    case body_op::none: ADD_FAILURE() << "op none at " << d.path; break;
    }
    std::vector<std::string> segments;
    EXPECT_TRUE(parse_pointer(d.path, segments)) << d.path;
  }
  for (const auto& outer : diffs)
    for (const auto& inner : diffs)
      EXPECT_FALSE(is_ancestor(outer.path, inner.path)) << outer.path << " / " << inner.path;
}

/// Runs `pairs` random live/shadow pairs through diff_json and apply_patch under `opts`.
/// Adds the suppressed counts to `suppressed` (so callers can check ignores were exercised).
/// With `rediff`, the patched document must also diff empty against the shadow (not so when
/// a tiny unordered budget can miss pairings). With `max_differences`, results beyond it are
/// coarser (containers replaced whole) and must be patches all the same; `coarse` counts them.
void check_patch_property(std::uint32_t seed, int pairs, json_diff_options opts,
                          normalizer normalize, std::size_t* suppressed = nullptr,
                          bool rediff = true,
                          std::size_t max_differences = std::numeric_limits<std::size_t>::max(),
                          std::size_t* coarse = nullptr) {
  opts.max_differences = max_differences;
  generator gen(seed);
  std::size_t nonempty = 0;
  for (int i = 0; i < pairs; ++i) {
    const json::value live = gen.value(4);
    json::value shadow;
    const std::size_t shape = gen.below(10);
    if (shape == 0) {
      shadow = gen.value(4); // unrelated documents
    } else {
      shadow = live; // identical, or a few mutations away
      for (std::size_t n = shape == 1 ? 0 : gen.below(4) + 1; n > 0; --n)
        gen.mutate(shadow, 4);
    }
    SCOPED_TRACE("seed " + std::to_string(seed) + " pair " + std::to_string(i) + "\nlive   " +
                 json::serialize(live) + "\nshadow " + json::serialize(shadow));

    const json_diff_result result = diff_json(live, shadow, opts);
    if (suppressed != nullptr) *suppressed += result.suppressed;
    nonempty += result.differences.empty() ? 0 : 1;
    ASSERT_FALSE(result.truncated);
    ASSERT_LE(result.differences.size(), max_differences);
    if (coarse != nullptr && result.coarse) ++*coarse;
    check_shapes(result.differences);
    if (same(live, shadow)) {
      EXPECT_TRUE(result.differences.empty()) << describe(result.differences);
    }
    EXPECT_EQ(result.differences.empty(), json_equal(live, shadow, opts));

    json::value doc = live;
    ASSERT_TRUE(apply_patch(doc, result.differences)) << describe(result.differences);
    EXPECT_TRUE(same(normalize(doc), normalize(shadow)))
        << "patched " << json::serialize(doc) << "\n"
        << describe(result.differences);
    // The patched document is equal to the shadow under the same options.
    if (rediff) {
      EXPECT_TRUE(diff_json(doc, shadow, opts).differences.empty());
    }
  }
  EXPECT_GT(nonempty, static_cast<std::size_t>(pairs) / 2); // the generator does make changes
}

std::vector<pointer_pattern> patterns(std::initializer_list<const char*> texts) {
  std::vector<pointer_pattern> out;
  for (const char* text : texts) {
    auto p = pointer_pattern::compile(text);
    EXPECT_TRUE(p.has_value()) << text;
    if (p) out.push_back(std::move(*p));
  }
  return out;
}

TEST(JsonDiffPropertyTest, PatchTurnsLiveIntoShadow) {
  for (std::uint32_t seed : {1u, 2u, 3u})
    check_patch_property(seed, 2000, {}, {});
}

TEST(JsonDiffPropertyTest, PatchHoldsModuloNullEqualsMissing) {
  json_diff_options opts;
  opts.null_equals_missing = true;
  normalizer normalize;
  normalize.drop_nulls = true;
  check_patch_property(11, 3000, opts, normalize);
}

TEST(JsonDiffPropertyTest, PatchHoldsModuloUnorderedArrays) {
  for (const auto& which : {patterns({"/**"}), patterns({"/*", "/a/**"})}) {
    json_diff_options opts;
    opts.unordered_arrays = which;
    normalizer normalize;
    normalize.unordered = which;
    check_patch_property(21, 3000, opts, normalize);
  }
}

TEST(JsonDiffPropertyTest, PatchHoldsModuloIgnoredPaths) {
  json_diff_options opts;
  opts.ignore = patterns({"/**/ts", "/**/id"});
  normalizer normalize;
  normalize.drop_keys = {"ts", "id"};
  std::size_t suppressed = 0;
  check_patch_property(31, 3000, opts, normalize, &suppressed);
  EXPECT_GT(suppressed, 0u);
}

TEST(JsonDiffPropertyTest, PatchHoldsWithAllOptionsCombined) {
  json_diff_options opts;
  opts.ignore = patterns({"/**/ts"});
  opts.unordered_arrays = patterns({"/**"});
  opts.null_equals_missing = true;
  normalizer normalize;
  normalize.drop_keys = {"ts"};
  normalize.drop_nulls = true;
  normalize.unordered = opts.unordered_arrays;
  std::size_t suppressed = 0;
  check_patch_property(41, 3000, opts, normalize, &suppressed);
  EXPECT_GT(suppressed, 0u);
}

TEST(JsonDiffPropertyTest, PatchHoldsWhenDifferencesAreCoarsened) {
  // reports.md's property holds past max_differences too: the differences are coarser.
  json_diff_options opts;
  opts.ignore = patterns({"/**/ts"});
  normalizer normalize;
  normalize.drop_keys = {"ts"};
  std::size_t coarse = 0;
  check_patch_property(61, 3000, {}, {}, nullptr, true, 2, &coarse);
  check_patch_property(62, 3000, opts, normalize, nullptr, true, 1, &coarse);
  EXPECT_GT(coarse, 500u); // the generator makes enough differences to coarsen often
}

TEST(JsonDiffPropertyTest, TinyUnorderedBudgetStillPatches) {
  json_diff_options opts;
  opts.unordered_arrays = patterns({"/**"});
  opts.max_unordered_comparisons = 1;
  normalizer normalize;
  normalize.unordered = opts.unordered_arrays;
  check_patch_property(51, 2000, opts, normalize, nullptr, false);
}

} // namespace
} // namespace parallax::mirror::diff
