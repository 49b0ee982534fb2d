#include "mirror/diff/json_diff.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace parallax::mirror::diff {

namespace json = boost::json;

namespace {

/// JSON's own types: Boost.JSON's three number kinds are one type here.
enum class json_type { null, boolean, number, string, array, object };

json_type type_of(const json::value& v) noexcept {
  switch (v.kind()) {
  case json::kind::null: return json_type::null;
  case json::kind::bool_: return json_type::boolean;
  case json::kind::int64:
  case json::kind::uint64:
  case json::kind::double_: return json_type::number;
  case json::kind::string: return json_type::string;
  case json::kind::array: return json_type::array;
  case json::kind::object: return json_type::object;
  }
  return json_type::null;
}

long double as_long_double(const json::value& v) noexcept {
  switch (v.kind()) {
  case json::kind::int64: return static_cast<long double>(v.get_int64());
  case json::kind::uint64: return static_cast<long double>(v.get_uint64());
  // Boost.JSON 1.81 parses 0e400 as NaN (0 times an infinite power of ten); JSON has no NaN.
  case json::kind::double_: return std::isnan(v.get_double()) ? 0 : v.get_double();
  default: return 0;
  }
}

/// Numeric equality across int64/uint64/double within an absolute tolerance. Integers are
/// compared exactly (Boost.JSON's equality handles int64 against uint64); a mix with a
/// double goes through long double, which holds every 64-bit integer on the platforms
/// this builds for.
bool numbers_equal(const json::value& a, const json::value& b, double tolerance) noexcept {
  if (!a.is_double() && !b.is_double() && a == b) return true;
  const long double x = as_long_double(a);
  const long double y = as_long_double(b);
  if (x == y) return true;
  return std::fabs(x - y) <= static_cast<long double>(tolerance);
}

/// Walks two documents side by side. In report mode (`out` given) it records differences,
/// counting the ignored ones; in probe mode it only answers "is there any difference that
/// is not ignored" and stops at the first one. Unordered arrays use probes on the same
/// walker (same path stack) to pair elements, so nothing is copied per probe.
///
/// With a depth limit, two containers of one type at that depth (path length) are not walked
/// into: when anything below differs, the whole container is replaced (one operation, still a
/// patch; what differs only under ignored paths is not counted then).
class walker {
public:
  static constexpr std::size_t unlimited = static_cast<std::size_t>(-1);

  walker(const json_diff_options& opts, json_diff_result* out, std::size_t depth_limit = unlimited)
      : opts_(opts), out_(out), depth_limit_(depth_limit) {
    probing_ = out_ == nullptr;
  }

  /// Compares the values at the current path.
  void compare(const json::value& live, const json::value& shadow) {
    const bool was_ignored = ignored_;
    if (!ignored_ && ignored_here()) {
      if (probing_) return; // nothing below can count as a difference
      ignored_ = true;
    }
    if (!probing_ && !ignored_ && path_.size() >= depth_limit_ && is_container(live) &&
        live.kind() == shadow.kind()) {
      if (probe([&] { compare_values(live, shadow); })) report(body_op::replace, &live, &shadow);
    } else {
      compare_values(live, shadow);
    }
    ignored_ = was_ignored;
  }

  /// True when a probe met a difference that is not ignored.
  [[nodiscard]] bool found() const noexcept { return found_; }

private:
  void compare_values(const json::value& live, const json::value& shadow) {
    const json_type type = type_of(live);
    if (type != type_of(shadow)) {
      report(body_op::type, &live, &shadow);
      return;
    }
    switch (type) {
    case json_type::null: return;
    case json_type::boolean:
      if (live.get_bool() != shadow.get_bool()) report(body_op::replace, &live, &shadow);
      return;
    case json_type::number:
      if (!numbers_equal(live, shadow, opts_.numeric_tolerance))
        report(body_op::replace, &live, &shadow);
      return;
    case json_type::string:
      if (live.get_string() != shadow.get_string()) report(body_op::replace, &live, &shadow);
      return;
    case json_type::array:
      if (unordered_here()) {
        compare_unordered(live.get_array(), shadow.get_array());
      } else {
        compare_arrays(live.get_array(), shadow.get_array());
      }
      return;
    case json_type::object: compare_objects(live.get_object(), shadow.get_object()); return;
    }
  }

