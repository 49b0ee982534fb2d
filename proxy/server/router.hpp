#pragma once
// First-match routing on path prefix/exact, method, host and headers (config.md `routes`).

#include <cstddef>
#include <optional>

#include "config/config.hpp"
#include "proxy/http/message.hpp"

namespace parallax::proxy::server {

/// Chooses the route of a request; immutable once built, shared by all workers.
class router {
public:
  /// Routes of `cfg`, in order; `cfg` must outlive the router.
  explicit router(const config::config& cfg) : cfg_(cfg) {}
  /// Index of the first route whose match holds for `req`, or nullopt (404).
  [[nodiscard]] std::optional<std::size_t> match(const http::request_head& req) const noexcept;

private:
  const config::config& cfg_;
};

/// Whether one route's match conditions all hold for `req`.
bool route_matches(const config::route_match& m, const http::request_head& req) noexcept;

} // namespace parallax::proxy::server
