#pragma once
// A small HTTP/1.1 GET client of admin URLs: `parallax probe URL` (container health checks in an
// image without curl, proxy.md "Command line") and `parallax report http://HOST:PORT` (a running
// parallax's /report).

#include <chrono>
#include <cstddef>
#include <string>

namespace parallax::proxy::server {

/// What a GET got.
struct http_get_result {
  int status = 0;          // 0 when no status line arrived
  std::string status_line; // "HTTP/1.1 200 OK", when one arrived
  std::string body;        // the response body (after the head), as received
  std::string error;       // why there is no status line; empty when there is one
};

/// GETs `url` (`http://HOST:PORT/PATH`; HOST a name or an IP literal, `[v6]` too) with
/// `Connection: close` and reads until the server closes, within `timeout` for everything; a
/// response longer than `max_bytes` is an error.
http_get_result http_get(const std::string& url, std::chrono::milliseconds timeout,
                         std::size_t max_bytes);

/// What a probe found.
struct probe_result {
  bool ok = false;     // a 2xx status
  int status = 0;      // 0 when no status line arrived
  std::string message; // the status line, or why there is none
};

/// GETs `url` (http_get()) for a health check: ok on a 2xx status.
probe_result probe(const std::string& url, std::chrono::milliseconds timeout);

} // namespace parallax::proxy::server