  void compare_objects(const json::object& live, const json::object& shadow) {
    for (const auto& member : live) {
      if (stop_) return;
      push_key(member.key());
      if (const json::value* other = shadow.if_contains(member.key())) {
        compare(member.value(), *other);
      } else if (!(opts_.null_equals_missing && member.value().is_null())) {
        report(body_op::remove, &member.value(), nullptr);
      }
      pop();
    }
    for (const auto& member : shadow) {
      if (stop_) return;
      if (live.contains(member.key())) continue;
      if (opts_.null_equals_missing && member.value().is_null()) continue;
      push_key(member.key());
      report(body_op::add, nullptr, &member.value());
      pop();
    }
  }

  // Element by element; surplus live elements are removed from the highest index down and
  // surplus shadow elements appended in order, so the operations apply one after another.
  void compare_arrays(const json::array& live, const json::array& shadow) {
    const std::size_t common = std::min(live.size(), shadow.size());
    for (std::size_t i = 0; i < common && !stop_; ++i) {
      push_index(i);
      compare(live[i], shadow[i]);
      pop();
    }
    for (std::size_t i = live.size(); i > shadow.size() && !stop_; --i) {
      push_index(i - 1);
      report(body_op::remove, &live[i - 1], nullptr);
      pop();
    }
    for (std::size_t i = live.size(); i < shadow.size() && !stop_; ++i) {
      push_index(i);
      report(body_op::add, nullptr, &shadow[i]);
      pop();
    }
  }

  // Multiset comparison: pair equal elements (first at the same position, then by search
  // within a budget); unpaired live elements are removed (highest index first) and
  // unpaired shadow elements appended. Paired elements are equal, so the patched array is
  // a permutation of the shadow array.
  void compare_unordered(const json::array& live, const json::array& shadow) {
    constexpr std::size_t unpaired = static_cast<std::size_t>(-1);
    std::vector<std::size_t> pair_of(live.size(), unpaired); // live index -> shadow index
    std::vector<bool> shadow_paired(shadow.size(), false);
    std::size_t pairs = 0;
    const std::size_t common = std::min(live.size(), shadow.size());
    for (std::size_t i = 0; i < common; ++i) {
      if (probe_equal(i, live[i], shadow[i])) {
        pair_of[i] = i;
        shadow_paired[i] = true;
        ++pairs;
      }
    }
    std::size_t budget = opts_.max_unordered_comparisons;
    for (std::size_t i = 0; i < live.size() && budget > 0 && pairs < shadow.size(); ++i) {
      if (pair_of[i] != unpaired) continue;
      for (std::size_t j = 0; j < shadow.size() && budget > 0; ++j) {
        if (shadow_paired[j]) continue;
        --budget;
        if (probe_equal(i, live[i], shadow[j])) {
          pair_of[i] = j;
          shadow_paired[j] = true;
          ++pairs;
          break;
        }
      }
    }
    // Pairs may still differ below ignored paths: walk them to count what was suppressed.
    if (!probing_ && !opts_.ignore.empty()) {
      for (std::size_t i = 0; i < live.size() && !stop_; ++i) {
        if (pair_of[i] == unpaired) continue;
        push_index(i);
        compare(live[i], shadow[pair_of[i]]);
        pop();
      }
    }
    for (std::size_t i = live.size(); i > 0 && !stop_; --i) {
      if (pair_of[i - 1] != unpaired) continue;
      push_index(i - 1);
      report(body_op::remove, &live[i - 1], nullptr);
      pop();
    }
    std::size_t next = pairs;
    for (std::size_t j = 0; j < shadow.size() && !stop_; ++j) {
      if (shadow_paired[j]) continue;
      push_index(next++);
      report(body_op::add, nullptr, &shadow[j]);
      pop();
    }
  }

