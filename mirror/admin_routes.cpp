#include "mirror/admin_routes.hpp"

#include "mirror/engine.hpp"
#include "mirror/report/format.hpp"
#include "mirror/route_state.hpp"
#include "proxy/server/server.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <optional>
#include <string>

namespace parallax::mirror {
namespace {

namespace json = boost::json;
using proxy::server::admin_response;

admin_response json_response(int status, const json::value& v) {
  return {status, "application/json", json::serialize(v) + "\n"};
}

admin_response error_response(int status, std::string message) {
  return json_response(status, json::object{{"error", std::move(message)}});
}

// One route's mirroring as GET /mirror shows it.
json::object route_json(const route_state& r) {
  const auto over = r.sampler.percent_override();
  return {{"route", r.name},
          {"configured_percent", r.sampler.configured_percent()},
          {"override_percent", over ? json::value(*over) : json::value(nullptr)},
          {"paused", r.stats->paused.load(std::memory_order_relaxed)},
          {"effective_percent", r.effective_percent()}};
}

json::object all_routes_json(const engine& e) {
  json::array routes;
  for (const auto& r : e.generation()->routes) {
    if (r) routes.push_back(route_json(*r));
  }
  return {{"routes", std::move(routes)}};
}

// A runtime override: {"percent": P} (0 to 100) and/or {"paused": true|false}.
struct mirror_change {
  std::optional<double> percent;
  std::optional<bool> paused;
};

std::optional<mirror_change> parse_change(std::string_view body, std::string& error) {
  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    error = R"(expected a JSON object: {"percent": 0-100} or {"paused": true|false})";
    return std::nullopt;
  }
  mirror_change change;
  for (const auto& [key, value] : v.as_object()) {
    if (key == "percent") {
      const double p = value.is_number() ? value.to_number<double>() : NAN;
      if (!(p >= 0 && p <= 100)) {
        error = "percent must be a number from 0 to 100";
        return std::nullopt;
      }
      change.percent = p;
    } else if (key == "paused") {
      if (!value.is_bool()) {
        error = "paused must be true or false";
        return std::nullopt;
      }
      change.paused = value.as_bool();
    } else {
      error = "unknown key \"" + std::string(key) + "\" (percent, paused)";
      return std::nullopt;
    }
  }
  if (!change.percent && !change.paused) {
    error = R"(nothing to change: give "percent" or "paused")";
    return std::nullopt;
  }
  return change;
}

// Both run under the engine's control lock (engine::control): a reload in between cannot lose
// the change, and the next generation's sampler starts from it.
void apply(route_state& r, const mirror_change& c) {
  if (c.percent) r.set_percent_override(c.percent);
  if (c.paused) r.stats->paused.store(*c.paused, std::memory_order_relaxed);
}

void clear(route_state& r) {
  r.set_percent_override(std::nullopt);
  r.stats->paused.store(false, std::memory_order_relaxed);
}

void add_report_routes(proxy::server::admin_server& admin, engine& e) {
  admin.handle("GET", "/report", [&e](std::string_view, std::string_view) {
    return admin_response{200, "application/json", report::render_json(e.summary_json(), true)};
  });
  admin.handle("GET", "/report.html", [&e](std::string_view, std::string_view) {
    return admin_response{200, "text/html; charset=utf-8", report::render_html(e.summary_json())};
  });
  admin.handle("POST", "/report/reset", [&e](std::string_view, std::string_view) {
    return json_response(
        200,
        json::object{{"result", "ok"}, {"since", report::format_time(e.reset_window(), false)}});
  });
}

// Runtime control (proxy.md): overrides live in memory, read with no lock by the samplers.
void add_mirror_routes(proxy::server::admin_server& admin, engine& e) {
  admin.handle("GET", "/mirror", [&e](std::string_view, std::string_view) {
    return json_response(200, all_routes_json(e));
  });
  admin.handle("POST", "/mirror", [&e](std::string_view, std::string_view body) {
    std::string error;
    const auto change = parse_change(body, error);
    if (!change) return error_response(400, error);
    e.control(std::nullopt, [&](route_state& r) { apply(r, *change); });
    return json_response(200, all_routes_json(e));
  });
  admin.handle("DELETE", "/mirror", [&e](std::string_view, std::string_view) {
    e.control(std::nullopt, clear);
    return json_response(200, all_routes_json(e));
  });
  admin.handle_prefix("POST", "/mirror/",
                      [&e](std::string_view, std::string_view name, std::string_view body) {
                        std::string error;
                        const auto change = parse_change(body, error);
                        std::optional<json::object> shown;
                        const auto found = e.control(name, [&](route_state& r) {
                          if (!change) return;
                          apply(r, *change);
                          shown = route_json(r);
                        });
                        if (found == 0)
                          return error_response(404, "no mirrored route of that name");
                        if (!change) return error_response(400, error);
                        return json_response(200, *shown);
                      });
  admin.handle_prefix("DELETE", "/mirror/",
                      [&e](std::string_view, std::string_view name, std::string_view) {
                        std::optional<json::object> shown;
                        const auto found = e.control(name, [&](route_state& r) {
                          clear(r);
                          shown = route_json(r);
                        });
                        if (found == 0)
                          return error_response(404, "no mirrored route of that name");
                        return json_response(200, *shown);
                      });
}

} // namespace

void add_admin_routes(proxy::server::server& srv, engine& e) {
  add_report_routes(srv.admin(), e);
  add_mirror_routes(srv.admin(), e);
  srv.state().metrics.add_section([&e](std::string& out) { e.render_metrics(out); });
}

} // namespace parallax::mirror
