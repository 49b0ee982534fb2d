#pragma once
// Process logging through spdlog: text or JSON lines on stderr, level from the config.

#include "config/config.hpp"

namespace parallax::proxy::server {

/// Configures the default spdlog logger from `cfg` (safe to call again on reload).
void configure_logging(const config::logging& cfg);

} // namespace parallax::proxy::server
