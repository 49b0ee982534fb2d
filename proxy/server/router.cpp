#include "proxy/server/router.hpp"

#include <algorithm>

namespace parallax::proxy::server {

bool route_matches(const config::route_match& m, const http::request_head& req) noexcept {
  const auto path = req.path();
  if (m.path_exact && path != *m.path_exact) return false;
  if (m.path_prefix && !path.starts_with(*m.path_prefix)) return false;
  if (!m.methods.empty() && std::none_of(m.methods.begin(), m.methods.end(),
                                         [&](const std::string& x) { return x == req.method; })) {
    return false;
  }
  if (m.host && !http::iequals(req.host(), *m.host)) return false;
  for (const auto& [name, value] : m.headers) {
    const auto v = req.headers.find(name);
    if (!v || *v != value) return false;
  }
  return true;
}

std::optional<std::size_t> router::match(const http::request_head& req) const noexcept {
  for (std::size_t i = 0; i < cfg_.routes.size(); ++i) {
    if (route_matches(cfg_.routes[i].match, req)) return i;
  }
  return std::nullopt;
}

} // namespace parallax::proxy::server
