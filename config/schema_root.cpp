// The root map of config.md (version and one key per section) and the checks that span
// sections: upstream names referenced by routes, and addresses bound twice.

#include "config/schema_builder.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "config/value_grammar.hpp"

namespace parallax::config::detail {

void schema_builder::build(const field& root, config& out) {
  section s(*this, root,
            {"version", "listeners", "admin", "workers", "limits", "upstreams", "routes", "reports",
             "logging"});
  if (!s.valid()) return;
  if (auto f = s.require("version")) {
    if (auto v = integer(*f, std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max())) {
      if (*v != 1) {
        // Other versions have another schema: their remaining keys would only add noise.
        fail(f->pos, f->path, "unsupported version " + std::to_string(*v) + "; only 1 is accepted");
        return;
      }
    }
  }
  if (auto f = s.require("listeners")) read_listeners(*f, out);
  if (auto f = s.get("admin")) read_admin(*f, out);
  if (auto f = s.get("workers")) read_workers(*f, out);
  if (auto f = s.get("limits")) read_limits(*f, out.limits);
  if (auto f = s.require("upstreams")) read_upstreams(*f, out);
  if (auto f = s.require("routes")) read_routes(*f, out);
  if (auto f = s.get("reports")) read_reports(*f, out.reports);
  if (auto f = s.get("logging")) read_logging(*f, out.logging);
  check_upstream_references(out);

  // Two sockets on the same HOST:PORT cannot both bind; port 0 always gets a fresh port.
  std::vector<std::pair<address, std::string>> bound;
  const auto claim = [&](const address& addr, const std::optional<field>& at) {
    if (!at || addr.port == 0) return;
    for (const auto& [other, other_path] : bound) {
      if (other == addr) {
        fail(at->pos, at->path, "address " + addr.text() + " is already used by " + other_path);
        return;
      }
    }
    bound.emplace_back(addr, at->path);
  };
  for (std::size_t i = 0; i < out.listeners.size() && i < listener_address_fields_.size(); ++i) {
    const auto& at = listener_address_fields_[i];
    if (at && !admin_address_field_ && out.listeners[i].addr == out.admin.addr) {
      fail(at->pos, at->path,
           "address " + out.admin.addr.text() +
               " is the admin listener's default address (set admin.address to another one)");
      continue;
    }
    claim(out.listeners[i].addr, at);
  }
  claim(out.admin.addr, admin_address_field_);
}

void schema_builder::check_upstream_references(const config& out) {
  if (!upstreams_valid_) return; // the missing/invalid upstreams map is already reported
  std::string known;
  for (const auto& [upstream_name, u] : out.upstreams)
    known += (known.empty() ? "" : ", ") + upstream_name;
  for (const upstream_reference& ref : references_)
    if (out.upstreams.count(ref.name) == 0)
      fail(ref.at.pos, ref.at.path,
           "unknown upstream " + quote_text(ref.name) + " (defined: " + known + ")");
}

} // namespace parallax::config::detail
