#pragma once
// The schema of config.md as a walker over the file's root map. Internal to the loader; its
// parts live in one file per section: schema_root.cpp (the root map and checks across
// sections), schema_listeners.cpp, schema_upstreams.cpp, schema_routes.cpp, schema_reports.cpp.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_walker.hpp"

namespace parallax::config::detail {

/// A reference to an upstream by name, checked once all upstream names are known.
struct upstream_reference {
  std::string name;
  field at;
};

/// Converts YAML nodes into a `config`, collecting every error with its position.
class schema_builder : public yaml_walker {
public:
  using yaml_walker::yaml_walker;

  /// Fills `out` from the root map of the file.
  void build(const field& root, config& out);

private:
  // schema_root.cpp
  void check_upstream_references(const config& out);
  // schema_listeners.cpp
  void read_listeners(const field& f, config& out);
  std::optional<listener_tls> read_listener_tls(const field& f);
  std::optional<std::vector<listener_protocol>> read_listener_protocols(const field& f);
  void read_admin(const field& f, config& out);
  void read_workers(const field& f, config& out);
  void read_limits(const field& f, limits& out);
  void read_http2_limits(const field& f, http2_limits& out);
  // schema_upstreams.cpp
  void read_upstreams(const field& f, config& out);
  void read_upstream(const field& f, upstream& out);
  void read_upstream_tls(const field& f, upstream_tls& out);
  void check_upstream_protocol(const field& at, const upstream& u);
  // schema_routes.cpp
  void read_routes(const field& f, config& out);
  void read_route(const field& f, std::map<std::string, int>& seen, route& out);
  void read_match(const field& f, route_match& out);
  void read_mirror(const field& f, const route& owner, mirror_policy& out);
  std::optional<sample_by> read_sample_by(const field& f);
  void read_rewrite(const field& f, rewrite_policy& out);
  void read_grpc_mirror(const field& f, grpc_mirror& out);
  void read_header_values(const field& f, std::vector<std::pair<std::string, std::string>>& out);
  void read_compare(const field& f, compare_policy& out);
  void read_header_compare(const field& f, header_compare& out);
  void read_body_compare(const field& f, body_compare& out);
  // schema_reports.cpp
  void read_reports(const field& f, reports& out);
  void read_discrepancies(const field& f, discrepancy_log& out);
  void read_summary(const field& f, summary_output& out);
  void read_redaction(const field& f, redaction& out);
  void read_logging(const field& f, logging& out);

  std::vector<upstream_reference> references_;
  bool upstreams_valid_ = false;
  std::vector<std::optional<field>> listener_address_fields_;
  std::optional<field> admin_address_field_;
};

} // namespace parallax::config::detail
