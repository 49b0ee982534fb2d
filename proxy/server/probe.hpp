#pragma once
// `parallax probe URL`: one GET of an admin endpoint, for container health checks in an image
// without curl (proxy.md "Command line").

#include <chrono>
#include <string>

namespace parallax::proxy::server {

/// What a probe found.
struct probe_result {
  bool ok = false;     // a 2xx status
  int status = 0;      // 0 when no status line arrived
  std::string message; // the status line, or why there is none
};

/// GETs `url` (`http://HOST:PORT/PATH`; HOST a name or an IP literal, `[v6]` too) with
/// `Connection: close`, within `timeout` for everything.
probe_result probe(const std::string& url, std::chrono::milliseconds timeout);

} // namespace parallax::proxy::server
