// summary::merge_json: a `parallax.summary/v1` document's endpoints added into a summary (for
// `parallax report` given summary files or a running parallax's /report). The document is read
// defensively: what identifies an endpoint or a difference must be there, counts that are
// missing or not counts read as 0.

#include "mirror/report/summary.hpp"

#include <boost/json/array.hpp>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;
using diff::difference_kind;

// A count read back: a non-negative integer, else 0.
std::uint64_t count_of(const json::value* v) noexcept {
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return 0;
}

std::uint64_t count_at(const json::object& o, std::string_view key) noexcept {
  return count_of(o.if_contains(key));
}

const json::string* string_at(const json::object& o, std::string_view key) noexcept {
  const auto* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_string();
}

std::optional<json::value> value_at(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key)) return *v;
  return std::nullopt;
}

} // namespace

bool summary::merge_json(const json::object& document, std::string& error) {
  const auto* schema = string_at(document, "schema");
  if (schema == nullptr || *schema != summary_schema) {
    error = "not a " + std::string(summary_schema) + " document (\"schema\")";
    return false;
  }
  const auto* endpoints = document.if_contains("endpoints");
  if (endpoints == nullptr || !endpoints->is_array()) {
    error = "\"endpoints\" is not an array";
    return false;
  }
  const std::lock_guard lock(mutex_);
  for (const auto& item : endpoints->get_array()) {
    const auto* o = item.if_object();
    if (o == nullptr) {
      error = "an endpoint is not an object";
      return false;
    }
    if (!merge_endpoint_locked(*o, error)) return false;
  }
  return true;
}

bool summary::merge_endpoint_locked(const json::object& o, std::string& error) {
  const auto* name = string_at(o, "endpoint");
  if (name == nullptr) {
    error = "an endpoint without \"endpoint\"";
    return false;
  }
  const auto* route = string_at(o, "route");
  auto& e =
      endpoint_locked(route == nullptr ? std::string_view() : std::string_view(*route), *name);
  e.sampled += count_at(o, "sampled");
  e.match += count_at(o, "match");
  e.differ += count_at(o, "differ");
  e.shadow_error += count_at(o, "shadow_error");
  e.other_differences += count_at(o, "other_differences");
  // The summaries' own regression ratio, unless this report was given one.
  if (const auto* ratio = o.if_contains("regression_ratio");
      ratio != nullptr && ratio->is_number() && ratio_for(e.route) == 0) {
    e.regression_ratio = std::max(e.regression_ratio, ratio->to_number<double>());
  }

  if (const auto* list = o.if_contains("differences"); list != nullptr && list->is_array()) {
    for (const auto& item : list->get_array()) {
      const auto* d = item.if_object();
      const auto* kind_name = d == nullptr ? nullptr : string_at(*d, "kind");
      const auto kind =
          kind_name == nullptr ? std::nullopt : diff::difference_kind_named(*kind_name);
      if (!kind) continue; // a kind of a later version: not counted, like in records
      difference_stat prototype;
      prototype.kind = *kind;
      if (const auto* noise = d->if_contains("noise"); noise != nullptr && noise->is_bool()) {
        prototype.noise = noise->get_bool();
      }
      if (*kind == difference_kind::body || diff::is_named_kind(*kind)) {
        const auto* where = string_at(*d, *kind == difference_kind::body ? "path" : "name");
        if (where == nullptr) {
          error = "a " + std::string(*kind_name) + " difference without its path or name";
          return false;
        }
        prototype.where = std::string(*where);
      } else if (diff::is_status_kind(*kind)) {
        prototype.live = value_at(*d, "live");
        prototype.shadow = value_at(*d, "shadow");
      }
      auto* stat = difference_locked(e, prototype, count_at(*d, "count"));
      const auto* examples = d->if_contains("examples");
      if (stat == nullptr || examples == nullptr || !examples->is_array()) continue;
      for (const auto& x : examples->get_array()) {
        const auto* ex = x.if_object();
        const auto* id = ex == nullptr ? nullptr : string_at(*ex, "id");
        if (id == nullptr) continue;
        difference_example example;
        example.id = std::string(*id);
        if (const auto* path = string_at(*ex, "path")) example.path = std::string(*path);
        example.live = value_at(*ex, "live");
        example.shadow = value_at(*ex, "shadow");
        add_example_locked(*stat, std::move(example));
      }
    }
  }
  if (const auto* errors = o.if_contains("shadow_errors");
      errors != nullptr && errors->is_object()) {
    for (const auto& [kind, n] : errors->get_object()) {
      count_shadow_error_locked(e, std::string(kind), count_of(&n));
    }
  }
  if (const auto* h = o.if_contains("latency_histogram_ms"); h != nullptr && h->is_object()) {
    for (auto [side, histogram] :
         {std::pair{"live", &e.live_latency}, std::pair{"shadow", &e.shadow_latency}}) {
      if (const auto* v = h->get_object().if_contains(side);
          v != nullptr && !histogram->merge_json(*v, error)) {
        error = std::string(*name) + ": " + side + ": " + error;
        return false;
      }
    }
  }
  if (const auto* ids = o.if_contains("examples"); ids != nullptr && ids->is_array()) {
    for (const auto& id : ids->get_array()) {
      if (const auto* s = id.if_string()) add_endpoint_example_locked(e, std::string(*s));
    }
  }
  return true;
}

} // namespace parallax::mirror::report
