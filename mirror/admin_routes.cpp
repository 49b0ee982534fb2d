#include "mirror/admin_routes.hpp"

#include "mirror/engine.hpp"
#include "mirror/report/format.hpp"
#include "proxy/server/server.hpp"

namespace parallax::mirror {

void add_admin_routes(proxy::server::server& srv, const engine& e) {
  srv.admin().handle("/report", [&e](std::string_view, std::string_view) {
    return proxy::server::admin_response{200, "application/json",
                                         report::render_json(e.summary_json(), true)};
  });
  srv.admin().handle("/report.html", [&e](std::string_view, std::string_view) {
    return proxy::server::admin_response{200, "text/html; charset=utf-8",
                                         report::render_html(e.summary_json())};
  });
  srv.state().metrics.add_section([&e](std::string& out) { e.render_metrics(out); });
}

} // namespace parallax::mirror
