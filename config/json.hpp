#pragma once
// The effective configuration as JSON for admin `GET /config`, with secrets removed.

#include <boost/json/value.hpp>

#include "config/config.hpp"

namespace parallax::config {

/// Every key of `cfg` as JSON; TLS key paths and values of redacted headers are omitted.
boost::json::value to_json(const config& cfg);

} // namespace parallax::config