  static bool is_container(const json::value& v) noexcept { return v.is_array() || v.is_object(); }

  /// Runs `walk` as a probe (nothing reported; it stops at the first difference that is not
  /// ignored): whether it met one. The walker's own state is as it was afterwards.
  template <typename Walk>
  bool probe(Walk walk) {
    const bool was_probing = std::exchange(probing_, true);
    const bool was_found = std::exchange(found_, false);
    const bool was_stopped = std::exchange(stop_, false);
    walk();
    const bool differs = found_;
    probing_ = was_probing;
    found_ = was_found;
    stop_ = was_stopped;
    return differs;
  }

  /// Whether live element `index` equals `shadow` (a probe at path .../index).
  bool probe_equal(std::size_t index, const json::value& live, const json::value& shadow) {
    push_index(index);
    const bool equal = !probe([&] { compare(live, shadow); });
    pop();
    return equal;
  }

  void report(body_op op, const json::value* live, const json::value* shadow) {
    if (ignored_ || ignored_here()) {
      if (!probing_) ++out_->suppressed;
      return;
    }
    if (probing_) {
      found_ = true;
      stop_ = true;
      return;
    }
    if (out_->differences.size() >= opts_.max_differences) {
      out_->truncated = true;
      stop_ = true;
      return;
    }
    difference& d = out_->differences.emplace_back();
    d.kind = difference_kind::body;
    d.op = op;
    d.path = pointer();
    // Copied into the default heap: the documents may live in a scratch resource that is
    // gone once the comparison ends.
    if (live != nullptr) d.live.emplace(*live, json::storage_ptr());
    if (shadow != nullptr) d.shadow.emplace(*shadow, json::storage_ptr());
  }

  [[nodiscard]] bool ignored_here() const noexcept {
    for (const auto& pattern : opts_.ignore)
      if (pattern.matches(path_)) return true;
    return false;
  }

  [[nodiscard]] bool unordered_here() const noexcept {
    for (const auto& pattern : opts_.unordered_arrays)
      if (pattern.matches(path_)) return true;
    return false;
  }

  /// The RFC 6901 pointer of the current path (built only for reported differences).
  [[nodiscard]] std::string pointer() const {
    std::string out;
    for (const auto& segment : path_) {
      if (segment.is_index) {
        append_index(out, segment.index);
      } else {
        append_segment(out, segment.key);
      }
    }
    return out;
  }

  void push_key(std::string_view key) { path_.push_back({key, 0, false}); }
  void push_index(std::size_t index) { path_.push_back({{}, index, true}); }
  void pop() noexcept { path_.pop_back(); }

  const json_diff_options& opts_;
  json_diff_result* out_;
  std::size_t depth_limit_;
  std::vector<path_segment> path_; // keys view the documents being compared
  bool probing_ = false;
  bool ignored_ = false; // inside a subtree an ignore pattern matched
  bool found_ = false;
  bool stop_ = false; // truncated, or a probe found a difference
};

/// The container and last segment an operation at `segments` acts on, or nullptr.
json::value* resolve_parent(json::value& doc, const std::vector<std::string>& segments) {
  json::value* at = &doc;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (json::object* obj = at->if_object()) {
      at = obj->if_contains(segments[i]);
    } else if (json::array* arr = at->if_array()) {
      const auto index = parse_index(segments[i]);
      at = index && *index < arr->size() ? &(*arr)[*index] : nullptr;
    } else {
      at = nullptr;
    }
    if (at == nullptr) return nullptr;
  }
  return at;
}

