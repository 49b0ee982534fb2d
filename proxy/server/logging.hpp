#pragma once
// Process logging through spdlog: text or JSON lines on stderr, level from the config.

#include <string_view>

#include "config/config.hpp"

namespace parallax::proxy::server {

/// Configures the default spdlog logger from `cfg` (safe to call again on reload).
void configure_logging(const config::logging& cfg);

/// Logs `text` at info level whatever the configured level (the "ready" line scripts wait for).
void log_always(std::string_view text);

} // namespace parallax::proxy::server
