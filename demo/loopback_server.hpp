#pragma once
// The demo's built-in services run on this: a TCP server on 127.0.0.1 (port chosen by the
// system), one thread of its own, one coroutine per accepted connection.

#include <functional>
#include <memory>
#include <string>

#include "proxy/net/asio.hpp"

namespace parallax::demo {

class loopback_server {
public:
  /// Serves every connection with `serve` (Nagle off) until destroyed.
  using handler = std::function<proxy::awaitable<void>(proxy::tcp::socket)>;
  explicit loopback_server(handler serve);
  ~loopback_server();
  loopback_server(const loopback_server&) = delete;
  loopback_server& operator=(const loopback_server&) = delete;
  /// "127.0.0.1:PORT".
  [[nodiscard]] std::string address() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace parallax::demo