bool apply_one(json::value& doc, const difference& d, const std::vector<std::string>& segments) {
  const bool needs_value = d.op != body_op::remove;
  if (needs_value && !d.shadow) return false;
  if (segments.empty()) { // the root: add and replace set the whole document
    if (!needs_value) return false;
    doc = *d.shadow;
    return true;
  }
  json::value* parent = resolve_parent(doc, segments);
  if (parent == nullptr) return false;
  const std::string& last = segments.back();
  if (json::object* obj = parent->if_object()) {
    switch (d.op) {
    case body_op::add: obj->insert_or_assign(last, *d.shadow); return true;
    case body_op::remove: return obj->erase(last) == 1;
    case body_op::replace:
    case body_op::type: {
      json::value* member = obj->if_contains(last);
      if (member == nullptr) return false;
      *member = *d.shadow;
      return true;
    }
    case body_op::none: return true;
    }
    return false;
  }
  json::array* arr = parent->if_array();
  const auto index = parse_index(last);
  if (arr == nullptr || !index) return false;
  switch (d.op) {
  case body_op::add:
    if (*index > arr->size()) return false;
    arr->insert(arr->begin() + static_cast<std::ptrdiff_t>(*index), *d.shadow);
    return true;
  case body_op::remove:
    if (*index >= arr->size()) return false;
    arr->erase(arr->begin() + static_cast<std::ptrdiff_t>(*index));
    return true;
  case body_op::replace:
  case body_op::type:
    if (*index >= arr->size()) return false;
    (*arr)[*index] = *d.shadow;
    return true;
  case body_op::none: return true;
  }
  return false;
}

/// Compiles every pattern of `texts` into `out`; false at the first malformed one.
bool compile_all(const std::vector<std::string>& texts, std::vector<pointer_pattern>& out) {
  out.reserve(texts.size());
  for (const auto& text : texts) {
    auto pattern = pointer_pattern::compile(text);
    if (!pattern) return false;
    out.push_back(std::move(*pattern));
  }
  return true;
}

} // namespace

std::optional<json_diff_options> make_json_diff_options(const config::body_compare& body) {
  json_diff_options opts;
  if (!compile_all(body.ignore, opts.ignore)) return std::nullopt;
  if (!compile_all(body.unordered_arrays, opts.unordered_arrays)) return std::nullopt;
  opts.numeric_tolerance = body.numeric_tolerance;
  opts.null_equals_missing = body.null_equals_missing;
  return opts;
}

json_diff_result diff_json(const json::value& live, const json::value& shadow,
                           const json_diff_options& opts) {
  json_diff_result result;
  walker w(opts, &result);
  w.compare(live, shadow);
  if (!result.truncated || opts.max_differences == 0) return result;
  // More differences than may be listed: list coarser ones that still make a patch, whole
  // containers replaced, at the deepest level where they fit. At depth 0 one operation (the
  // root replaced) always does. Each try stops at max_differences + 1, so a try costs about
  // what the first walk did.
  std::size_t deepest = 0;
  for (const auto& d : result.differences)
    deepest = std::max<std::size_t>(deepest, std::count(d.path.begin(), d.path.end(), '/'));
  for (std::size_t limit = deepest;; --limit) {
    json_diff_result coarse;
    walker cw(opts, &coarse, limit);
    cw.compare(live, shadow);
    if (!coarse.truncated || limit == 0) {
      coarse.coarse = !coarse.truncated;
      // Both walks count only part of what ignore rules dropped: the larger part.
      coarse.suppressed = std::max(coarse.suppressed, result.suppressed);
      return coarse;
    }
  }
}

std::vector<difference> diff_json(const json::value& live, const json::value& shadow,
                                  const json_diff_options& opts, std::size_t& suppressed) {
  json_diff_result result = diff_json(live, shadow, opts);
  suppressed = result.suppressed;
  return std::move(result.differences);
}

bool json_equal(const json::value& live, const json::value& shadow, const json_diff_options& opts) {
  walker w(opts, nullptr);
  w.compare(live, shadow);
  return !w.found();
}

bool apply_patch(json::value& doc, const std::vector<difference>& diffs) {
  std::vector<std::string> segments;
  for (const auto& d : diffs) {
    if (d.kind != difference_kind::body || d.op == body_op::none) continue;
    if (!parse_pointer(d.path, segments)) return false;
    if (!apply_one(doc, d, segments)) return false;
  }
  return true;
}

} // namespace parallax::mirror::diff
